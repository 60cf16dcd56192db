"""Abuse and robustness end to end: odd and malformed updates, hammering, forged buttons, secrets in logs.

Every case here must end in at most a polite reply (or nothing), never in an "update N failed" traceback, and the
bot must keep serving afterwards.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

import pytest
from telegram import Update

from bot.config import mask
from bot.core.drill import DrillId, DrillMode, DrillRound, DrillSpec
from bot.core.engine import SessionId, UserId
from bot.core.group import ChatId, GroupSessionId
from bot.core.lang import Lang
from bot.logs import configure_logging, redact
from bot.services.drill_views import Panel
from bot.telegram import callbacks as cb
from bot.telegram.callbacks import WizardState
from bot.telegram.drill_render import COUNTS, OPEN_DAYS, RETEST_DAYS, SECONDS
from tests.emulator import BotApiEmulator, objects
from tests.emulator.pytest_plugin import TEST_TOKEN
from tests.telegram.conftest import RunningBot, bot_settings, start_bot

SECRET = TEST_TOKEN.split(":")[1]
FAILED = re.compile(r"update \S+ failed")
ODD_TEXTS = {
    "rtl marks": "\u200f\u202eabc\u202c\u200e" * 50,
    "zero-width joiners": "\u200d\u200b\u2060\ufeff" * 100,
    "emoji": "👩\u200d💻🏳️\u200d🌈👨\u200d👩\u200d👧\u200d👦🇹🇼" * 40,
    "combining": "Z" + "\u0301\u0327\u0308\u20dd" * 300,
    "html": "<b>bold</b> <a href='x'>&amp; &lt; &#0; </a> <tg-spoiler>",
    "control": "\x01\x02\x1b[31mred\x7f",
    "nul": "a\x00b",
    "surrogate-looking": "\\ud800 \\udfff",
}


# ---------------------------------------------------------------------------------------------- helpers


async def stored_answers(bot: RunningBot) -> int:
    """How many answers the database holds, from anyone."""
    async with bot.stored() as store:
        return len(await store.answers())


async def footprint(bot: RunningBot, user_id: int, ids: Iterable[str] = ()) -> tuple[object, ...]:
    """Everything stored that a press by `user_id` in their private chat could have written: their profile, quiz,
    review list, a group or drill of theirs, every answer, open group session and timed drill, and whatever is stored
    under the session and drill ids in `ids` (those the pressed button data names)."""
    uid = UserId(user_id)
    async with bot.stored() as store:
        found: list[object] = [
            await store.get_user(uid),
            await store.active_session(uid),
            await store.review_items(uid),
            await store.answers(),
            await store.get_group(ChatId(user_id)),
            await store.active_group_sessions(),
            await store.teacher_drills(user_id),
            await store.timed_drills(),
            await store.awaiting_nickname(user_id),
        ]
        for key in ids:
            found += [
                await store.get_session(SessionId(key)),
                await store.get_group_session(GroupSessionId(key)),
                await store.members(GroupSessionId(key)),
                await store.get_drill(DrillId(key)),
                await store.students(DrillId(key)),
            ]
    return tuple(found)


def buttons(message: dict) -> list[str]:
    return [b["callback_data"] for row in message.get("reply_markup", {}).get("inline_keyboard", []) for b in row]


def failures(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Log lines that mean an update went wrong: "update N failed", or anything at ERROR."""
    return [
        f"{r.levelname} {r.name}: {r.getMessage()}"
        for r in caplog.records
        if FAILED.search(r.getMessage()) or r.levelno >= logging.ERROR
    ]


def polite_notices(bot: RunningBot) -> set[str]:
    """Every short notice a refused button press may show, in any language (a forged group button pressed in a
    private chat is answered in the group default, Traditional Chinese)."""
    t = bot.services.t
    keys = [k for k in t.keys(Lang.EN) if k.startswith(("notice.", "drill.", "group.")) and not t.fields(k, Lang.EN)]
    return {t(k, lang) for k in keys for lang in Lang} - {t("notice.error", lang) for lang in Lang}


