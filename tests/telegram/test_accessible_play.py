"""Accessible play end to end: /quiz options in a group (accuracy only, no clock), and the teacher's drill panel
counting every answer, self-paced as well as live."""

from __future__ import annotations

import asyncio

import pytest

from bot.core.group import GroupPhase
from bot.telegram.group import parse_quiz_args
from tests.emulator import BotApiEmulator
from tests.telegram.test_drill import (
    TEACHER,
    buttons,
    data_for,
    join,
    make_drill,
    press,
    right_letter_index,
    students,
)
from tests.telegram.test_drill import (
    start as start_drill_bot,
)
from tests.telegram.test_group import (
    GROUP,
    correct_of,
    groups,
    keyboard,
    make_group,
    next_poll,
    open_lobby,
    session_of,
    start_runtime,
)

# ---------------------------------------------------------------- /quiz options


@pytest.mark.parametrize(
    ("args", "words", "count", "accuracy", "no_clock"),
    [
        ([], [], 3, False, False),
        (["verification", "5"], ["verification"], 5, False, False),
        (["5", "accuracy"], [], 5, True, False),
        (["NoClock", "verification"], ["verification"], 3, False, True),
        (["--accuracy", "-noclock", "2"], [], 2, True, True),
    ],
)
def test_quiz_options_are_parsed(args: list[str], words: list[str], count: int, accuracy: bool, no_clock: bool) -> None:
    wanted = parse_quiz_args(args, default_count=3)
    assert wanted is not None
    assert (wanted.words, wanted.count, wanted.accuracy_only, wanted.no_clock) == (words, count, accuracy, no_clock)


@pytest.mark.parametrize("args", [["--fast"], ["verification", "-x"], ["-5"]])
def test_an_unknown_dashed_option_is_refused(args: list[str]) -> None:
    assert parse_quiz_args(args, default_count=3) is None


async def test_a_bad_quiz_option_gets_one_line_of_usage(bot_api: BotApiEmulator, database_url: str) -> None:
    runtime = await start_runtime(bot_api, database_url)
    try:
        users = make_group(bot_api, size=2)
        reply = await open_lobby(bot_api, users[0], text="/quiz --fast")
        assert reply["text"].startswith("Usage: /quiz [topic] [number of questions] [accuracy] [noclock]")
        assert "\n" not in reply["text"] and await groups(runtime).active(GROUP) is None
    finally:
        await runtime.stop()


@pytest.mark.slow  # two 2.5 s waits in which nothing may happen
async def test_an_accuracy_only_quiz_with_no_clock(bot_api: BotApiEmulator, database_url: str) -> None:
    # A one-second question: a timed quiz would reveal long before the waits below end.
    runtime = await start_runtime(bot_api, database_url, GROUP_QUESTION_SECONDS="1")
    api = bot_api
    try:
        users = make_group(api, size=3)
        lobby = await open_lobby(api, users[0], text="/quiz 2 accuracy noclock")
        text = lobby["text"]
        assert "Group quiz: 2 questions, no time limit." in text
        assert "Accuracy only: 1 point per right answer" in text and "No clock:" in text
        join, begin = keyboard(lobby)
        api.press_button(users[1], lobby, join)
        await api.wait_for("answerCallbackQuery")
        mark = api.mark()
        api.press_button(users[0], lobby, begin)
        poll = await next_poll(api, GROUP, mark)
        assert "open_period" not in api.calls_to("sendPoll", since=mark)[0].params  # the poll has no timer either
        await asyncio.sleep(2.5)  # more than the question's time and two sweeps: nothing moves on by itself
        assert not api.calls_to("stopPoll", since=mark)
        session = await groups(runtime).get(session_of(lobby))
        assert session is not None and session.phase is GroupPhase.ASKING and session.deadline is None
        correct = correct_of(poll)
        wrong = (correct + 1) % len(poll["poll"]["options"])
        mark = api.mark()
        api.answer_poll(users[0], poll["poll"]["id"], [wrong])
        api.answer_poll(users[1], poll["poll"]["id"], [correct])
        reveal = await api.wait_for(
            "sendMessage", lambda c: "the answer" in c.params["text"], since=mark, chat_id=GROUP
        )
        text = reveal.params["text"]
        assert "1. Member1: 1 right" in text and "2. Member0: 0 right" in text
        assert "sends /skip for the next question" in text
        await asyncio.sleep(2.5)  # the reveal waits for the starter too
        assert not api.calls_to("sendPoll", since=mark)
        mark = api.mark()
        api.send_text(users[0], "/skip", GROUP)
        poll = await next_poll(api, GROUP, mark)
        correct = correct_of(poll)
        mark = api.mark()
        for user in users[:2]:
            api.answer_poll(user, poll["poll"]["id"], [correct])
        podium = await api.wait_for(
            "sendMessage", lambda c: "Final results" in c.params["text"], since=mark, chat_id=GROUP
        )
        assert "🥇 Member1: 2/2 right" in podium.params["text"] and "🥈 Member0: 1/2 right" in podium.params["text"]
        finished = await groups(runtime).get(session_of(lobby))
        assert finished is not None
        standings = (await groups(runtime).podium(finished)).standings
        assert [(s.points, s.correct) for s in standings] == [(2, 2), (1, 1)]
    finally:
        await runtime.stop()


