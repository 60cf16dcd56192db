"""Webhooks, several workers on one database, and a bot process killed with SIGKILL mid group session and mid
classroom drill (on SQLite, and on PostgreSQL with TEST_DATABASE_URL, as every test here: see conftest.py).
"""

from __future__ import annotations

import asyncio
import csv
import io
import os
import signal
import socket
import sys

import aiohttp
import pytest

from bot.config import PROJECT_ROOT
from bot.telegram.app import BotRuntime
from tests.emulator import BotApiEmulator
from tests.emulator.pytest_plugin import TEST_TOKEN
from tests.telegram.conftest import BANK, bot_settings, settled, stored
from tests.telegram.test_drill import TEACHER, buttons, data_for, join, make_drill, press, right_letter_index, students

SECRET = "test-Secret_123"
GROUP = -4001


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def answer_count(database_url: str) -> int:
    """How many answers the database holds (read beside the bot, which may be another process or down)."""
    async with stored(database_url) as store:
        return len(await store.answers())


async def first_answerers(database_url: str) -> list[int]:
    """Who has an answer stored to a first question, in id order (one entry per answer)."""
    async with stored(database_url) as store:
        return sorted(a.user_id for a in await store.answers() if a.position == 0)


async def drill_answers(database_url: str) -> list[tuple[int, int, int, str | None]]:
    """(student, question, right, how sure) of every drill answer stored, by student."""
    async with stored(database_url) as store:
        answers = [a for a in await store.answers() if a.context == "drill"]
    return sorted(
        (a.user_id, a.position, int(a.correct), a.confidence.value if a.confidence else None) for a in answers
    )


