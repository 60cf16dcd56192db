"""Echoes and channels, end to end against the Bot API emulator.

Echoes: every place that shows someone's own words back (a first name in the greeting, group members' names in a
lobby, leaderboard and podium, whoever stopped a quiz, drill nicknames on the teacher's panel and in the report files,
a topic typed after /quiz) cleans them with `bot.core.echo.echo_safe`, so a bidi override in a name cannot reverse
the rest of the bot's line. Names stored before that cleaning existed are cleaned again as they are shown.

Channels: a command sent on behalf of a chat (`sender_chat`: a channel posting in its discussion group, from
Channel_Bot; or an anonymous admin, the group itself, from GroupAnonymousBot) opens a lobby with no personal starter.
It may be stopped or skipped by a message on behalf of the same chat, by any admin (an anonymous one too), and by no
ordinary member or other channel (`bot.core.group.may_control`). No stand-in account ever plays or is recorded.
"""

from __future__ import annotations

import asyncio
import csv
import io
import random
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest_asyncio

from bot.core.drill import DrillAnswer, DrillMode, DrillRound, DrillSpec
from bot.core.drill_report import StudentResult
from bot.core.echo import BIDI_CONTROLS
from bot.core.engine import SessionId
from bot.core.group import ChatId, GroupMember, GroupPhase, GroupRecord, GroupSessionId, Standing, open_lobby
from bot.core.lang import Lang
from bot.services.drill_views import Panel
from bot.services.group import GroupStats, Podium, group_learning
from bot.services.report_files import report_csv, students_csv
from tests.emulator import BotApiEmulator, objects
from tests.telegram.conftest import BANK, RunningBot, settled, start_bot

GROUP = -100_4242
CHANNEL = {"id": -100_7777, "type": "channel", "title": "Daily \u202eNews\u202c"}
OTHER_CHANNEL = {"id": -100_7778, "type": "channel", "title": "Other Channel"}
# Telegram's stand-ins in `from` for a message sent on behalf of a chat.
CHANNEL_BOT = {"id": 136817688, "is_bot": True, "first_name": "Channel", "username": "Channel_Bot"}
ANONYMOUS_ADMIN = {"id": 1087968824, "is_bot": True, "first_name": "Group", "username": "GroupAnonymousBot"}
STAND_INS = (CHANNEL_BOT["id"], ANONYMOUS_ADMIN["id"])
FAST = {
    "GROUP_LOBBY_SECONDS": "30",
    "GROUP_QUESTION_SECONDS": "6",
    "GROUP_REVEAL_SECONDS": "0.1",
    "GROUP_MIN_CYCLE_SECONDS": "0.2",
    "QUIZ_LENGTH": "1",
}
ONLY_STARTER = "Only whoever started the quiz or a group admin"


def clean(text: str) -> bool:
    return not any(ch in BIDI_CONTROLS for ch in text)


def keyboard(message: dict) -> list[str]:
    return [b["callback_data"] for row in message.get("reply_markup", {}).get("inline_keyboard", []) for b in row]


def session_of(lobby: dict) -> str:
    join = keyboard(lobby)[0]
    assert join.startswith("j:"), join
    return join.removeprefix("j:")


@pytest_asyncio.fixture
async def fast(bot_api: BotApiEmulator, database_url: str) -> AsyncIterator[RunningBot]:
    """The bot with short group timings and one-question quizzes."""
    runtime = await start_bot(bot_api, database_url, **FAST)
    try:
        yield RunningBot(api=bot_api, runtime=runtime, database_url=database_url)
    finally:
        await runtime.stop()


async def make_group(bot: RunningBot, first_id: int = 3000) -> tuple[dict, dict, dict]:
    """A supergroup speaking English (the stand-in accounts carry no language) with an admin and two members."""
    api = bot.api
    admin = api.make_user(first_id, "Ada Admin", language_code="en")
    member = api.make_user(first_id + 1, "Mo Member", language_code="en")
    other = api.make_user(first_id + 2, "Olly Other", language_code="en")
    api.add_group(GROUP, "Fact \u202eCheckers", type="supergroup", admins=[admin], members=[member, other])
    await bot.services.group.set_lang(GROUP, Lang.EN)
    return admin, member, other


