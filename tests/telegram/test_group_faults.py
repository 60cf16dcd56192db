"""A live group quiz through a long run of Bot API faults: 429s, 500s, slow replies and dropped connections.

For twelve seconds every method a group quiz uses (sendPoll, stopPoll, sendMessage, editMessageText,
answerCallbackQuery) meets a script of faults while six members join and answer (some polls are answered while
the sendPoll reply is still on its way); then the faults stop, but for one dropped reply on the final reveal, and
the session runs to its podium. Afterwards the chat must read lobby, poll 1, reveal 1, ... podium with nothing
twice or missing, every answer delivered must be scored (at the reveal, in the database, on the podium), nothing
may be logged as an error, and the bot must still be serving. About 14 s.

Dropped connections hit sendMessage only *after* Telegram has sent the message (the case where a retry would
show it twice) and sendPoll not at all: when a sendPoll connection drops, nothing can tell the bot whether the
poll exists or what its id is, so neither a retry (maybe a second poll) nor none (maybe a lost question) is right.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from dataclasses import dataclass, field
from typing import Any

import pytest

from bot.core.group import ChatId, GroupPhase, GroupSessionId
from tests.emulator import BotApiEmulator
from tests.telegram.conftest import BANK, settled, stored
from tests.telegram.test_group import (
    GROUP,
    asked,
    correct_of,
    groups,
    keyboard,
    make_group,
    open_lobby,
    session_of,
    start_runtime,
)

QUESTIONS = 4
PACE = {
    "QUIZ_LENGTH": str(QUESTIONS),
    "GROUP_LOBBY_SECONDS": "60",
    "GROUP_QUESTION_SECONDS": "5",
    "GROUP_REVEAL_SECONDS": "0.1",
    "GROUP_MIN_CYCLE_SECONDS": "0.2",
}
STORM_SECONDS = 12.0
# Who answers each question (member indexes), and who of them answers right. Members 0-3 are in from the lobby;
# 4 and 5 join by the lobby's button while question 2 is open, and 5 then sits it out, so question 2 closes on
# its deadline (a JobQueue job) rather than on "everyone has answered".
ANSWERING = [{0, 1, 2, 3}, {0, 1, 2, 3, 4}, {0, 1, 2, 3, 4, 5}, {0, 1, 2, 3, 4, 5}]
RIGHT = [{0, 1, 2, 3}, {0, 2, 4}, {1, 3, 5}, {0}]
LATE_PRESSES = (4, 5, 1)  # member 1 presses Join again: "already in"

Fault = tuple[str, dict[str, Any]]
TOO_MANY: Fault = ("fail", {"status": 429, "retry_after": 1})
SERVER_ERROR: Fault = ("fail", {"status": 500})
DROPPED_AFTER: Fault = ("drop", {"processed": True})  # done, but the reply never arrives
DROPPED_BEFORE: Fault = ("drop", {"processed": False})  # never reached Telegram


def slow(seconds: float) -> Fault:
    return ("delay", {"seconds": seconds})


# Per method, the faults its calls meet in turn while the storm lasts: each is armed once the previous one has
# been met (plus a short gap), so they spread over the session rather than all falling on one request.
SCRIPT: dict[str, list[Fault]] = {
    "answerCallbackQuery": [SERVER_ERROR, DROPPED_BEFORE, TOO_MANY, slow(1.0)],
    "editMessageText": [SERVER_ERROR],  # the lobby's last edit, as the first question goes out
    "sendPoll": [slow(2.0), TOO_MANY, SERVER_ERROR],
    "stopPoll": [SERVER_ERROR, DROPPED_AFTER, SERVER_ERROR, slow(1.0)],
    "sendMessage": [TOO_MANY, DROPPED_AFTER, SERVER_ERROR, slow(1.0)],
}


@dataclass
class FaultStorm:
    """Arms the scripted faults one after another for `seconds`, then disarms whatever is left."""

    api: BotApiEmulator
    script: dict[str, list[Fault]]
    seconds: float
    gap: float = 0.3
    since: int = 0
    armed: dict[str, int] = field(default_factory=dict)

    def _arm(self, method: str, fault: Fault) -> None:
        kind, options = fault
        if kind == "fail":
            self.api.fail_next(method, **options)
        elif kind == "drop":
            self.api.drop_next(method, **options)
        else:
            self.api.delay(method, **options)

    def met(self, method: str) -> int:
        return len(self.api.calls_to(method, lambda c: c.fault is not None, since=self.since))

    async def run(self) -> None:
        self.since = self.api.mark()
        self.armed = dict.fromkeys(self.script, 0)
        ready_at = dict.fromkeys(self.script, 0.0)
        end = time.monotonic() + self.seconds
        try:
            while time.monotonic() < end:
                for method, faults in self.script.items():
                    done = self.armed[method]
                    if done >= len(faults) or self.met(method) < done:
                        continue  # the script is over, or the armed fault has not been met yet
                    if done and not ready_at[method]:
                        ready_at[method] = time.monotonic() + self.gap
                    if time.monotonic() >= ready_at[method]:
                        self._arm(method, faults[done])
                        self.armed[method] = done + 1
                        ready_at[method] = 0.0
                await asyncio.sleep(0.02)
        finally:
            self.api.clear_faults()


def bot_messages(api: BotApiEmulator) -> list[dict]:
    return api.messages(GROUP)


def polls_in_chat(api: BotApiEmulator) -> list[dict]:
    return [m for m in bot_messages(api) if "poll" in m]


async def poll_in_chat(api: BotApiEmulator, position: int, timeout: float = 20.0) -> dict:  # noqa: ASYNC109
    """The poll message of question `position` as soon as it is in the chat (before the bot may know its id)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        polls = polls_in_chat(api)
        if len(polls) > position:
            return polls[position]
        await asyncio.sleep(0.02)
    recent = "\n  ".join(c.short() for c in api.calls[-20:])
    raise AssertionError(f"no poll for question {position + 1} after {timeout}s; recent calls:\n  {recent}")


