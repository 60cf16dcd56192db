"""Group quizzes end to end: lobby, polls, buttons, leaderboard, podium, admin controls, faults, restarts."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.core.article import Article
from bot.core.engine import AnswerRecord, SessionId, UserId
from bot.core.group import GroupPhase, GroupRules
from bot.core.lang import Lang
from bot.core.limits import POLL_LIMITS
from bot.core.loader import load_bank
from bot.services.group import GroupService
from bot.telegram.app import BotRuntime
from tests.conftest import ARTICLE_TEXT, question_yaml, topic_yaml
from tests.emulator import BotApiEmulator
from tests.telegram.conftest import BANK, bot_settings, settled, stored

GROUP = -1001
FAST = {
    "GROUP_LOBBY_SECONDS": "30",
    "GROUP_QUESTION_SECONDS": "6",
    "GROUP_REVEAL_SECONDS": "0.1",
    "GROUP_MIN_CYCLE_SECONDS": "0.2",
    "QUIZ_LENGTH": "3",
}


def keyboard(message: dict) -> list[str]:
    return [b["callback_data"] for row in message.get("reply_markup", {}).get("inline_keyboard", []) for b in row]


def session_of(lobby: dict) -> str:
    """The id of the group session a lobby message is for (its Join button carries it)."""
    join = keyboard(lobby)[0]
    assert join.startswith("j:"), join
    return join.removeprefix("j:")


def groups(runtime: BotRuntime) -> GroupService:
    assert runtime.services is not None, "the bot is not running"
    return runtime.services.group


async def phase(runtime: BotRuntime, session_id: str) -> GroupPhase | None:
    session = await groups(runtime).get(session_id)
    return session.phase if session is not None else None


async def answers_to(database_url: str, session_id: str) -> list[AnswerRecord]:
    """Every answer stored for a group session (no service lists them one by one)."""
    async with stored(database_url) as store:
        return await store.answers(session_id=SessionId(session_id))


async def first_answerers(database_url: str, session_id: str) -> list[int]:
    """Who has an answer stored to the session's first question, in id order (one entry per answer)."""
    return sorted(a.user_id for a in await answers_to(database_url, session_id) if a.position == 0)


async def start_runtime(api: BotApiEmulator, database_url: str, bank=BANK, **overrides: str) -> BotRuntime:
    runtime = BotRuntime(bot_settings(api, database_url, **(FAST | overrides)), bank)
    await runtime.start(poll_timeout=1.0)
    return runtime


@pytest.fixture
async def group_bot(bot_api: BotApiEmulator, database_url: str):
    runtime = await start_runtime(bot_api, database_url)
    yield bot_api, runtime, database_url
    await runtime.stop()


def make_group(
    api: BotApiEmulator, chat_id: int = GROUP, size: int = 30, first_id: int = 1000, kind: str = "supergroup"
):
    users = [api.make_user(first_id + n, f"Member{n}", language_code="en") for n in range(size)]
    api.add_group(chat_id, f"Group {chat_id}", type=kind, admins=[users[0]], members=users[1:])
    return users


async def open_lobby(api: BotApiEmulator, starter: dict, chat_id: int = GROUP, text: str = "/quiz") -> dict:
    mark = api.mark()
    api.send_text(starter, text, chat_id)
    return (await api.wait_for("sendMessage", since=mark, chat_id=chat_id)).result


async def next_poll(api: BotApiEmulator, chat_id: int, since: int) -> dict:
    return (await api.wait_for("sendPoll", since=since, chat_id=chat_id, timeout=15)).result


