"""A database that is locked for a while: the bot waits, retries and answers; past that, one clear log line.

SQLite only: the lock is another sqlite3 connection's `BEGIN EXCLUSIVE` on the bot's file, and the line quotes
SQLite's own "database is locked". PostgreSQL's faults (retried, lasting, an unreachable server) are tested in
tests/storage/test_postgres.py.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading

import pytest

from tests.telegram.conftest import RunningBot

SQLITE_LOCK = "locks the bot's file with sqlite3 BEGIN EXCLUSIVE; the line quotes SQLite's 'database is locked'"


def hold_lock(path: str, seconds: float, taken: threading.Event) -> None:
    db = sqlite3.connect(path, timeout=0)
    db.execute("BEGIN EXCLUSIVE")
    taken.set()
    threading.Event().wait(seconds)
    db.rollback()
    db.close()


@pytest.mark.sqlite_only(SQLITE_LOCK)
async def test_a_briefly_locked_database_is_waited_for(bot: RunningBot) -> None:
    user = bot.api.make_user(900, "Lu", language_code="en")
    taken = threading.Event()
    holder = threading.Thread(target=hold_lock, args=(bot.sqlite_file, 1.5, taken))
    holder.start()
    await asyncio.to_thread(taken.wait)
    mark = bot.api.mark()
    bot.api.send_text(user, "/quiz")
    reply = await bot.api.wait_for("sendMessage", since=mark, chat_id=900, timeout=10)
    holder.join()
    assert reply.params["text"].startswith("Question 1/3")


@pytest.mark.slow
@pytest.mark.sqlite_only(SQLITE_LOCK)
async def test_a_database_locked_too_long_gives_one_clear_line_and_the_bot_goes_on(
    bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    user = bot.api.make_user(901, "Mo", language_code="en")
    taken = threading.Event()
    holder = threading.Thread(target=hold_lock, args=(bot.sqlite_file, 7.0, taken))
    holder.start()
    await asyncio.to_thread(taken.wait)
    with caplog.at_level(logging.ERROR):
        bot.api.send_text(user, "/quiz")
        for _ in range(200):
            if "the database is unavailable" in caplog.text:
                break
            await asyncio.sleep(0.05)
    await asyncio.to_thread(holder.join)
    assert "the database is unavailable (database is locked); this update was not processed" in caplog.text
    assert "Traceback" not in caplog.text
    mark = bot.api.mark()
    bot.api.send_text(user, "/quiz")
    assert (
        (await bot.api.wait_for("sendMessage", since=mark, chat_id=901, timeout=10))
        .params["text"]
        .startswith("Question 1/3")
    )