async def ask(bot: RunningBot, user: dict, text: str) -> dict:
    mark = bot.api.mark()
    bot.api.send_text(user, text)
    return (await bot.api.wait_for("sendMessage", since=mark, chat_id=user["id"])).result


def inject(api: BotApiEmulator, update: dict[str, Any]) -> dict:
    """Queue an update after checking PTB can read it (a malformed one would wedge getUpdates, not test the bot)."""
    Update.de_json({"update_id": 1, **update}, None)
    return api.inject(update)


async def settle(api: BotApiEmulator, quiet: float = 0.3) -> None:
    """Wait until the bot has fetched every queued update, then until it has made no call for `quiet` seconds."""
    deadline = time.monotonic() + 5
    while api.pending_updates:
        assert time.monotonic() < deadline, "the bot stopped fetching updates"
        await asyncio.sleep(0.02)
    await asyncio.sleep(quiet)  # wait_idle alone would return at once if the handlers haven't called yet
    await api.wait_idle(quiet=quiet)


def calls_in(bot: RunningBot, mark: int, chat_id: int) -> list[Any]:
    """What the bot asked of the API about one chat since `mark`."""
    return [c for c in bot.api.calls_to(since=mark) if c.method != "getUpdates" and c.params.get("chat_id") == chat_id]


async def replies_to(bot: RunningBot, mark: int, chat_id: int) -> list[Any]:
    """What the bot did in a chat since `mark`, once it has gone quiet."""
    await settle(bot.api)
    return calls_in(bot, mark, chat_id)


async def still_serves(bot: RunningBot, user_id: int) -> None:
    """A /quiz (from a user nobody has throttled) still gets a question."""
    user = bot.api.make_user(user_id, "Check", language_code="en")
    question = await ask(bot, user, "/quiz")
    assert question["text"].startswith("Question 1/"), question["text"]


async def question_for(bot: RunningBot, user: dict, *, within: float = 6.0) -> dict:
    """/quiz until a question comes back: someone who was just throttled gets one once their bucket refills."""
    deadline = time.monotonic() + within
    while True:
        mark = bot.api.mark()
        bot.api.send_text(user, "/quiz")
        await settle(bot.api)
        sent = [c for c in bot.api.calls_to("sendMessage", since=mark, chat_id=user["id"]) if c.ok]
        for call in sent:
            if call.result["text"].startswith("Question 1/"):
                return call.result
        assert time.monotonic() < deadline, [c.result["text"] for c in sent]
        await asyncio.sleep(0.6)


async def press(api: BotApiEmulator, user: dict, message: dict, data: str) -> str | None:
    """Press a button and wait until the bot has answered that very press; returns the notice shown."""
    mark = api.mark()  # the answer comes after the press: looking only there keeps each wait short
    update = api.press_button(user, message, data)
    answer = await api.wait_for("answerCallbackQuery", since=mark, callback_query_id=update["callback_query"]["id"])
    return answer.params.get("text")


def message_update(user: dict, chat: dict, **content: Any) -> dict:
    return {"message": {"message_id": 77_000, "date": objects.now(), "chat": chat, "from": user, **content}}


def inject_callback(api: BotApiEmulator, user: dict, *, message: dict | None = None, **fields: Any) -> dict:
    """A callback query press_button/press_raw can't make (no data, no message); the emulator is told its id, as
    Telegram knows the ids of the queries it sends, so that answering it is accepted."""
    query_id = f"abuse-{time.monotonic_ns()}"
    query: dict[str, Any] = {"id": query_id, "from": user, "chat_instance": "42", **fields}
    if message is not None:
        query["message"] = message
    api._open_queries.add(query_id)
    return inject(api, {"callback_query": query})


# ---------------------------------------------------------------------------------------------- odd messages