async def asked(runtime: BotRuntime, lobby: dict, poll_message: dict) -> str:
    """Which question of the lobby's session a poll asks, as "n/N", found by its prompt (English). A poll shows
    "n/N. prompt" unless the number would push a long prompt past a poll's 300 characters: then the prompt alone, so
    the number it starts with cannot tell (the session's questions are drawn at random)."""
    session = await groups(runtime).get(session_of(lobby))
    assert session is not None, "no session"
    shown = poll_message["poll"]["question"]
    prompts = [BANK.get(item.question_id).prompt.en for item in session.items]  # type: ignore[union-attr]
    numbers = [n for n, prompt in enumerate(prompts, 1) if shown.endswith(prompt)]
    assert len(numbers) == 1, f"{shown!r} is not one of the session's questions"
    number = f"{numbers[0]}/{session.total}"
    assert shown.startswith(f"{number}. ") or len(f"{number}. {shown}") > POLL_LIMITS.max_question_chars, shown
    return number


def correct_of(poll_message: dict) -> int:
    poll = poll_message["poll"]
    return poll["correct_option_ids"][0] if "correct_option_ids" in poll else poll["correct_option_id"]


async def play_question(api: BotApiEmulator, users: list[dict], poll_message: dict, right: set[int]) -> None:
    """Everyone answers; members whose index is in `right` answer right."""
    correct = correct_of(poll_message)
    wrong = (correct + 1) % len(poll_message["poll"]["options"])
    for index, user in enumerate(users):
        api.answer_poll(user, poll_message["poll"]["id"], [correct if index in right else wrong])


async def test_adding_the_bot_posts_an_introduction_in_the_adders_language(group_bot) -> None:
    api, runtime, _ = group_bot
    adder = api.make_user(7, "Ada", language_code="zh-hans")
    mark = api.mark()
    api.add_bot_to_group(-2002, adder, title="Class 3B")
    intro = await api.wait_for("sendMessage", since=mark, chat_id=-2002)
    assert "大家好！我是深伪识破小测验" in intro.params["text"]
    assert await groups(runtime).lang(-2002) is Lang.ZH_HANS


async def test_thirty_members_play_a_whole_session(group_bot) -> None:
    api, runtime, _ = group_bot
    users = make_group(api)
    lobby = await open_lobby(api, users[0], text="/quiz 3")
    assert "Group quiz: 3 questions" in lobby["text"] and keyboard(lobby)[0].startswith("j:")
    join, start = keyboard(lobby)
    for user in users[1:20]:  # 19 join; the other 10 will answer without joining, which joins them
        api.press_button(user, lobby, join)
    await api.wait_for("answerCallbackQuery", count=19)
    mark = api.mark()
    api.press_button(users[0], lobby, start)
    for number in range(3):
        poll = await next_poll(api, GROUP, mark)
        assert poll["poll"]["type"] == "quiz" and poll["poll"]["is_anonymous"] is False
        assert await asked(runtime, lobby, poll) == f"{number + 1}/3"
        mark = api.mark()
        await play_question(api, users, poll, right=set(range(number % 2, 30, 2)))
        reveal = await api.wait_for(
            "sendMessage", lambda c: "the answer" in c.params["text"], since=mark, chat_id=GROUP
        )
        assert api.calls_to("stopPoll", since=mark, chat_id=GROUP), "closed early: everyone answered"
        text = reveal.params["text"]
        assert "Right answer:" in text and "💡 Why" in text and "30 answered, 15 right" in text
        assert "Leaderboard:" in text and "1. Member" in text
    podium = await api.wait_for("sendMessage", lambda c: "Final results" in c.params["text"], since=mark, chat_id=GROUP)
    text = podium.params["text"]
    assert text.count("🥇") == 1 and "🥈" in text and "🥉" in text and "Accuracy per question:" in text
    assert "1. 50% (15/30)" in text
    played, [record] = await groups(runtime).history(GROUP)
    assert (played, record.session_id, record.players, record.answered) == (1, session_of(lobby), 30, 90)
    session = await groups(runtime).get(record.session_id)
    assert session is not None and session.phase is GroupPhase.FINISHED
    standings = (await groups(runtime).podium(session)).standings
    assert sorted((s.user_id, s.answered) for s in standings) == [(u["id"], 3) for u in users]  # all 3, each of 30
    # The group's history, and a member's own progress including group play.
    mark = api.mark()
    api.send_text(users[3], "/stats", GROUP)
    history = await api.wait_for("sendMessage", since=mark, chat_id=GROUP)
    assert "This group has played 1 quiz." in history.params["text"]
    mark = api.mark()
    api.send_text(users[3], "/stats")
    mine = await api.wait_for("sendMessage", since=mark, chat_id=users[3]["id"])
    assert "Score: " in mine.params["text"] and "/3" in mine.params["text"]