async def say_in_group(bot: RunningBot, user: dict, text: str, **sent_as: dict) -> dict:
    """Send `text` to the group (on behalf of `sender_chat=` if given) and return the bot's reply."""
    mark = bot.api.mark()
    bot.api.send_text(user, text, GROUP, **sent_as)
    return (await bot.api.wait_for("sendMessage", since=mark, chat_id=GROUP)).result


async def say(bot: RunningBot, user: dict, text: str) -> dict:
    mark = bot.api.mark()
    bot.api.send_text(user, text)
    return (await bot.api.wait_for("sendMessage", since=mark, chat_id=user["id"])).result


async def stop_lobby(bot: RunningBot, user: dict, lobby: dict, **sent_as: dict) -> str:
    """Send /stop while the lobby is open; returns the lobby's text once edited."""

    async def noted() -> bool:  # the lobby's message id is stored just after it is sent: /stop edits it by that id
        session = await bot.services.group.active(GROUP)
        return session is not None and session.lobby_message_id == lobby["message_id"]

    assert await settled(noted, True)
    mark = bot.api.mark()
    bot.api.send_text(user, "/stop", GROUP, **sent_as)
    await bot.api.wait_for("editMessageText", since=mark, chat_id=GROUP)
    return bot.api.message(GROUP, lobby["message_id"])["text"]


async def active_phase(bot: RunningBot) -> GroupPhase | None:
    session = await bot.services.group.active(GROUP)
    return session.phase if session is not None else None


# ---------------------------------------------------------------------------------------------- echoes


async def test_the_greeting_drops_an_override_from_a_first_name(bot: RunningBot) -> None:
    user = bot.api.make_user(4100, "Eve\u202e  \u2066Lyn\n", language_code="en")
    greeting = await say(bot, user, "/start")
    assert greeting["text"].startswith("Hi Eve Lyn! "), greeting["text"]
    assert clean(greeting["text"])


async def test_a_typed_topic_is_echoed_clean_in_private_and_in_a_group(bot: RunningBot) -> None:
    user = bot.api.make_user(4200, "Tess", language_code="en")
    reply = await say(bot, user, "/quiz \u202eevil\u2067 \u200bzone")
    assert "There is no topic “evil zone”" in reply["text"] and clean(reply["text"])
    _, member, _ = await make_group(bot, 4201)
    reply = await say_in_group(bot, member, "/quiz \u202eevil\u2067 \u200bzone")
    assert "There is no topic “evil zone”" in reply["text"] and clean(reply["text"])


