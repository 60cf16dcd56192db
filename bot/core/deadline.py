"""When something timed is due: one rule for group quiz deadlines and classroom drill timers.

A timer wakes the bot at a deadline; the deadline itself lives in the stored value (a group session, a drill), so a
restarted or second worker re-arms from the store and the move at the deadline stays version-checked.
"""

from __future__ import annotations

# A timer may fire a hair before its deadline (the event loop's clock and the wall clock differ by milliseconds):
# that still counts as on time, or the wake-up would find nothing due and the move would wait for the next sweep.
DUE_SLACK = 0.05


def is_due(due_at: float | None, now: float) -> bool:
    """Whether a deadline has come (None: nothing is timed)."""
    return due_at is not None and due_at <= now + DUE_SLACK


def wait_seconds(due_at: float, now: float, *, at_least: float = 0.0) -> float:
    """How long to sleep before `due_at`: never negative, and never less than `at_least` (a grace after a restart,
    so the backlog of updates is read before an overdue deadline fires)."""
    return max(at_least, due_at - now, 0.0)