async def test_a_second_answer_and_an_answer_to_a_closed_poll_count_nothing(group_bot) -> None:
    api, _, database_url = group_bot
    users = make_group(api, size=3)
    lobby = await open_lobby(api, users[0])
    mark = api.mark()
    api.press_button(users[0], lobby, keyboard(lobby)[1])
    poll = await next_poll(api, GROUP, mark)
    api.answer_poll(users[1], poll["poll"]["id"], [0])
    api.answer_poll(users[1], poll["poll"]["id"], [1], force=True)  # Telegram never sends this; the bot copes
    mark = api.mark()
    api.answer_poll(users[0], poll["poll"]["id"], [0])
    await api.wait_for("sendMessage", lambda c: "the answer" in c.params["text"], since=mark, chat_id=GROUP)
    api.answer_poll(users[2], poll["poll"]["id"], [0])  # after the reveal
    await asyncio.sleep(0.5)
    assert await first_answerers(database_url, session_of(lobby)) == [1000, 1001]


async def test_an_admin_stops_a_quiz_and_a_non_admin_is_refused(group_bot) -> None:
    api, runtime, _ = group_bot
    users = make_group(api, size=4)
    starter, admin, other = users[2], users[0], users[3]
    lobby = await open_lobby(api, starter)
    mark = api.mark()
    api.press_button(starter, lobby, keyboard(lobby)[1])
    await next_poll(api, GROUP, mark)
    mark = api.mark()
    api.send_text(other, "/stop", GROUP)
    refusal = await api.wait_for("sendMessage", since=mark, chat_id=GROUP)
    assert "Only whoever started the quiz or a group admin" in refusal.params["text"]
    assert api.calls_to("getChatMember", since=mark, user_id=other["id"])
    mark = api.mark()
    api.send_text(other, "/skip", GROUP)
    assert "Only whoever" in (await api.wait_for("sendMessage", since=mark, chat_id=GROUP)).params["text"]
    mark = api.mark()
    api.press_raw(other, GROUP, lobby["message_id"], keyboard(lobby)[0].replace("j:", "b:"))
    await api.wait_for("answerCallbackQuery", since=mark)
    mark = api.mark()
    api.send_text(admin, "/stop", GROUP)
    podium = await api.wait_for("sendMessage", since=mark, chat_id=GROUP)
    assert "Member0 stopped the quiz" in podium.params["text"] and "Final results" in podium.params["text"]
    assert await phase(runtime, session_of(lobby)) is GroupPhase.STOPPED
    mark = api.mark()
    api.send_text(other, "/quiz", GROUP)  # a new one may start now
    assert "Group quiz" in (await api.wait_for("sendMessage", since=mark, chat_id=GROUP)).params["text"]