async def test_member_names_are_clean_in_the_lobby_leaderboard_podium_and_stop(fast: RunningBot) -> None:
    api = fast.api
    starter = api.make_user(4300, "Ann\u202e", last_name="\u2067Lee", language_code="en")
    joiner = api.make_user(4301, "Bob\u202d\u200f", language_code="en")
    api.add_group(GROUP, "Names", type="supergroup", admins=[starter], members=[joiner])
    lobby = await say_in_group(fast, starter, "/quiz")
    assert "or when Ann Lee or an admin taps Start" in lobby["text"] and "Players (1): Ann Lee" in lobby["text"]
    mark = api.mark()
    api.press_button(joiner, lobby, keyboard(lobby)[0])
    await api.wait_for("editMessageText", since=mark, chat_id=GROUP, timeout=8)  # the batched lobby refresh
    assert "Players (2): Ann Lee, Bob" in api.message(GROUP, lobby["message_id"])["text"]
    stored = await fast.services.group.members(session_of(lobby))
    assert sorted(m.name for m in stored) == ["Ann Lee", "Bob"]  # cleaned on the way in, too
    mark = api.mark()
    api.press_button(starter, lobby, keyboard(lobby)[1])
    poll = (await api.wait_for("sendPoll", since=mark, chat_id=GROUP, timeout=15)).result
    mark = api.mark()
    right = poll["poll"].get("correct_option_ids", [poll["poll"].get("correct_option_id")])[0]
    for voter in (starter, joiner):
        api.answer_poll(voter, poll["poll"]["id"], [right])
    podium = await api.wait_for(
        "sendMessage", lambda c: "Final results" in c.params["text"], since=mark, chat_id=GROUP, timeout=15
    )
    reveal = next(
        c for c in api.calls_to("sendMessage", since=mark, chat_id=GROUP) if "Leaderboard" in c.params["text"]
    )
    assert "Ann Lee" in reveal.params["text"] and "Bob" in reveal.params["text"]
    assert "Ann Lee" in podium.params["text"] and "Bob" in podium.params["text"]
    # The group's /stats names the winner; and a quiz stopped by a crafted name says who, cleanly.
    history = await say_in_group(fast, joiner, "/stats")
    assert "won by Ann Lee" in history["text"] and clean(history["text"])
    lobby = await say_in_group(fast, joiner, "/quiz")
    assert "⏹ Ann Lee stopped the quiz" in await stop_lobby(fast, starter, lobby)
    assert all(clean(m.get("text", "")) for m in api.messages(GROUP)), [m.get("text") for m in api.messages(GROUP)]


async def test_names_stored_before_the_cleaning_are_cleaned_as_they_are_shown(bot: RunningBot) -> None:
    """Group names stored unclean by an earlier version still reach a lobby, a podium and a group's history."""
    render, dirty = bot.services.group_render, "Old\u202eName"
    session = open_lobby(
        BANK,
        session_id=GroupSessionId("g1"),
        chat_id=ChatId(GROUP),
        starter_id=1,
        topic=None,
        count=2,
        rules=bot.services.group.rules,
        rng=random.Random(1),
        now=0.0,
    )
    assert session is not None
    lobby = render.lobby(session, [GroupMember(user_id=1, name=dirty, joined_at=0.0)], dirty, Lang.EN, 0.0)
    learning = group_learning([], BANK)
    standing = Standing(user_id=1, name=dirty, points=900, correct=1, answered=1)
    podium = render.podium(Podium(session=session, standings=(standing,), tallies=(), learning=learning), Lang.EN)
    record = GroupRecord(session_id=session.id, finished_at=0.0, players=1, answered=1, correct=1, winner=dirty)
    stats = render.stats(GroupStats(played=1, latest=(record,), learning=learning, sessions=1), Lang.EN)
    for rendered in (lobby, podium, stats):
        assert "OldName" in rendered.text and clean(rendered.text), rendered.text


