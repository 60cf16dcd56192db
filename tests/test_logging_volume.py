"""How much the bot logs at INFO while idle: the real bot on the local emulator, its scheduler driven through a
simulated minute (issue: "Running job sweep" / "executed successfully" every 2 seconds were 60 of 69 lines in an idle
minute, and pushed "serving N questions" out of `journalctl -n 20` in 20 seconds).

The clock is simulated for APScheduler alone (PTB's JobQueue runs on it): its scheduler and executor read the time
from a clock that jumps to the next job's run time, and the scheduler is woken there. Everything else is real: the
jobs as the bot schedules them (the group sweep every 2 seconds, the drill sweep every 30), their runs on the
executor, and the log records they make, through the logging set-up `python -m bot run` uses."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from datetime import datetime, timedelta, tzinfo

import pytest
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot import __version__
from bot.logs import loud_routine_logs, quiet_routine_logs
from bot.telegram.app import BotRuntime, storage_description
from tests.emulator import BotApiEmulator
from tests.telegram.conftest import start_bot

MINUTE = 60.0
SWEEP_EVERY = 2.0  # bot/telegram/group.py SWEEP_SECONDS: the most frequent job


class SimulatedClock:
    """APScheduler's `datetime`, whose now() runs `offset` ahead of the real clock; `offset` only grows."""

    def __init__(self) -> None:
        self.offset = timedelta()
        clock = self

        class Datetime(datetime):
            @classmethod
            def now(cls, tz: tzinfo | None = None) -> datetime:  # type: ignore[override]
                return datetime.now(tz) + clock.offset

        self.datetime = Datetime


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> SimulatedClock:
    simulated = SimulatedClock()
    monkeypatch.setattr("apscheduler.schedulers.base.datetime", simulated.datetime)
    monkeypatch.setattr("apscheduler.executors.base.datetime", simulated.datetime)
    return simulated


@pytest.fixture
def production_filters() -> Iterator[None]:
    """The routine-record filters `configure_logging` installs for `python -m bot run`, removed afterwards."""
    quiet_routine_logs()
    yield
    loud_routine_logs()


def scheduler_of(runtime: BotRuntime) -> AsyncIOScheduler:
    assert runtime.application is not None and runtime.application.job_queue is not None
    scheduler = runtime.application.job_queue.scheduler
    assert isinstance(scheduler, AsyncIOScheduler)
    return scheduler


async def idle(scheduler: AsyncIOScheduler, clock: SimulatedClock, seconds: float) -> int:
    """Let `seconds` of simulated time pass: jump to each job's run time in turn, wake the scheduler there and wait
    for the runs it starts to end. Returns how many job runs there were."""
    runs: list[JobExecutionEvent] = []
    scheduler.add_listener(runs.append, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    executor = scheduler._lookup_executor("default")
    end = datetime.now(scheduler.timezone) + clock.offset + timedelta(seconds=seconds)
    try:
        while True:
            due = min(job.next_run_time for job in scheduler.get_jobs() if job.next_run_time is not None)
            if due > end:
                break
            clock.offset = max(clock.offset, due - datetime.now(scheduler.timezone))
            scheduler.wakeup()  # runs on the event loop, soon
            for _ in range(500):
                await asyncio.sleep(0.002)
                if not executor._instances and not any(j.next_run_time <= due for j in scheduler.get_jobs()):
                    break
            else:
                raise AssertionError("a job run did not end")
    finally:
        scheduler.remove_listener(runs.append)
    clock.offset = max(clock.offset, end - datetime.now(scheduler.timezone))
    return len(runs)


def lines(caplog: pytest.LogCaptureFixture, since: int = 0) -> list[str]:
    return [f"{r.levelname} {r.name}: {r.getMessage()}" for r in caplog.records[since:] if r.levelno >= logging.INFO]


async def test_an_idle_minute_logs_nothing_at_info_and_the_job_runs_at_debug(
    bot_api: BotApiEmulator, tmp_path, caplog: pytest.LogCaptureFixture, clock: SimulatedClock, production_filters
) -> None:
    caplog.set_level(logging.INFO)
    runtime = await start_bot(bot_api, f"sqlite:///{tmp_path / 'quiz.db'}")
    try:
        scheduler = scheduler_of(runtime)
        start_up = lines(caplog)
        assert len(start_up) == 2, start_up
        assert start_up[0].startswith(
            f"INFO bot.telegram.app: deepfake-quiz-bot {__version__} starting: polling, SQLite"
        )
        assert "serving" in start_up[1] and "questions" in start_up[1]

        mark = len(caplog.records)
        runs = await idle(scheduler, clock, MINUTE)
        assert runs >= MINUTE / SWEEP_EVERY - 3, "the simulated minute did not run the jobs"
        idle_lines = lines(caplog, mark)
        assert len(idle_lines) <= 3, idle_lines  # a handful at most; in fact none
        assert not [r for r in caplog.records[mark:] if r.name.startswith("apscheduler")]

        # At DEBUG the job runs are still there, as DEBUG records.
        caplog.set_level(logging.DEBUG)
        mark = len(caplog.records)
        runs = await idle(scheduler, clock, 10.0)
        running = [r for r in caplog.records[mark:] if r.getMessage().startswith('Running job "sweep')]
        assert runs >= 4 and len(running) >= 4
        assert {r.levelname for r in running} == {"DEBUG"}
        assert not lines(caplog, mark)

        # Without the filters, the same idle time floods INFO as the issue describes: two lines per job run.
        loud_routine_logs()
        caplog.set_level(logging.INFO)
        mark = len(caplog.records)
        runs = await idle(scheduler, clock, 10.0)
        assert len([line for line in lines(caplog, mark) if "apscheduler.executors" in line]) == 2 * runs
        quiet_routine_logs()
    finally:
        await runtime.stop()
    assert [line for line in lines(caplog) if "telegram.ext.Application" in line] == []  # PTB's start/stop: DEBUG


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("sqlite:////var/lib/quiz/quiz.db", "SQLite /var/lib/quiz/quiz.db"),
        ("postgresql://quiz:S3cret@db.internal:5432/quiz", "PostgreSQL db.internal:5432/quiz"),
        ("postgresql://quiz@db/quiz?password=S3cret", "PostgreSQL db/quiz"),
    ],
)
def test_the_start_line_names_the_storage_never_its_secrets(url: str, shown: str) -> None:
    assert storage_description(url) == shown