async def test_odd_private_messages_get_at_most_one_polite_reply(
    bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    api = bot.api
    cases: list[tuple[str, Any]] = [
        ("location only", {"location": {"latitude": 25.03, "longitude": 121.56}}),
        ("nothing at all", {}),
        ("contact", {"contact": {"phone_number": "+886900000000", "first_name": "X"}}),
        ("dice", {"dice": {"emoji": "🎲", "value": 6}}),
        ("text 4096", "x" * 4096),
        ("quiz with a 4000-char topic", "/quiz " + "verification" * 333 + "abcd"),
        ("quiz with an odd topic", "/quiz " + "\u202e\u200d👩\u200d💻 e\u0301 <b>&amp;"),
        ("unknown command, long", "/" + "a" * 64 + " " + "z" * 4000),
        ("start with odd payload", "/start " + ("\u202eA\u0301\u200d-_😀٣²Ａ<&>" * 6)[:64]),
        ("start with 64 dashes", "/start " + "-" * 64),
        ("start with a code-like payload", "/start " + "ABCD-EFGH"),
        ("start with arabic digits", "/start " + "\u0663" * 64),
        ("start with many arguments", "/start " + " ".join(["quiz"] * 1000)),
        *((f"odd text: {name}", text) for name, text in ODD_TEXTS.items()),
    ]
    mark = api.mark()
    for number, (_, content) in enumerate(cases):  # all at once, each from its own person
        user = api.make_user(10_000 + number, "Odd", language_code="en")
        if isinstance(content, str):
            api.send_text(user, content)
        else:
            inject(api, message_update(user, objects.private_chat(user), **content))
    await settle(api)
    for number, (name, _) in enumerate(cases):
        calls = calls_in(bot, mark, 10_000 + number)
        sent = [c for c in calls if c.method == "sendMessage"]
        assert len(sent) <= 1, (name, [c.short() for c in calls])
        assert all(c.ok for c in calls), (name, [c.short() for c in calls])
        if sent:
            assert sent[0].result["text"].strip(), name
    assert not failures(caplog)
    await still_serves(bot, 19_999)


async def test_odd_group_commands_get_at_most_one_polite_reply(
    bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    api = bot.api
    owner = api.make_user(20_000, "Owner", language_code="en")
    cases = [
        "/quiz " + "x" * 4000,
        "/quiz " + "\u200f\u202e👩\u200d💻e\u0301" * 40,
        "/quiz 99999999999999999999999999",
        "/quiz " + "9" * 4000,
        "/quiz 0",
        "/stats " + "<b>" * 100,
        "/lang " + "zh" * 1000,
        "/start " + "\u0663" * 64,
    ]
    mark = api.mark()
    for number, text in enumerate(cases):  # all at once, each in its own group
        group = api.add_group(-30_000 - number, "Odd group", admins=[owner])
        api.send_text(owner, text, group)
    await settle(api)
    for job in bot.runtime.application.job_queue.jobs():  # lobbies that opened: don't let them run on
        job.schedule_removal()
    for number, text in enumerate(cases):
        calls = calls_in(bot, mark, -30_000 - number)
        assert all(c.ok for c in calls), (text[:30], [c.short() for c in calls])
        assert len([c for c in calls if c.method in ("sendMessage", "sendPoll")]) <= 1, text[:30]
    assert not failures(caplog)
    await still_serves(bot, 29_999)


async def test_group_quiz_with_a_superscript_count_gets_a_reply(
    bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    owner = bot.api.make_user(21_000, "Owner", language_code="en")
    group = bot.api.add_group(-31_000, "Digits", admins=[owner])
    mark = bot.api.mark()
    bot.api.send_text(owner, "/quiz ²", group)
    calls = await replies_to(bot, mark, group["id"])
    assert not failures(caplog)
    assert [c for c in calls if c.method == "sendMessage" and c.ok], "no reply to /quiz ²"


async def test_update_types_the_bot_ignores_get_no_reply(bot: RunningBot, caplog: pytest.LogCaptureFixture) -> None:
    api = bot.api
    user = api.make_user(22_000, "Ivy", language_code="en")
    chat = objects.private_chat(user)
    said = api.send_text(user, "hello")  # a real message to edit and react to
    await api.wait_for("sendMessage", chat_id=user["id"])
    message_id = said["message"]["message_id"]
    group = api.add_group(-32_000, "Ignored", members=[user])
    channel = {"id": -1_009_000, "type": "channel", "title": "News"}
    now = objects.now()
    updates = [
        {"edited_message": {**said["message"], "text": "hello again", "edit_date": now}},
        {"edited_message": {**said["message"], "text": "\u202e" * 4000, "edit_date": now}},
        {
            "message_reaction": {
                "chat": chat,
                "message_id": message_id,
                "user": user,
                "date": now,
                "old_reaction": [],
                "new_reaction": [{"type": "emoji", "emoji": "👍"}],
            }
        },
        {"message_reaction_count": {"chat": group, "message_id": 1, "date": now, "reactions": []}},
        {"chat_join_request": {"chat": group, "from": user, "user_chat_id": user["id"], "date": now}},
        {
            "chat_member": objects.chat_member_updated(
                group, user, objects.member_left(user), objects.member_member(user)
            )
        },
        {"channel_post": {"message_id": 5, "date": now, "chat": channel, "text": "/quiz"}},
        {"edited_channel_post": {"message_id": 5, "date": now, "chat": channel, "text": "/quiz", "edit_date": now}},
        {"inline_query": {"id": "iq1", "from": user, "query": "quiz" * 64, "offset": ""}},
        {"chosen_inline_result": {"result_id": "r1", "from": user, "query": "x"}},
        {"poll_answer": objects.poll_answer("no-such-poll", user, [0], ["p0"])},
        {"poll_answer": objects.poll_answer("no-such-poll", user, [], [])},
        {"poll_answer": {"poll_id": "anon", "voter_chat": group, "option_ids": [1], "option_persistent_ids": ["p1"]}},
        {
            "my_chat_member": objects.chat_member_updated(
                chat, user, objects.member_member(api.bot_user), objects.member_member(api.bot_user)
            )
        },
    ]
    mark = api.mark()
    for update in updates:
        inject(api, update)
    await settle(api, quiet=0.5)
    assert [c.short() for c in api.calls_to(since=mark) if c.method != "getUpdates"] == []
    assert not api.pending_updates  # every one was fetched
    assert not failures(caplog)
    await still_serves(bot, 22_999)


# ---------------------------------------------------------------------------------------------- odd buttons


async def test_a_callback_query_with_no_data_is_answered_politely(
    bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    user = bot.api.make_user(23_000, "Nod", language_code="en")
    question = await ask(bot, user, "/quiz")
    mark = bot.api.mark()
    inject_callback(bot.api, user, message=bot.api.message(user["id"], question["message_id"]))
    inject_callback(bot.api, user, message=question, game_short_name="tetris")
    group = bot.api.add_group(-33_000, "No data", members=[user])
    inject_callback(bot.api, user, message={"message_id": 1, "date": 0, "chat": group})
    answers = await bot.api.wait_for("answerCallbackQuery", since=mark, count=3)
    assert {a.params.get("text") for a in answers} <= polite_notices(bot)
    await settle(bot.api)
    assert [c.method for c in bot.api.calls_to(since=mark) if c.method not in ("getUpdates",)] == [
        "answerCallbackQuery"
    ] * 3
    assert not failures(caplog)
    assert await stored_answers(bot) == 0
    await still_serves(bot, 23_999)


async def test_callback_queries_without_a_message_are_answered_politely(
    bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    user = bot.api.make_user(24_000, "Nomsg", language_code="en")
    question = await ask(bot, user, "/quiz")
    session = buttons(question)[0].split(":")[1]
    datas = [
        "garbage",
        "",
        cb.menu(cb.MenuItem.QUICK),
        cb.answer(session, 0, 0),
        cb.confidence(session, 0, None),
        cb.next_step(session, 0),
        cb.language(Lang.EN),
        cb.topic("verification"),
        cb.join("nosuchsession"),
        cb.group_answer("nosuchsession", 0, 0),
        cb.group_language(Lang.EN),
        cb.teacher("nosuchdrill", cb.TeacherMove.REPORT),
        cb.live_choice("nosuchdrill", DrillRound.MAIN, 0, 0),
        cb.live_rating("nosuchdrill", DrillRound.MAIN, 0, 0, None),
        cb.self_start("nosuchdrill", DrillRound.MAIN),
    ]
    mark = bot.api.mark()
    for data in datas:
        inject_callback(bot.api, user, data=data)
    answers = await bot.api.wait_for("answerCallbackQuery", since=mark, count=len(datas))
    assert {a.params.get("text") for a in answers} <= polite_notices(bot) | {None}
    await settle(bot.api)
    assert not failures(caplog)
    assert await stored_answers(bot) == 0
    await still_serves(bot, 24_999)


async def test_a_forget_press_without_a_message_is_answered(bot: RunningBot, caplog: pytest.LogCaptureFixture) -> None:
    user = bot.api.make_user(25_000, "Forget", language_code="en")
    await ask(bot, user, "/start")
    mark = bot.api.mark()
    inject_callback(bot.api, user, data=cb.forget(False))
    await settle(bot.api)
    assert not failures(caplog)
    assert len(bot.api.calls_to("answerCallbackQuery", since=mark)) == 1


async def test_a_wizard_press_without_a_message_is_answered(bot: RunningBot, caplog: pytest.LogCaptureFixture) -> None:
    user = bot.api.make_user(26_000, "Wiz", language_code="en")
    await ask(bot, user, "/drill")
    mark = bot.api.mark()
    inject_callback(bot.api, user, data=WizardState().encode())
    await settle(bot.api)
    assert not failures(caplog)
    assert len(bot.api.calls_to("answerCallbackQuery", since=mark)) == 1


# ---------------------------------------------------------------------------------------------- nicknames


async def test_absurd_nicknames_are_trimmed_or_refused(bot: RunningBot, caplog: pytest.LogCaptureFixture) -> None:
    api = bot.api
    teacher = api.make_user(27_000, "Teacher", language_code="en")
    await ask(bot, teacher, "/start")
    svc = bot.services
    drill = await svc.drill.create(teacher["id"], DrillSpec(count=3, mode=DrillMode.LIVE))
    assert drill is not None
    control = svc.drill_render.control(Panel(drill=drill, nicknames=[]), Lang.EN)  # as the wizard sends it
    panel = await bot.runtime.application.bot.send_message(teacher["id"], control.text, reply_markup=control.markup)
    await svc.drill.note_control_message(drill.id, panel.message_id)
    nicknames = {
        "long": ("Ann" + "\u202e👩\u200d💻e\u0301<b>&" * 2000)[:10_000],
        "invisible": "\u200b\u200d\u200f\u202e\ufeff" * 2000,
        "html": "<b>Bob</b> & <i>co</i>",
        "spaces": " \n\t " * 2500,
    }
    for number, (name, nickname) in enumerate(nicknames.items()):
        student = api.make_user(27_001 + number, "Student", language_code="en")
        asked = await ask(bot, student, f"/join {drill.code}")
        assert "nickname" in asked["text"], asked["text"]
        mark = api.mark()
        api.send_text(student, nickname)
        calls = await replies_to(bot, mark, student["id"])
        assert all(c.ok for c in calls), (name, [c.short() for c in calls])
        [reply] = [c.result["text"] for c in calls if c.method == "sendMessage"]
        async with bot.stored() as store:
            joined = await store.student(drill.id, student["id"])
        assert joined is not None, name
        kept = joined.nickname
        if name in ("invisible", "spaces"):
            assert kept is None, (name, kept)
            assert "nickname" in reply, reply
        else:
            assert kept and len(kept) <= 24 and "\n" not in kept, (name, kept)
            assert kept in reply or kept.strip() in reply, (name, kept, reply)
    edited = await api.wait_for("editMessageText", chat_id=teacher["id"], timeout=6)  # the panel, batched
    assert edited.ok, edited.short()
    await settle(api)
    assert "Ann" in api.message(teacher["id"], panel.message_id)["text"]
    assert "<b>Bob</b> & <i>co</i>" in api.message(teacher["id"], panel.message_id)["text"]
    assert not failures(caplog)
    await still_serves(bot, 27_999)


# ---------------------------------------------------------------------------------------------- hammering


async def test_200_presses_of_one_answer_button_store_one_answer(
    bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    api = bot.api
    user = api.make_user(28_000, "Hammer", language_code="en")
    await ask(bot, user, "/start")
    profile = await bot.services.quiz.user(UserId(user["id"]), default_lang=Lang.EN)
    await bot.services.quiz.update_user(replace(profile, ask_confidence=False))  # one press scores
    question = await ask(bot, user, "/quiz")
    data = buttons(question)[1]
    mark = api.mark()
    ids = {api.press_button(user, question, data)["callback_query"]["id"] for _ in range(200)}
    answers = await api.wait_for("answerCallbackQuery", since=mark, count=200, timeout=20)
    await settle(api)
    assert {a.params["callback_query_id"] for a in api.calls_to("answerCallbackQuery", since=mark)} == ids
    assert len(api.calls_to("answerCallbackQuery", since=mark)) == 200  # each exactly once
    assert {a.params.get("text") for a in answers} <= polite_notices(bot) | {None}
    assert (await bot.services.quiz.progress(UserId(user["id"]))).summary.total.answered == 1
    assert not failures(caplog)
    await still_serves(bot, 28_999)
    await question_for(bot, user)  # and the hammering user gets served again once the flood is over


async def test_50_forged_presses_at_once_are_refused_and_store_nothing(
    bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    api = bot.api
    user = api.make_user(29_000, "Forger", language_code="en")
    question = await ask(bot, user, "/quiz")
    session = buttons(question)[0].split(":")[1]
    forged = [
        cb.answer("A" * 22, 0, 0),
        cb.answer(session, 999, 0),
        cb.answer(session, 0, 11),
        cb.answer(session, 0, 99).replace("99", "99"),
        cb.confidence(session, 0, None),
        cb.confidence("nosuchsession", 0, None),
        cb.next_step(session, 0),
        cb.next_step(session, 999),
        cb.topic("no_such_topic"),
        cb.topic("x" * 40),
        "l:de",
        "m:admin",
        "f:maybe",
        cb.teacher("nosuchdrill", cb.TeacherMove.REPORT),
        cb.teacher("nosuchdrill", cb.TeacherMove.NEXT),
        cb.teacher("nosuchdrill", cb.TeacherMove.REVEAL),
        cb.teacher("nosuchdrill", cb.TeacherMove.FINISH_ROUND),
        cb.teacher("nosuchdrill", cb.TeacherMove.POST_TEST),
        "D:nosuchdrill:s",
        cb.teacher("nosuchdrill", cb.TeacherMove.CLOSE),
        cb.live_choice("nosuchdrill", DrillRound.MAIN, 0, 0),
        cb.live_rating("nosuchdrill", DrillRound.MAIN, 0, 0, None),
        cb.self_start("nosuchdrill", DrillRound.RETEST),
        "",
        "a",
        "a:",
        ":::",
        "a:" + "x" * 70,
        "a:abc:1:1:1",
        "a:a b:1:1",
        "a:abc:-1:1",
        "w:zzzz.1.1.l.1.1.1.1",
        "w:0.10.0.x.7.0.0.1",
        "D:abc:z",
        "e:abc:q:1:1",
        "h:abc:m:1:1:q",
        "s:abc:x",
        "\x00" * 10,
        "\u202e" * 20,
        "😀" * 16,
        "a:😀:1:1",
        "<b>x</b>",
        "' OR 1=1 --",
        "t:../../etc",
        "j:" + "A" * 23,
        "g:abc:1000:1",
        "c:abc:1:z",
        "n:abc",
        "y:fr",
        "r:",
    ]
    assert len(forged) == 50
    named = (session, "A" * 22, "nosuchsession", "nosuchdrill", "abc")  # the ids the forged data names
    before = await footprint(bot, user["id"], named)
    mark = api.mark()
    for data in forged:
        api.press_raw(user, user["id"], question["message_id"], data)
    answers = await api.wait_for("answerCallbackQuery", since=mark, count=50, timeout=15)
    await settle(api)
    assert len(api.calls_to("answerCallbackQuery", since=mark)) == 50
    assert {a.params.get("text") for a in answers} <= polite_notices(bot) | {None}
    assert await footprint(bot, user["id"], named) == before
    assert not [c.short() for c in api.calls_to("editMessageText", since=mark) if c.ok]
    assert not failures(caplog)
    await still_serves(bot, 29_999)


async def test_forged_group_buttons_in_a_private_chat_store_nothing(
    bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    api = bot.api
    user = api.make_user(29_500, "Forger", language_code="en")
    question = await ask(bot, user, "/quiz")
    forged = [
        cb.join("nosuchsession"),
        cb.begin("nosuchsession"),
        cb.group_answer("nosuchsession", 0, 0),
        cb.resume("nosuchsession"),
        cb.group_language(Lang.EN),
    ]
    named = (buttons(question)[0].split(":")[1], "nosuchsession")
    before = await footprint(bot, user["id"], named)
    mark = api.mark()
    for data in forged:
        api.press_raw(user, user["id"], question["message_id"], data)
    answers = await api.wait_for("answerCallbackQuery", since=mark, count=len(forged))
    await settle(api)
    assert {a.params.get("text") for a in answers} <= polite_notices(bot)
    assert not failures(caplog)
    assert await footprint(bot, user["id"], named) == before


async def test_a_press_whose_edit_fails_is_still_answered(bot: RunningBot) -> None:
    user = bot.api.make_user(29_600, "Flaky", language_code="en")
    question = await ask(bot, user, "/quiz")
    bot.api.fail_next("editMessageText", status=500)
    update = bot.api.press_button(user, question, buttons(question)[0])
    await bot.api.wait_for("editMessageText", lambda c: c.status == 500)
    await settle(bot.api)
    assert bot.api.calls_to("answerCallbackQuery", callback_query_id=update["callback_query"]["id"])


# ---------------------------------------------------------------------------------------------- secrets


@pytest.fixture
def production_logging():
    """Logging as `python -m bot run` sets it up (configure_logging + redact), undone afterwards."""
    levels = {name: logging.getLogger(name).level for name in ("httpx", "httpcore")}
    make_record = logging.getLogRecordFactory()
    yield lambda settings: (configure_logging(settings.log_level), redact(settings.require_token()))
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)
    logging.setLogRecordFactory(make_record)


async def test_the_token_secret_never_reaches_a_log_at_debug(
    bot_api: BotApiEmulator, database_url: str, caplog: pytest.LogCaptureFixture, production_logging
) -> None:
    caplog.set_level(logging.DEBUG)
    settings = bot_settings(bot_api, database_url, LOG_LEVEL="DEBUG")
    assert settings.log_level == logging.DEBUG
    production_logging(settings)
    raw: list[logging.LogRecord] = []

    class Raw(logging.Handler):  # added after the redaction was set up, as a library might add its own
        def emit(self, record: logging.LogRecord) -> None:
            raw.append(record)

    own = Raw(level=logging.DEBUG)
    logging.getLogger("bot").addHandler(own)
    late = Raw(level=logging.DEBUG)
    quiet = logging.getLogger("telegram.ext.ExtBot")  # logs the API URL, here on a handler of its own only
    quiet.addHandler(late)
    quiet.propagate = False
    runtime = await start_bot(bot_api, database_url, LOG_LEVEL="DEBUG")
    try:
        bot = RunningBot(api=bot_api, runtime=runtime, database_url=database_url)
        user = bot_api.make_user(30_000, "Sec", language_code="en")
        await ask(bot, user, "/start")
        question = await ask(bot, user, "/quiz")
        bot_api.fail_next("editMessageText", status=500)  # an error path, logged as a failed update
        mark = bot_api.mark()
        bot_api.press_button(user, question, buttons(question)[0])
        await bot_api.wait_for("editMessageText", lambda c: c.status == 500, since=mark)
        for _ in range(3):
            mark = bot_api.mark()
            await press(bot_api, user, question, buttons(question)[0])  # for the first, again: that repairs it
            await bot_api.wait_for("editMessageText", lambda c: c.ok, since=mark)
            rating = bot_api.message(user["id"], question["message_id"])
            await press(bot_api, user, rating, next(d for d in buttons(rating) if d.startswith("c:")))
            revealed = bot_api.message(user["id"], question["message_id"])
            mark = bot_api.mark()
            bot_api.press_button(user, revealed, buttons(revealed)[0])
            question = (await bot_api.wait_for("sendMessage", since=mark, chat_id=user["id"])).result
        assert "Quiz complete" in question["text"]
        bot_api.drop_next("sendMessage")  # a dropped connection, logged as a network error
        mark = bot_api.mark()
        bot_api.send_text(user, "/stats")
        await bot_api.wait_for("sendMessage", lambda c: c.status == 0, since=mark)
        await bot_api.wait_idle()
    finally:
        await runtime.stop()
        logging.getLogger("bot").removeHandler(own)
        quiet.removeHandler(late)
        quiet.propagate = True
    assert len(caplog.records) > 50, "DEBUG logging is not on"
    assert any(r.levelno == logging.DEBUG and r.name.startswith("telegram") for r in caplog.records)
    leaks = [
        f"{r.name}: {r.getMessage()[:200]}"
        for r in caplog.records
        if SECRET in r.getMessage() or SECRET in (r.exc_text or "") or SECRET in str(r.args)
    ]
    assert not leaks
    assert SECRET not in caplog.text
    own = [r for r in raw if r.name.startswith("bot")]
    assert own and not [r.getMessage() for r in own if getattr(r, "redacted", False)]  # the bot never logs the token
    quiet_records = [r for r in raw if r.name == "telegram.ext.ExtBot"]
    assert any(mask(TEST_TOKEN) in r.getMessage() for r in quiet_records)  # PTB logs its API URL at DEBUG: masked
    assert not [r for r in quiet_records if SECRET in r.getMessage() + (r.exc_text or "")]


async def test_editing_an_old_message_into_a_command_runs_nothing(
    bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    api = bot.api
    user = api.make_user(31_000, "Ed", language_code="en")
    said = api.send_text(user, "hello")
    await api.wait_for("sendMessage", chat_id=user["id"])
    owner = api.make_user(31_001, "Own", language_code="en")
    group = api.add_group(-34_000, "Edits", admins=[owner])
    posted = api.send_text(owner, "/help", group)
    await api.wait_for("sendMessage", chat_id=group["id"])
    await settle(api)
    mark = api.mark()
    api.edit_text(user, said["message"], "/forget")
    api.edit_text(owner, posted["message"], "/quiz")
    await settle(api)
    for job in bot.runtime.application.job_queue.jobs():  # a lobby that opened: don't let it run on
        job.schedule_removal()
    assert not failures(caplog)
    assert [c.short() for c in api.calls_to(since=mark) if c.method != "getUpdates"] == []


async def test_a_forged_wizard_cannot_create_a_drill_the_wizard_never_offers(
    bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    api = bot.api
    user = api.make_user(32_000, "Wz", language_code="en")
    overview = await ask(bot, user, "/drill")
    forged = WizardState(topics=0xFFFF, count=99, seconds=1, mode=DrillMode.LIVE, days=0, pair=True, retest=99, step=9)
    mark = api.mark()
    api.press_raw(user, user["id"], overview["message_id"], forged.encode())
    await api.wait_for("answerCallbackQuery", since=mark)
    await settle(api)
    assert not failures(caplog)
    for drill in await bot.services.drill.teacher_drills(user["id"]):
        spec = drill.spec
        assert spec.count in COUNTS and (spec.seconds or 0) in SECONDS, spec
        assert spec.open_days in OPEN_DAYS and (spec.retest_days or 0) in RETEST_DAYS, spec