async def test_one_session_per_group_and_two_groups_at_once(group_bot) -> None:
    api, runtime, _ = group_bot
    first = make_group(api, GROUP, size=5, first_id=1000)
    second = make_group(api, -1002, size=5, first_id=2000)
    lobby_a = await open_lobby(api, first[0])
    again = await open_lobby(api, first[1])
    assert "A quiz is already running here" in again["text"]
    lobby_b = await open_lobby(api, second[0], -1002)
    mark = api.mark()
    api.press_button(first[0], lobby_a, keyboard(lobby_a)[1])
    api.press_button(second[0], lobby_b, keyboard(lobby_b)[1])
    for _ in range(3):
        poll_a = await next_poll(api, GROUP, mark)
        poll_b = await next_poll(api, -1002, mark)
        mark = api.mark()
        await play_question(api, first, poll_a, right={0, 1, 2, 3, 4})
        await play_question(api, second, poll_b, right=set())
        await api.wait_for("sendMessage", lambda c: "the answer" in c.params["text"], since=mark, chat_id=GROUP)
        await api.wait_for("sendMessage", lambda c: "the answer" in c.params["text"], since=mark, chat_id=-1002)
    await api.wait_for("sendMessage", lambda c: "Final results" in c.params["text"], since=mark, chat_id=GROUP)
    await api.wait_for("sendMessage", lambda c: "Final results" in c.params["text"], since=mark, chat_id=-1002)
    for chat_id, lobby, right in ((GROUP, lobby_a, 15), (-1002, lobby_b, 0)):
        played, [record] = await groups(runtime).history(chat_id)
        assert (played, record.session_id, record.correct, record.answered) == (1, session_of(lobby), right, 15)


async def test_nobody_answering_twice_pauses_and_resume_goes_on(bot_api: BotApiEmulator, database_url: str) -> None:
    runtime = await start_runtime(bot_api, database_url, GROUP_QUESTION_SECONDS="1")
    try:
        users = make_group(bot_api, size=3)
        lobby = await open_lobby(bot_api, users[0])
        mark = bot_api.mark()
        bot_api.press_button(users[0], lobby, keyboard(lobby)[1])
        paused = await bot_api.wait_for(
            "sendMessage", lambda c: "paused" in c.params["text"], since=mark, chat_id=GROUP, timeout=15
        )
        assert len(bot_api.calls_to("sendPoll", since=mark)) == 2
        mark = bot_api.mark()
        bot_api.press_button(users[1], paused.result, keyboard(paused.result)[0])
        poll = await next_poll(bot_api, GROUP, mark)
        assert await asked(runtime, lobby, poll) == "3/3"
    finally:
        await runtime.stop()


async def test_a_restart_mid_session_loses_no_answer_and_counts_none_twice(
    bot_api: BotApiEmulator, database_url: str
) -> None:
    runtime = await start_runtime(bot_api, database_url, GROUP_QUESTION_SECONDS="4")
    users = make_group(bot_api, size=4)
    lobby = await open_lobby(bot_api, users[0])
    for user in users[1:]:
        bot_api.press_button(user, lobby, keyboard(lobby)[0])
    await bot_api.wait_for("answerCallbackQuery", count=3)
    mark = bot_api.mark()
    bot_api.press_button(users[0], lobby, keyboard(lobby)[1])
    poll = await next_poll(bot_api, GROUP, mark)
    for user in users[:2]:
        bot_api.answer_poll(user, poll["poll"]["id"], [correct_of(poll)])
    two_in = [users[0]["id"], users[1]["id"]]
    await settled(lambda: first_answerers(database_url, session_of(lobby)), two_in, timeout=2.5)
    await runtime.stop()  # the bot goes down with question 1 open and 2 of 4 answers in
    # While it is down, a third member answers and the first one tries again.
    bot_api.answer_poll(users[2], poll["poll"]["id"], [correct_of(poll)])
    bot_api.answer_poll(users[0], poll["poll"]["id"], [0], force=True)
    mark = bot_api.mark()
    runtime = await start_runtime(bot_api, database_url, GROUP_QUESTION_SECONDS="4")
    try:
        reveal = await bot_api.wait_for(
            "sendMessage", lambda c: "the answer" in c.params["text"], since=mark, chat_id=GROUP, timeout=15
        )
        assert "3 answered, 3 right" in reveal.params["text"]
        second = await next_poll(bot_api, GROUP, mark)
        assert await asked(runtime, lobby, second) == "2/3"
        assert await first_answerers(database_url, session_of(lobby)) == [u["id"] for u in users[:3]]
    finally:
        await runtime.stop()