async def webhook_worker(api: BotApiEmulator, database_url: str, port: int, **overrides: str) -> BotRuntime:
    settings = bot_settings(
        api,
        database_url,
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


async def test_the_webhook_checks_its_secret_on_every_request(bot_api: BotApiEmulator, database_url: str) -> None:
    port = free_port()
    runtime = await webhook_worker(bot_api, database_url, port)
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


@pytest.mark.slow
async def test_two_workers_on_one_database_count_once_and_reveal_once(
    bot_api: BotApiEmulator, database_url: str
) -> None:
    ports = free_port(), free_port()
    fast = {
        "GROUP_QUESTION_SECONDS": "2",
        "GROUP_REVEAL_SECONDS": "0.1",
        "GROUP_MIN_CYCLE_SECONDS": "0.1",
        "QUIZ_LENGTH": "2",
    }
    workers = [await webhook_worker(bot_api, database_url, port, **fast) for port in ports]
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
        assert await settled(lambda: answer_count(database_url), 1) == 1
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
        assert await answer_count(database_url) == 1  # still once, long after both deliveries
    finally:
        for worker in workers:
            await worker.stop()


async def serving(api: BotApiEmulator) -> None:
    """Wait until the bot process is about to poll: PTB deletes any webhook first, then calls getUpdates. (Waiting for
    that getUpdates to be answered took its whole 10 s long poll, with no update to end it early.)"""
    await api.wait_for("deleteWebhook", timeout=20)


async def start_process(api: BotApiEmulator, database_url: str) -> asyncio.subprocess.Process:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "TELEGRAM_BOT_TOKEN": TEST_TOKEN,
        "TELEGRAM_API_BASE_URL": api.base_url,
        "DATABASE_URL": database_url,
        "QUIZ_LENGTH": "2",
        "PROJECTOR_PORT": "0",  # a free port: other tests' bots run beside this one
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
async def test_kill_9_mid_group_session_loses_nothing(bot_api: BotApiEmulator, database_url: str) -> None:
    api = bot_api
    process = await start_process(api, database_url)
    try:
        await serving(api)
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
        await settled(lambda: answer_count(database_url), 2)
        process.send_signal(signal.SIGKILL)
        await process.wait()
        assert await answer_count(database_url) == 2  # acknowledged answers survive SIGKILL
        api.answer_poll(users[2], poll["poll"]["id"], [0], poll_update=False)  # arrives while the bot is down
        mark = api.mark()
        process = await start_process(api, database_url)
        reveal = await api.wait_for("sendMessage", lambda c: "the answer" in c.params["text"], since=mark, timeout=20)
        assert "3 answered" in reveal.params["text"]
        await api.wait_for("sendPoll", since=mark, chat_id=GROUP, timeout=20)  # the session goes on
        assert await first_answerers(database_url) == [u["id"] for u in users[:3]]
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            await process.wait()


@pytest.mark.slow
async def test_kill_9_mid_drill_loses_nothing_and_the_drill_goes_on(bot_api: BotApiEmulator, database_url: str) -> None:
    api = bot_api
    process = await start_process(api, database_url)
    try:
        await serving(api)
        teacher = api.make_user(TEACHER, "Ms Kay", language_code="en")
        code, control = await make_drill(api, teacher, count="5")
        class_ = students(api, 5)
        for n, student in enumerate(class_):
            await join(api, student, code, f"Kid {n}")
        panel = api.message(TEACHER, control["message_id"])
        mark = api.mark()
        api.press_button(teacher, panel, data_for(panel, "Start"))
        sent = await api.wait_for("sendMessage", lambda c: c.params["chat_id"] >= 600, since=mark, count=5)
        question = {call.params["chat_id"]: call.result for call in sent}
        assert set(question) == {s["id"] for s in class_}

        async def choose(n: int, *, right: bool) -> dict:
            """Kid n taps an option (the right one or not); returns their message, now asking how sure they are."""
            student, message = class_[n], question[class_[n]["id"]]
            shown = right_letter_index(message["text"])
            if not right:
                shown = (shown + 1) % len(buttons(message))
            assert await press(api, student, message, buttons(message)[shown][1]) == ""
            return api.message(student["id"], message["message_id"])

        # Before the kill: Kids 0-2 answer (each answer acknowledged), Kid 3 has tapped an option but not rated it.
        ratings = [await choose(0, right=True)]
        kid0_again = data_for(ratings[0], "Just guessing")  # a second answer Kid 0 will try after the restart
        assert await press(api, class_[0], ratings[0], data_for(ratings[0], "Certain")) == ""
        ratings.append(await choose(1, right=True))
        assert await press(api, class_[1], ratings[1], data_for(ratings[1], "Certain")) == ""
        ratings.append(await choose(2, right=False))
        assert await press(api, class_[2], ratings[2], data_for(ratings[2], "Fairly sure")) == ""
        ratings.append(await choose(3, right=False))
        before = [(600, 0, 1, "sure"), (601, 0, 1, "sure"), (602, 0, 0, "probably")]
        assert await settled(lambda: drill_answers(database_url), before) == before
        process.send_signal(signal.SIGKILL)
        await process.wait()
        assert process.returncode == -signal.SIGKILL
        assert await drill_answers(database_url) == before  # every acknowledged answer survived the kill
        # Kid 3 rates their answer while the bot is down; the restarted bot records it.
        late = api.press_button(class_[3], ratings[3], data_for(ratings[3], "Just guessing"))
        mark = api.mark()
        process = await start_process(api, database_url)
        accepted = await api.wait_for(
            "answerCallbackQuery", callback_query_id=late["callback_query"]["id"], since=mark, timeout=20
        )
        assert accepted.params.get("text", "") == ""
        assert "Got your answer: " in api.message(class_[3]["id"], ratings[3]["message_id"])["text"]
        # After the restart: Kid 4 answers the same question; Kid 0's second answer is refused.
        ratings.append(await choose(4, right=True))
        assert await press(api, class_[4], ratings[4], data_for(ratings[4], "Certain")) == ""
        retry = api.press_raw(class_[0], class_[0]["id"], ratings[0]["message_id"], kid0_again)
        refused = await api.wait_for("answerCallbackQuery", callback_query_id=retry["callback_query"]["id"])
        assert refused.params.get("text") == "You've already answered that one."
        after = [*before, (603, 0, 0, "guess"), (604, 0, 1, "sure")]
        assert await drill_answers(database_url) == after  # each answer once, none lost, none doubled
        # The teacher's panel counts the answers from both sides of the kill, and the drill goes on.
        await api.wait_for(
            "editMessageText",
            lambda c: "Question 1/5 is open: 5/5 answered." in c.params["text"],
            since=mark,
            chat_id=TEACHER,
            timeout=10,
        )
        panel = api.message(TEACHER, control["message_id"])
        mark = api.mark()
        api.press_button(teacher, panel, data_for(panel, "Reveal"))
        reveals = await api.wait_for(
            "editMessageText", lambda c: c.params.get("chat_id", 0) >= 600, since=mark, count=5, timeout=10
        )
        assert {c.params["chat_id"] for c in reveals} == set(question)
        await api.wait_for(
            "editMessageText",
            lambda c: "Question 1/5 revealed: 5 answered, 3 right." in c.params["text"],
            since=mark,
            chat_id=TEACHER,
        )
        panel = api.message(TEACHER, control["message_id"])
        mark = api.mark()
        api.press_button(teacher, panel, data_for(panel, "Next question"))
        second = await api.wait_for("sendMessage", lambda c: c.params["chat_id"] >= 600, since=mark, count=5)
        assert {c.params["chat_id"] for c in second} == set(question)
        # The report counts every answer, from before and after the kill.
        mark = api.mark()
        api.send_text(teacher, f"/report {code}")
        summary = (await api.wait_for("sendMessage", since=mark, chat_id=TEACHER)).params["text"]
        assert f"Report for drill {code}" in summary and "Students: 5" in summary
        assert "drill: 5 answered" in summary and ": 60% right; the wrong answer chosen most" in summary
        document = await api.wait_for("sendDocument", since=mark, chat_id=TEACHER)
        table = list(csv.DictReader(io.StringIO(document.files["document"].data.decode("utf-8-sig"))))
        assert sorted((r["nickname"], r["question_number"], r["correct"], r["confidence"]) for r in table) == [
            ("Kid 0", "1", "1", "sure"),
            ("Kid 1", "1", "1", "sure"),
            ("Kid 2", "1", "0", "probably"),
            ("Kid 3", "1", "0", "guess"),
            ("Kid 4", "1", "1", "sure"),
        ]
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            await process.wait()