async def test_a_drill_nickname_reaches_the_teacher_and_the_report_clean(bot: RunningBot) -> None:
    api, services = bot.api, bot.services
    teacher = api.make_user(4400, "Teacher", language_code="en")
    await say(bot, teacher, "/start")
    drill = await services.drill.create(teacher["id"], DrillSpec(count=3, mode=DrillMode.LIVE))
    assert drill is not None
    control = services.drill_render.control(Panel(drill=drill, nicknames=[]), Lang.EN)  # as the wizard sends it
    panel = await bot.runtime.application.bot.send_message(teacher["id"], control.text, reply_markup=control.markup)
    await services.drill.note_control_message(drill.id, panel.message_id)
    student = api.make_user(4401, "Real Name", language_code="en")
    assert "nickname" in (await say(bot, student, f"/join {drill.code}"))["text"]
    mark = api.mark()
    welcome = await say(bot, student, "\u202eOwl\u2066  \n7\u200b")
    assert welcome["text"].startswith("Thanks, Owl 7!"), welcome["text"]
    await api.wait_for("editMessageText", since=mark, chat_id=teacher["id"], timeout=8)  # the panel, batched
    shown = api.message(teacher["id"], panel.message_id)["text"]
    assert "Joined: 1: Owl 7" in shown and clean(shown), shown
    again = await say(bot, student, f"/join {drill.code}")
    assert "already in this drill as “Owl 7”" in again["text"] and clean(again["text"])
    # Nicknames stored unclean by an earlier version: the panel and both report files clean them as well.
    dirty = "\u202eOld\u2067 Owl"
    old_panel = services.drill_render.control(Panel(drill=drill, nicknames=[dirty]), Lang.EN).text
    assert "Old Owl" in old_panel and clean(old_panel)
    report = (await services.drill.report(drill)).report
    answer = DrillAnswer(
        round=DrillRound.MAIN,
        nickname=dirty,
        user_id=student["id"],
        position=0,
        question_id=BANK.questions[0].id,
        chosen=0,
        correct=True,
        confidence=None,
        elapsed_ms=1000,
        answered_at=0.0,
    )
    answers = list(csv.DictReader(io.StringIO(report_csv(report, [answer], BANK))))
    result = StudentResult(
        user_id=student["id"], nickname=dirty, scores={}, discernment={}, gain=None, calibration=report.calibration
    )
    per_student = list(csv.DictReader(io.StringIO(students_csv(replace(report, student_results=(result,))))))
    assert [r["nickname"] for r in answers + per_student] == ["Old Owl", "Old Owl"]


# ---------------------------------------------------------------------------------------------- channels


async def test_a_channel_opens_a_lobby_with_no_personal_starter(bot: RunningBot) -> None:
    api = bot.api
    admin, member, _ = await make_group(bot)
    mark = api.mark()
    lobby = await say_in_group(bot, CHANNEL_BOT, "/quiz", sender_chat=CHANNEL)
    assert "or when a group admin taps Start" in lobby["text"] and "Players (0): —" in lobby["text"]
    session = await bot.services.group.active(GROUP)
    assert session is not None and (session.starter_id, session.starter_is_chat) == (CHANNEL["id"], True)
    assert await bot.services.group.members(session.id) == []  # the channel does not play; Channel_Bot never does
    # An ordinary member may not start it early; an admin may.
    mark = api.mark()
    api.press_button(member, lobby, keyboard(lobby)[1])
    refused = await api.wait_for("answerCallbackQuery", since=mark)
    assert ONLY_STARTER in refused.params["text"]
    assert await active_phase(bot) is GroupPhase.LOBBY
    mark = api.mark()
    api.press_button(admin, lobby, keyboard(lobby)[1])
    await api.wait_for("answerCallbackQuery", since=mark)
    assert await settled(lambda: active_phase(bot), GroupPhase.ASKING) is GroupPhase.ASKING
    assert not any(api.calls_to("getChatMember", user_id=stand_in) for stand_in in STAND_INS)


async def test_who_may_stop_a_channels_quiz(bot: RunningBot) -> None:
    api = bot.api
    admin, member, _ = await make_group(bot)
    lobby = await say_in_group(bot, CHANNEL_BOT, "/quiz", sender_chat=CHANNEL)
    # An ordinary member: no. Another channel: no (and Telegram is not even asked: a channel is never an admin).
    mark = api.mark()
    assert ONLY_STARTER in (await say_in_group(bot, member, "/stop"))["text"]
    assert ONLY_STARTER in (await say_in_group(bot, CHANNEL_BOT, "/stop", sender_chat=OTHER_CHANNEL))["text"]
    assert ONLY_STARTER in (await say_in_group(bot, member, "/skip"))["text"]
    assert api.calls_to("getChatMember", since=mark, user_id=member["id"])
    assert not any(api.calls_to("getChatMember", since=mark, user_id=stand_in) for stand_in in STAND_INS)
    assert await active_phase(bot) is GroupPhase.LOBBY
    # An admin: yes.
    assert "⏹ Ada Admin stopped the quiz" in await stop_lobby(bot, admin, lobby)
    assert await active_phase(bot) is None
    # The same channel: yes, and the lobby names it (its title cleaned like any name).
    lobby = await say_in_group(bot, CHANNEL_BOT, "/quiz", sender_chat=CHANNEL)
    stopped = await stop_lobby(bot, CHANNEL_BOT, lobby, sender_chat=CHANNEL)
    assert "⏹ Daily News stopped the quiz" in stopped and clean(stopped)
    assert await active_phase(bot) is None
    # A channel may not stop a quiz a person started.
    await say_in_group(bot, member, "/quiz")
    assert ONLY_STARTER in (await say_in_group(bot, CHANNEL_BOT, "/stop", sender_chat=CHANNEL))["text"]
    assert await active_phase(bot) is GroupPhase.LOBBY