async def test_questions_that_do_not_fit_a_poll_use_buttons(
    bot_api: BotApiEmulator, database_url: str, tmp_path: Path
) -> None:
    article = tmp_path / "article.txt"
    article.write_text(ARTICLE_TEXT, encoding="utf-8")
    long = topic_yaml("alpha", [question_yaml(f"alpha-{n}", extra="") for n in range(2)]).replace(
        "en: Cause and effect is a weak spot.", "en: " + "Too long for a poll. " * 12
    )
    (tmp_path / "bank").mkdir()
    (tmp_path / "bank" / "alpha.yaml").write_text(long, encoding="utf-8")
    bank = load_bank([tmp_path / "bank"], article=Article.load(article)).bank
    runtime = await start_runtime(bot_api, database_url, bank=bank)
    try:
        users = make_group(bot_api, size=2)
        lobby = await open_lobby(bot_api, users[0])
        mark = bot_api.mark()
        bot_api.press_button(users[0], lobby, keyboard(lobby)[1])
        question = await bot_api.wait_for(
            "sendMessage", lambda c: "Question 1/2" in c.params["text"], since=mark, chat_id=GROUP
        )
        buttons = keyboard(question.result)
        assert [b.split(":")[0] for b in buttons] == ["g", "g", "g"]
        mark = bot_api.mark()
        bot_api.press_button(users[1], question.result, buttons[0])
        ack = await bot_api.wait_for("answerCallbackQuery", since=mark)
        assert ack.params["text"] == "Got your answer: A"
        bot_api.press_button(users[1], question.result, buttons[1])
        again = await bot_api.wait_for("answerCallbackQuery", since=ack)
        assert again.params["text"] == "You've already answered this one."
        # The reveal edit meets a 500, then a connection dropped after Telegram made the edit: asked again, it is
        # shown once, on the question's own message.
        bot_api.fail_next("editMessageText", status=500, chat_id=GROUP)
        bot_api.drop_next("editMessageText", chat_id=GROUP, processed=True)
        bot_api.press_button(users[0], question.result, buttons[0])
        edits = await bot_api.wait_for(
            "editMessageText", since=mark, chat_id=GROUP, message_id=question.result["message_id"], count=3, timeout=15
        )
        assert [e.status for e in edits] == [500, 0, 400]  # refused, dropped after the edit, "not modified"
        shown = bot_api.message(GROUP, question.result["message_id"])["text"]
        assert "the answer" in shown and "2 answered" in shown
        await bot_api.wait_for("sendMessage", lambda c: "Question 2/2" in c.params["text"], since=mark, timeout=15)
        assert len([m for m in bot_api.messages(GROUP) if "the answer" in m.get("text", "")]) == 1
        assert not bot_api.calls_to("sendPoll")
    finally:
        await runtime.stop()


async def test_migration_removal_leaving_and_a_deleted_poll(group_bot) -> None:
    api, runtime, _ = group_bot
    users = make_group(api, size=3, kind="group")
    lobby = await open_lobby(api, users[0])
    api.migrate_group(GROUP, -1009)

    async def chat_now() -> int | None:
        session = await groups(runtime).get(session_of(lobby))
        return session.chat_id if session is not None else None

    assert await settled(chat_now, -1009) == -1009
    assert await groups(runtime).active(GROUP) is None
    mark = api.mark()
    api.press_raw(users[0], -1009, lobby["message_id"], keyboard(lobby)[1])
    poll = await next_poll(api, -1009, mark)
    api.member_left(-1009, users[2])
    await asyncio.sleep(0.3)
    api.answer_poll(users[1], poll["poll"]["id"], [0])
    mark = api.mark()
    api.answer_poll(users[0], poll["poll"]["id"], [0])  # everyone still in has answered
    await api.wait_for("sendMessage", lambda c: "the answer" in c.params["text"], since=mark, chat_id=-1009)
    second = await next_poll(api, -1009, mark)
    api.fail_next("stopPoll", status=400, description="Bad Request: poll to stop not found")
    mark = api.mark()
    api.remove_bot_from_group(-1009, users[0])
    stopped = await settled(lambda: phase(runtime, session_of(lobby)), GroupPhase.STOPPED, timeout=2.5)
    assert stopped is GroupPhase.STOPPED
    assert (await groups(runtime).group(-1009, default_lang=Lang.EN.value)).active is False
    assert second["poll"]["id"]