async def text_in_chat(api: BotApiEmulator, words: str, timeout: float = 20.0) -> dict:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [m for m in bot_messages(api) if words in m.get("text", "")]
        if found:
            return found[0]
        await asyncio.sleep(0.02)
    recent = "\n  ".join(c.short() for c in api.calls[-20:])
    raise AssertionError(f"no message with {words!r} after {timeout}s; recent calls:\n  {recent}")


def kind_of(text: str, unnumbered: dict[str, str]) -> str:
    """What a bot message in the group is: the lobby, a question's poll or reveal, the podium, the /stats reply.
    `unnumbered` gives the "n/N" of each question by its prompt: a long one goes out without its number."""
    if text in unnumbered:
        return f"poll {unnumbered[text]}"
    if number := re.match(r"(\d+/\d+)\. ", text):
        return f"poll {number.group(1)}"
    if number := re.match(r"⏱ Question (\d+/\d+): the answer", text):
        return f"reveal {number.group(1)}"
    for kind, words in (("lobby", "🎬 Group quiz"), ("podium", "🏁 Final results"), ("stats", "This group has played")):
        if words in text.split("\n", 1)[0]:
            return kind
    return text[:40]


@pytest.mark.slow
async def test_a_storm_of_api_faults_mid_session_loses_no_answer_and_repeats_nothing(
    bot_api: BotApiEmulator, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    api = bot_api
    runtime = await start_runtime(api, database_url, **PACE)
    storm = FaultStorm(api, SCRIPT, STORM_SECONDS)
    storm_task: asyncio.Task[None] | None = None
    try:
        users = make_group(api, size=6)
        lobby = await open_lobby(api, users[0])
        session_id = session_of(lobby)
        join, start = keyboard(lobby)

        async def members() -> int:
            return len(await groups(runtime).members(session_id))

        for user in users[1:4]:
            api.press_button(user, lobby, join)
        await api.wait_for("answerCallbackQuery", count=3)

        storm_task = asyncio.create_task(storm.run())
        await asyncio.sleep(0.05)  # the first faults are armed
        api.press_button(users[0], lobby, start)
        for position in range(QUESTIONS):
            poll = await poll_in_chat(api, position)
            assert await asked(runtime, lobby, poll) == f"{position + 1}/{QUESTIONS}"
            if position == 1:  # the late-comers press Join while question 2 is open
                for index in LATE_PRESSES:
                    api.press_button(users[index], lobby, join)
                    await asyncio.sleep(0.4)
                assert await settled(members, 6, timeout=10) == 6
            if position == QUESTIONS - 1:
                await storm_task  # over by now: faults are off, but for one last blow: the final reveal
                api.drop_next("sendMessage", processed=True)  # is shown and its reply lost, and the podium must follow
            correct = correct_of(poll)
            wrong = (correct + 1) % len(poll["poll"]["options"])
            for index in sorted(ANSWERING[position]):
                api.answer_poll(users[index], poll["poll"]["id"], [correct if index in RIGHT[position] else wrong])
            await text_in_chat(api, f"Question {position + 1}/{QUESTIONS}: the answer")
        podium = await text_in_chat(api, "Final results")
        await api.wait_idle(quiet=0.5, timeout=10)

        # The storm really hit every method, with every kind of fault.
        faulted = [c for c in api.calls[storm.since :] if c.fault is not None]
        assert {c.method for c in faulted} == set(SCRIPT), [c.short() for c in faulted]
        assert {c.status for c in faulted} >= {0, 429, 500}, [c.short() for c in faulted]
        assert any(c.fault == "delay" and c.method == "sendPoll" for c in faulted)
        assert any(c.fault == "drop" and c.method == "sendMessage" for c in faulted)
        last = f"Question {QUESTIONS}/{QUESTIONS}: the answer"
        assert any(c.fault == "drop" and last in c.params.get("text", "") for c in faulted)

        # The bot is still up and still answers.
        assert runtime.application is not None and runtime.application.running
        assert runtime.application.updater is not None and runtime.application.updater.running
        mark = api.mark()
        api.send_text(users[2], "/stats", GROUP)
        stats = await api.wait_for("sendMessage", since=mark, chat_id=GROUP, timeout=10)
        assert "This group has played 1 quiz." in stats.params["text"]
        session = await groups(runtime).get(session_id)
        assert session is not None
        prompts = [BANK.get(item.question_id).prompt.en for item in session.items]  # type: ignore[union-attr]
        unnumbered = {prompt: f"{n}/{QUESTIONS}" for n, prompt in enumerate(prompts, 1)}
    finally:
        if storm_task is not None and not storm_task.done():
            storm_task.cancel()
        await runtime.stop()

    # Nothing that matters is in the chat twice, or missing, or out of order: the lobby, each question's poll
    # followed by its reveal, the podium, then the /stats reply.
    shown = [m["poll"]["question"] if "poll" in m else m["text"] for m in bot_messages(api)]
    expected_order = ["lobby"]
    for number in range(1, QUESTIONS + 1):
        expected_order += [f"poll {number}/{QUESTIONS}", f"reveal {number}/{QUESTIONS}"]
    expected_order += ["podium", "stats"]
    assert [kind_of(text, unnumbered) for text in shown] == expected_order, shown
    reveals = [text for text in shown if kind_of(text, unnumbered).startswith("reveal")]

    # Every answer delivered is scored: at the reveal, in the database and on the podium.
    for position, text in enumerate(reveals):
        tally = f"{len(ANSWERING[position])} answered, {len(RIGHT[position])} right"
        assert tally in text, (position, text)
    expected = sorted(
        (users[index]["id"], position, int(index in RIGHT[position]))
        for position in range(QUESTIONS)
        for index in ANSWERING[position]
    )
    async with stored(database_url) as store:  # the bot has stopped: what it left in the database
        answers = await store.answers()
        session = await store.get_group_session(GroupSessionId(session_id))
        played, _ = await store.group_history(ChatId(GROUP))
    assert sorted((a.user_id, a.position, int(a.correct)) for a in answers) == expected
    points: dict[int, int] = {}
    for answer in answers:
        points[answer.user_id] = points.get(answer.user_id, 0) + answer.points
    for index, user in enumerate(users):
        right = sum(index in RIGHT[position] for position in range(QUESTIONS))
        line = f"{user['first_name']}: {points[user['id']]} ({right}/{QUESTIONS} right)"
        assert line in podium["text"], (line, podium["text"])
    assert session is not None and session.phase is GroupPhase.FINISHED and played == 1
    # Faults are weather, not bugs: nothing was logged as an unexpected error.
    unexpected = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not unexpected, [r.getMessage() for r in unexpected]