async def test_a_plain_quiz_still_has_its_clock_and_speed_points(bot_api: BotApiEmulator, database_url: str) -> None:
    runtime = await start_runtime(bot_api, database_url)
    try:
        users = make_group(bot_api, size=2)
        lobby = await open_lobby(bot_api, users[0], text="/quiz 2")
        assert "6 s each" in lobby["text"] and "Accuracy only" not in lobby["text"] and "No clock" not in lobby["text"]
        mark = bot_api.mark()
        bot_api.press_button(users[0], lobby, keyboard(lobby)[1])
        poll = await next_poll(bot_api, GROUP, mark)
        assert bot_api.calls_to("sendPoll", since=mark)[0].params["open_period"] == 6
        bot_api.answer_poll(users[0], poll["poll"]["id"], [correct_of(poll)])
        reveal = await bot_api.wait_for(
            "sendMessage", lambda c: "the answer" in c.params["text"], since=mark, chat_id=GROUP
        )
        assert "1. Member0: " in reveal.params["text"] and " right" not in reveal.params["text"].split("Leaderboard")[1]
    finally:
        await runtime.stop()


# ---------------------------------------------------------------- the teacher's panel counts every answer


async def panel_says(api: BotApiEmulator, control: dict, words: str) -> None:
    """Wait (a few seconds at most: panel edits are coalesced) for the teacher's panel to be edited to say `words`."""
    await api.wait_for(
        "editMessageText",
        lambda c: words in c.params["text"],
        chat_id=TEACHER,
        message_id=control["message_id"],
        timeout=6,
    )


async def test_the_panel_counts_students_finishing_a_self_paced_round(
    bot_api: BotApiEmulator, database_url: str
) -> None:
    api = bot_api
    runtime = await start_drill_bot(api, database_url)
    try:
        teacher = api.make_user(TEACHER, "Ms Lee", language_code="en")
        code, control = await make_drill(api, teacher, count="5", mode="Self-paced", days="3 days")
        class_ = students(api, 3)
        for n, student in enumerate(class_):
            await say_join(api, student, code, f"Hare {n}")
        await panel_says(api, control, "0/3 finished")
        for student in class_:
            await take_own_quiz(api, student)
        await panel_says(api, control, "3/3 finished")
    finally:
        await runtime.stop()


async def say_join(api: BotApiEmulator, student: dict, code: str, nickname: str) -> None:
    mark = api.mark()
    await join(api, student, code, nickname)
    await api.wait_for("sendMessage", lambda c: "Question 1/5" in c.params["text"], since=mark, chat_id=student["id"])


async def take_own_quiz(api: BotApiEmulator, student: dict) -> None:
    """Answer every question of the student's self-paced quiz (the first is the latest question sent to them)."""
    question = next(
        c.result
        for c in reversed(api.calls_to("sendMessage", chat_id=student["id"]))
        if "Question 1/5" in c.result["text"]
    )
    for _ in range(5):
        await press(api, student, question, buttons(question)[right_letter_index(question["text"])][1])
        rating = api.message(student["id"], question["message_id"])
        await press(api, student, rating, data_for(rating, "Fairly sure"))
        revealed = api.message(student["id"], question["message_id"])
        mark = api.mark()
        api.press_button(student, revealed, buttons(revealed)[0][1])
        question = (await api.wait_for("sendMessage", since=mark, chat_id=student["id"])).result
    assert "Quiz complete" in question["text"]


async def test_the_panel_counts_live_answers(bot_api: BotApiEmulator, database_url: str) -> None:
    api = bot_api
    runtime = await start_drill_bot(api, database_url)
    try:
        teacher = api.make_user(TEACHER, "Ms Lee", language_code="en")
        code, control = await make_drill(api, teacher, count="5")
        class_ = students(api, 2)
        for n, student in enumerate(class_):
            await join(api, student, code, f"Owl {n}")
        panel = api.message(TEACHER, control["message_id"])
        mark = api.mark()
        api.press_button(teacher, panel, data_for(panel, "Start"))
        questions = await api.wait_for("sendMessage", lambda c: c.params["chat_id"] >= 600, since=mark, count=2)
        for call in questions:
            student = next(s for s in class_ if s["id"] == call.params["chat_id"])
            await press(api, student, call.result, buttons(call.result)[0][1])
            rating = api.message(student["id"], call.result["message_id"])
            await press(api, student, rating, data_for(rating, "Certain"))
        await panel_says(api, control, "Question 1/5 is open: 2/2 answered.")
    finally:
        await runtime.stop()
