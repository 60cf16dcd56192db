"""Wake-ups on PTB's JobQueue, by name: one timer per group session or drill, re-armed as it moves on.

When something is due is the core's rule (`GroupSession.due_at`, `Drill.due_at`, `core.deadline`); this module only
turns a due time into a job. A timer is a convenience, not the record: the deadline is stored, every worker sweeps
for overdue ones now and then, and the version-checked move lets exactly one of them act.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Coroutine
from typing import Any

from ..core.deadline import wait_seconds
from .context import BotApplication, BotContext

JobCallback = Callable[[BotContext], Coroutine[Any, Any, None]]


def arm(
    application: BotApplication,
    name: str,
    due_at: float | None,
    callback: JobCallback,
    data: str,
    *,
    at_least: float = 0.0,
) -> None:
    """Wake `callback` at `due_at`, replacing any earlier wake-up of that name; None leaves none armed."""
    disarm(application, name)
    if due_at is None or application.job_queue is None:
        return
    delay = wait_seconds(due_at, time.time(), at_least=at_least)
    application.job_queue.run_once(callback, delay, data=data, name=name)


def disarm(application: BotApplication, *names: str) -> None:
    if application.job_queue is None:
        return
    for name in names:
        for job in application.job_queue.get_jobs_by_name(name):
            job.schedule_removal()


def batch(application: BotApplication, name: str, delay: float, callback: JobCallback, data: str) -> None:
    """Run `callback` in `delay` seconds unless it is already waiting to: changes that come together (joins,
    answers) are shown in one edit rather than one each."""
    if application.job_queue is not None and not application.job_queue.get_jobs_by_name(name):
        application.job_queue.run_once(callback, delay, data=data, name=name)


def sweep(application: BotApplication, name: str, callback: JobCallback, *, every: float, first: float) -> None:
    """Run `callback` every `every` seconds from `first` on: the search for overdue deadlines."""
    if application.job_queue is not None:
        application.job_queue.run_repeating(callback, interval=every, first=first, name=name)


def job_data(context: BotContext) -> str:
    """The id a job was armed with."""
    assert context.job is not None
    return str(context.job.data)