async def test_the_channel_skips_its_question_and_its_own_vote_does_not_count(fast: RunningBot) -> None:
    api = fast.api
    admin, member, _ = await make_group(fast)
    lobby = await say_in_group(fast, CHANNEL_BOT, "/quiz", sender_chat=CHANNEL)
    mark = api.mark()
    api.press_button(member, lobby, keyboard(lobby)[0])
    api.press_button(admin, lobby, keyboard(lobby)[1])
    poll = (await api.wait_for("sendPoll", since=mark, chat_id=GROUP, timeout=15)).result
    # A vote on behalf of the channel: Telegram sets voter_chat, and Channel_Bot in `user` for old clients.
    option = poll["poll"]["options"][0]["persistent_id"]
    vote = objects.poll_answer(poll["poll"]["id"], CHANNEL_BOT, [0], [option])
    api.inject({"poll_answer": {**vote, "voter_chat": CHANNEL}})
    await asyncio.sleep(0.5)  # time to be (wrongly) counted, before the question closes
    mark = api.mark()
    api.send_text(CHANNEL_BOT, "/skip", GROUP, sender_chat=CHANNEL)
    reveal = await api.wait_for("sendMessage", lambda c: "the answer" in c.params["text"], since=mark, chat_id=GROUP)
    assert "0 answered" in reveal.params["text"], reveal.params["text"]
    session = session_of(lobby)
    async with fast.stored() as store:
        answers = await store.answers(session_id=SessionId(session))
    assert answers == []
    members = await fast.services.group.members(session)
    assert [m.user_id for m in members] == [member["id"]]


async def test_an_anonymous_admin_opens_and_stops_a_quiz_and_sets_the_language(bot: RunningBot) -> None:
    api = bot.api
    _, member, _ = await make_group(bot)
    group_chat = api.chat_state(GROUP).chat
    mark = api.mark()
    lobby = await say_in_group(bot, ANONYMOUS_ADMIN, "/quiz", sender_chat=group_chat)
    assert "or when a group admin taps Start" in lobby["text"] and "Players (0): —" in lobby["text"]
    session = await bot.services.group.active(GROUP)
    assert session is not None and (session.starter_id, session.starter_is_chat) == (GROUP, True)
    assert ONLY_STARTER in (await say_in_group(bot, member, "/stop"))["text"]
    stopped = await stop_lobby(bot, ANONYMOUS_ADMIN, lobby, sender_chat=group_chat)
    assert "⏹ Fact Checkers stopped the quiz" in stopped and clean(stopped)
    # An anonymous admin is an admin: they stop a member's quiz, and choose the group's language.
    lobby = await say_in_group(bot, member, "/quiz")
    assert "⏹ Fact Checkers stopped" in await stop_lobby(bot, ANONYMOUS_ADMIN, lobby, sender_chat=group_chat)
    languages = await say_in_group(bot, ANONYMOUS_ADMIN, "/lang", sender_chat=group_chat)
    assert "Only a group admin" not in languages["text"] and keyboard(languages)
    assert not any(api.calls_to("getChatMember", since=mark, user_id=stand_in) for stand_in in STAND_INS)
