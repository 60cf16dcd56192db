"""Telegram's limits that decide whether a question can go out as a native quiz poll.

Kept in the core (which may not import `telegram`) as plain numbers; a test compares them with
`telegram.constants.PollLimit` so a Bot API change shows up as a failing test, not a rejected poll.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class PollLimits:
    """Bounds for a native Telegram quiz poll."""

    max_question_chars: int = 300
    min_options: int = 2
    max_options: int = 12
    max_option_chars: int = 100
    max_explanation_chars: int = 200
    max_explanation_line_feeds: int = 2


POLL_LIMITS = PollLimits()


def poll_misfits(prompt: str, options: list[str], explanation: str, limits: PollLimits = POLL_LIMITS) -> list[str]:
    """Why this text cannot be a quiz poll (empty when it fits)."""
    reasons: list[str] = []
    if len(prompt) > limits.max_question_chars:
        reasons.append(f"question has {len(prompt)} characters (poll limit {limits.max_question_chars})")
    if not limits.min_options <= len(options) <= limits.max_options:
        reasons.append(f"{len(options)} options (poll limit {limits.min_options}-{limits.max_options})")
    for number, option in enumerate(options, 1):
        if len(option) > limits.max_option_chars:
            reasons.append(f"option {number} has {len(option)} characters (poll limit {limits.max_option_chars})")
    if len(explanation) > limits.max_explanation_chars:
        reasons.append(f"explanation has {len(explanation)} characters (poll limit {limits.max_explanation_chars})")
    if explanation.count("\n") > limits.max_explanation_line_feeds:
        reasons.append(
            f"explanation has {explanation.count(chr(10))} line breaks (poll limit {limits.max_explanation_line_feeds})"
        )
    return reasons