SENDS = {"sendMessage", "sendPoll", "stopPoll", "editMessageText", "editMessageReplyMarkup", "deleteMessage"}


@pytest.mark.slow
async def test_the_send_rate_stays_under_telegrams_group_limit(bot_api: BotApiEmulator, database_url: str) -> None:
    """Default pacing, 30 members answering at once: at most 20 requests a minute to the group, 30 a second in all."""
    settings = bot_settings(bot_api, database_url, QUIZ_LENGTH="4", GROUP_QUESTION_SECONDS="5")
    runtime = BotRuntime(settings, BANK)
    await runtime.start(poll_timeout=1.0)
    try:
        users = make_group(bot_api, size=30)
        lobby = await open_lobby(bot_api, users[0])
        for user in users[1:]:
            bot_api.press_button(user, lobby, keyboard(lobby)[0])
        await asyncio.sleep(3.5)  # joins shown in a batched lobby edit
        mark = bot_api.mark()
        bot_api.press_button(users[0], lobby, keyboard(lobby)[1])
        for _ in range(4):
            poll = await next_poll(bot_api, GROUP, mark)
            mark = bot_api.mark()
            await play_question(bot_api, users, poll, right={0, 1, 2})
        await bot_api.wait_for(
            "sendMessage", lambda c: "Final results" in c.params["text"], since=mark, chat_id=GROUP, timeout=30
        )
    finally:
        await runtime.stop()
    to_group = sorted(c.time for c in bot_api.calls if c.method in SENDS and str(c.params.get("chat_id")) == str(GROUP))
    busiest_minute = max(sum(1 for t in to_group if start <= t < start + 60) for start in to_group)
    sends = sorted(c.time for c in bot_api.calls if c.method in SENDS)
    busiest_second = max(sum(1 for t in sends if start <= t < start + 1) for start in sends)
    assert len(to_group) >= 14  # lobby, its edits, 4 x (poll, close, reveal), podium
    assert busiest_minute <= 20, busiest_minute
    assert busiest_second <= 30, busiest_second


@pytest.mark.slow
async def test_a_question_that_reaches_the_group_late_still_gets_its_full_time(
    bot_api: BotApiEmulator, database_url: str
) -> None:
    """Telegram takes 3 s to post the poll: the 4 s the question is open count from when it was posted."""
    runtime = await start_runtime(bot_api, database_url, GROUP_QUESTION_SECONDS="4")
    try:
        users = make_group(bot_api, size=3)
        lobby = await open_lobby(bot_api, users[0])
        bot_api.delay("sendPoll", 3.0, processed=False)  # posted only when the reply comes
        mark = bot_api.mark()
        bot_api.press_button(users[0], lobby, keyboard(lobby)[1])
        poll = await next_poll(bot_api, GROUP, mark)
        posted = asyncio.get_running_loop().time()
        bot_api.answer_poll(users[1], poll["poll"]["id"], [correct_of(poll)])  # right, the moment it appears
        closed = await bot_api.wait_for("stopPoll", since=mark, chat_id=GROUP, timeout=15)
        assert closed.time - posted >= 4.0 - 0.3  # not the 1 s left of a clock started before the 3 s delay
        async with stored(database_url) as store:
            [answer] = await store.answers(user_id=UserId(users[1]["id"]))
        assert answer.points >= 0.95 * GroupRules().max_points  # answered at once, so (nearly) full speed points
    finally:
        await runtime.stop()
