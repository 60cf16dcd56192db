"""Webhooks, several workers on one database, and a bot killed with SIGKILL mid-session."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sqlite3
import sys
from pathlib import Path

import aiohttp
import pytest

from bot.config import PROJECT_ROOT
from bot.telegram.app import BotRuntime
from tests.emulator import BotApiEmulator
from tests.emulator.pytest_plugin import TEST_TOKEN
from tests.telegram.conftest import BANK, bot_settings

SECRET = "test-Secret_123"
GROUP = -4001


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rows(database: Path, sql: str, *args: object) -> list[tuple]:
    with sqlite3.connect(database) as db:
        return db.execute(sql, args).fetchall()


async def webhook_worker(api: BotApiEmulator, database: Path, port: int, **overrides: str) -> BotRuntime:
    settings = bot_settings(
        api,
        database,
        WEBHOOK_URL="https://quiz.example.test/hook",
        WEBHOOK_LISTEN="127.0.0.1",
        WEBHOOK_PORT=str(port),
        WEBHOOK_SECRET=SECRET,
        **overrides,
    )
    runtime = BotRuntime(settings, BANK)
    await runtime.start(webhook=True)
    return runtime


async def post(port: int, update: dict, secret: str | None = SECRET) -> int:
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"http://127.0.0.1:{port}/hook", json=update, headers=headers) as reply,
    ):
        return reply.status


async def test_the_webhook_checks_its_secret_on_every_request(bot_api: BotApiEmulator, tmp_path: Path) -> None:
    port = free_port()
    runtime = await webhook_worker(bot_api, tmp_path / "q.db", port)
    try:
        hook = await bot_api.wait_for("setWebhook")
        assert hook.params["url"] == "https://quiz.example.test/hook" and hook.params["secret_token"] == SECRET
        user = bot_api.make_user(11, "Wes", language_code="en")
        for bad in (None, "wrong", ""):
            update = bot_api.send_text(user, "/start")
            assert await post(port, update, bad) == 403
        await bot_api.wait_idle(quiet=0.3)
        assert not bot_api.calls_to("sendMessage", chat_id=11)
        mark = bot_api.mark()
        assert await post(port, bot_api.send_text(user, "/start")) == 200
        greeting = await bot_api.wait_for("sendMessage", since=mark, chat_id=11)
        assert "Hi Wes!" in greeting.params["text"]
    finally:
        await runtime.stop()


async def test_two_workers_on_one_database_count_once_and_reveal_once(bot_api: BotApiEmulator, tmp_path: Path) -> None:
    database = tmp_path / "q.db"
    ports = free_port(), free_port()
    fast = {
        "GROUP_QUESTION_SECONDS": "2",
        "GROUP_REVEAL_SECONDS": "0.1",
        "GROUP_MIN_CYCLE_SECONDS": "0.1",
        "QUIZ_LENGTH": "2",
    }
    workers = [await webhook_worker(bot_api, database, port, **fast) for port in ports]
    try:
        users = [bot_api.make_user(2000 + n, f"P{n}", language_code="en") for n in range(3)]
        bot_api.add_group(GROUP, "Two workers", type="supergroup", admins=[users[0]], members=users[1:])
        mark = bot_api.mark()
        assert await post(ports[0], bot_api.send_text(users[0], "/quiz", GROUP)) == 200
        lobby = (await bot_api.wait_for("sendMessage", since=mark, chat_id=GROUP)).result
        start = next(
            b["callback_data"]
            for row in lobby["reply_markup"]["inline_keyboard"]
            for b in row
            if b["callback_data"].startswith("b:")
        )
        mark = bot_api.mark()
        assert await post(ports[1], bot_api.press_button(users[0], lobby, start)) == 200  # the other worker starts it
        poll = (await bot_api.wait_for("sendPoll", since=mark, chat_id=GROUP)).result
        # The same answer delivered to both workers (a retried webhook delivery) counts once.
        answer = bot_api.answer_poll(users[1], poll["poll"]["id"], [0], poll_update=False)
        statuses = await asyncio.gather(post(ports[0], answer), post(ports[1], answer))
        assert statuses == [200, 200]
        await asyncio.sleep(0.5)
        assert rows(database, "SELECT count(*) FROM answers") == [(1,)]
        # Nobody else answers: both workers see the deadline (timer or sweep) and exactly one reveals it.
        mark = bot_api.mark()
        await bot_api.wait_for(
            "sendMessage", lambda c: "Question 1/2: the answer" in c.params["text"], since=mark, timeout=15
        )
        await bot_api.wait_for("sendPoll", since=mark, chat_id=GROUP, timeout=15)
        await asyncio.sleep(3)
        reveals = bot_api.calls_to("sendMessage", lambda c: "Question 1/2: the answer" in c.params["text"])
        assert len(reveals) == 1
        assert len(bot_api.calls_to("sendPoll", chat_id=GROUP)) == 2
    finally:
        for worker in workers:
            await worker.stop()


async def start_process(api: BotApiEmulator, database: Path) -> asyncio.subprocess.Process:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "TELEGRAM_BOT_TOKEN": TEST_TOKEN,
        "TELEGRAM_API_BASE_URL": api.base_url,
        "DATABASE_URL": f"sqlite:///{database}",
        "QUIZ_LENGTH": "2",
        "GROUP_QUESTION_SECONDS": "4",
        "GROUP_REVEAL_SECONDS": "0.1",
        "GROUP_MIN_CYCLE_SECONDS": "0.1",
    }
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        "--env-file",
        "/nonexistent",
        cwd=PROJECT_ROOT,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )


@pytest.mark.slow
async def test_kill_9_mid_group_session_and_mid_drill_loses_nothing(bot_api: BotApiEmulator, tmp_path: Path) -> None:
    api, database = bot_api, tmp_path / "q.db"
    process = await start_process(api, database)
    try:
        await api.wait_for("getUpdates", timeout=20)
        users = [api.make_user(3000 + n, f"K{n}", language_code="en") for n in range(4)]
        api.add_group(GROUP, "Kill", type="supergroup", admins=[users[0]], members=users[1:])
        mark = api.mark()
        api.send_text(users[0], "/quiz", GROUP)
        lobby = (await api.wait_for("sendMessage", since=mark, chat_id=GROUP, timeout=10)).result
        join, start = (b["callback_data"] for b in lobby["reply_markup"]["inline_keyboard"][0])
        for user in users[1:]:
            api.press_button(user, lobby, join)
        await api.wait_for("answerCallbackQuery", since=mark, count=3)
        mark = api.mark()
        api.press_button(users[0], lobby, start)
        poll = (await api.wait_for("sendPoll", since=mark, chat_id=GROUP, timeout=10)).result
        for user in users[:2]:
            api.answer_poll(user, poll["poll"]["id"], [0], poll_update=False)
        for _ in range(100):
            if rows(database, "SELECT count(*) FROM answers")[0][0] == 2:
                break
            await asyncio.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        await process.wait()
        assert rows(database, "SELECT count(*) FROM answers") == [(2,)]  # acknowledged answers survive SIGKILL
        api.answer_poll(users[2], poll["poll"]["id"], [0], poll_update=False)  # arrives while the bot is down
        mark = api.mark()
        process = await start_process(api, database)
        reveal = await api.wait_for("sendMessage", lambda c: "the answer" in c.params["text"], since=mark, timeout=20)
        assert "3 answered" in reveal.params["text"]
        await api.wait_for("sendPoll", since=mark, chat_id=GROUP, timeout=20)  # the session goes on
        assert rows(database, "SELECT count(*), count(DISTINCT user_id) FROM answers WHERE position = 0") == [(3, 3)]
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            await process.wait()
