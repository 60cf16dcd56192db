"""The private chat end to end: the real Application, PTB's HTTP path, the local Bot API emulator."""

from __future__ import annotations

import re

import pytest

from bot.core.engine import SessionId, UserId
from bot.core.lang import Lang
from bot.telegram import callbacks as cb
from tests.telegram.conftest import RunningBot, settled

LETTERS = "ABCDEFGHIJKL"


def buttons(message: dict) -> list[str]:
    return [b["callback_data"] for row in message.get("reply_markup", {}).get("inline_keyboard", []) for b in row]


async def answered(bot: RunningBot, user_id: int) -> tuple[int, int]:
    """How many answers the person has stored, and how many of them are right (their /stats, as the service has it)."""
    total = (await bot.services.quiz.progress(UserId(user_id))).summary.total
    return total.answered, total.correct


async def active(bot: RunningBot, user_id: int) -> bool:
    """Whether the bot may write to the person (False once they have blocked it)."""
    return (await bot.services.quiz.user(UserId(user_id), default_lang=Lang.EN)).active


async def ask(bot: RunningBot, user: dict, text: str) -> dict:
    """Send `text` and return the bot's reply (the sendMessage result)."""
    mark = bot.api.mark()
    bot.api.send_text(user, text)
    call = await bot.api.wait_for("sendMessage", since=mark, chat_id=user["id"])
    return call.result


async def press(bot: RunningBot, user: dict, message: dict, data: str, method: str = "answerCallbackQuery"):
    """Press a button and wait for the bot's `method` call about it: for answerCallbackQuery, the answer to this
    very press (an earlier press's answer may still be on its way, and would return before this one is handled)."""
    mark = bot.api.mark()
    pressed = bot.api.press_button(user, message, data)
    if method == "answerCallbackQuery":
        return await bot.api.wait_for(method, since=mark, callback_query_id=pressed["callback_query"]["id"])
    return await bot.api.wait_for(method, since=mark)


async def answer_question(bot: RunningBot, user: dict, question: dict, *, right: bool, confidence: str = "s") -> dict:
    """Answer the question message; returns the edited message with the reveal."""
    shown = await bot.right_option(user["id"])
    if not right:
        shown = (shown + 1) % len(buttons(question))
    session, position = buttons(question)[0].split(":")[1:3]
    await press(bot, user, question, cb.answer(session, int(position), shown))
    rating = bot.api.message(user["id"], question["message_id"])
    assert "how sure are you?" in rating["text"]
    level = {"g": None, "p": None, "s": None, "x": None}
    assert confidence in level
    data = f"c:{session}:{position}:{confidence}"
    assert data in buttons(rating)
    await press(bot, user, rating, data)
    return bot.api.message(user["id"], question["message_id"])


async def test_commands_are_registered_in_english_and_chinese(bot: RunningBot) -> None:
    english = {c["command"]: c["description"] for c in bot.api.commands()}
    chinese = {c["command"]: c["description"] for c in bot.api.commands(language_code="zh")}
    assert (
        set(english)
        == set(chinese)
        >= {"start", "quiz", "topics", "review", "stats", "lang", "help", "cancel", "forget"}
    )
    assert english["quiz"].startswith("A quick quiz") and chinese["quiz"].startswith("快速測驗")


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("zh-hans", "你好，Ann！眼见不一定为实"),
        ("zh-hk", "你好，Ann！眼見不一定爲實"),
        ("zh", "眼見不一定爲實"),
        ("fr", "Hi Ann!"),
    ],
)
async def test_start_greets_in_the_users_language_with_the_menu(bot: RunningBot, code: str, expected: str) -> None:
    user = bot.api.make_user(100, "Ann", language_code=code)
    reply = await ask(bot, user, "/start")
    assert expected in reply["text"]
    assert buttons(reply) == ["m:quick", "m:topics", "m:review", "m:stats", "m:lang"]


async def test_simplified_users_get_their_own_command_menu(bot: RunningBot) -> None:
    user = bot.api.make_user(101, "Bo", language_code="zh-cn")
    await ask(bot, user, "/start")
    await bot.api.wait_for("setMyCommands", lambda c: c.params.get("scope", {}).get("chat_id") == 101)
    menu = {c["command"]: c["description"] for c in bot.api.visible_commands(101, 101, language_code="zh")}
    assert menu["review"] == "复习答错的题目"


async def test_a_whole_quiz_explains_every_answer_and_ends_with_the_result_card(bot: RunningBot) -> None:
    user = bot.api.make_user(200, "Cy", language_code="en")
    question = await ask(bot, user, "/quiz")
    assert question["text"].startswith("Question 1/3")
    assert [b for b in buttons(question)] == [
        cb.answer(buttons(question)[0].split(":")[1], 0, n) for n in range(len(buttons(question)))
    ]
    for number in range(3):
        revealed = await answer_question(bot, user, question, right=number != 1)
        assert ("✅ Right!" in revealed["text"]) is (number != 1)
        assert "💡 Why" in revealed["text"] and "Right answer:" in revealed["text"]
        assert re.search(r"📰 Global Times \(環球時報\), Feb 2024, paragraph \d+:|📚 Source: ", revealed["text"])
        [next_button] = buttons(revealed)
        mark = bot.api.mark()
        bot.api.press_button(user, revealed, next_button)
        sent = await bot.api.wait_for("sendMessage", since=mark, chat_id=200)
        assert bot.api.message(200, revealed["message_id"]).get("reply_markup") is None  # no stale keyboard
        question = sent.result
    card = question["text"]
    assert "Quiz complete" in card and "Score: 2/3 (67%)" in card and "Longest streak: 1" in card
    assert "By topic:" in card and "🎯 Of the 3 answers you rated, you expected 95% right and got 67%." in card
    assert "📌 The question you missed is in your review list" in card
    assert await answered(bot, 200) == (3, 2)


async def test_review_brings_back_the_missed_question_and_stats_show_progress(bot: RunningBot) -> None:
    user = bot.api.make_user(201, "Di", language_code="en")
    question = await ask(bot, user, "/quiz")
    missed_prompt = question["text"].split("\n")[2]
    await answer_question(bot, user, question, right=False)
    stats = await ask(bot, user, "/stats")
    assert "📈 Your progress" in stats["text"] and "Score: 0/1 (0%)" in stats["text"]
    assert "Review list: 1 question, 1 due now." in stats["text"]
    review = await ask(bot, user, "/review")
    assert review["text"].startswith("Question 1/1") and missed_prompt in review["text"]


async def test_topic_quiz_by_argument_by_button_and_unknown_topic(bot: RunningBot, bank) -> None:
    user = bot.api.make_user(202, "Ed", language_code="en")
    question = await ask(bot, user, "/quiz verification")
    assert "Verification habits" in question["text"]
    unknown = await ask(bot, user, "/quiz cooking")
    assert "There is no topic “cooking”" in unknown["text"] and "t:provenance" in buttons(unknown)
    topics = await ask(bot, user, "/topics")
    assert len(buttons(topics)) == len(bank.topics)
    mark = bot.api.mark()
    bot.api.press_button(user, topics, "t:fraud_scenarios")
    sent = await bot.api.wait_for("sendMessage", since=mark, chat_id=202)
    assert "Deepfake fraud scenarios" in sent.result["text"]


async def test_language_switch_applies_at_once_and_is_stored(bot: RunningBot) -> None:
    user = bot.api.make_user(203, "Fa", language_code="en")
    chooser = await ask(bot, user, "/lang")
    assert buttons(chooser) == ["l:zh-Hant", "l:zh-Hans", "l:en"]
    await press(bot, user, chooser, "l:zh-Hans")
    assert bot.api.message(203, chooser["message_id"])["text"] == "好的，之后都用简体中文。"
    assert await bot.services.quiz.known_lang(UserId(203)) is Lang.ZH_HANS
    reply = await ask(bot, user, "/quiz")
    assert reply["text"].startswith("第 1/3 题")


async def test_forget_asks_first_then_deletes_everything(bot: RunningBot) -> None:
    user = bot.api.make_user(204, "Gus", language_code="en")
    question = await ask(bot, user, "/quiz")
    session = SessionId(buttons(question)[0].split(":")[1])
    await answer_question(bot, user, question, right=False)
    confirm = await ask(bot, user, "/forget")
    await press(bot, user, confirm, "f:no")
    assert "nothing was deleted" in bot.api.message(204, confirm["message_id"])["text"]
    assert await answered(bot, 204) == (1, 0)
    assert len((await bot.services.quiz.progress(UserId(204))).review_items) == 1  # the miss, to review
    confirm = await ask(bot, user, "/forget")
    await press(bot, user, confirm, "f:yes")
    assert "Everything is deleted" in bot.api.message(204, confirm["message_id"])["text"]
    async with bot.stored() as store:  # answers, review list, quizzes and profile: all gone
        assert await store.answers(user_id=UserId(204)) == []
        assert await store.review_items(UserId(204)) == []
        assert await store.get_session(session) is None
        assert await store.get_user(UserId(204)) is None


async def test_cancel_keeps_the_answers(bot: RunningBot) -> None:
    user = bot.api.make_user(205, "Hal", language_code="en")
    nothing = await ask(bot, user, "/cancel")
    assert "no quiz in progress" in nothing["text"]
    question = await ask(bot, user, "/quiz")
    await answer_question(bot, user, question, right=True)
    stopped = await ask(bot, user, "/cancel")
    assert "Quiz stopped" in stopped["text"] and "Score: 1/1" in stopped["text"]


async def test_free_text_stickers_and_unknown_commands_get_pointed_to_help(bot: RunningBot) -> None:
    user = bot.api.make_user(206, "Ivy", language_code="en")
    assert "Send /quiz to start" in (await ask(bot, user, "hello there"))["text"]
    assert "I don't know that command" in (await ask(bot, user, "/dance"))["text"]
    mark = bot.api.mark()
    bot.api.send_sticker(user)
    sent = await bot.api.wait_for("sendMessage", since=mark, chat_id=206)
    assert "Send /quiz to start" in sent.result["text"]
    help_text = await ask(bot, user, "/help")
    assert "/review" in help_text["text"] and "/forget" in help_text["text"]


async def test_deep_links_start_a_quiz_or_fall_back_to_the_greeting(bot: RunningBot) -> None:
    user = bot.api.make_user(207, "Jo", language_code="en")
    assert (await ask(bot, user, "/start quiz"))["text"].startswith("Question 1/3")
    assert "Provenance" in (await ask(bot, user, "/start topic-provenance"))["text"]
    assert "Hi Jo!" in (await ask(bot, user, "/start no-such-thing"))["text"]


async def notice_for(bot: RunningBot, user: dict, chat_id: int, message_id: int, data: str) -> str:
    mark = bot.api.mark()
    bot.api.press_raw(user, chat_id, message_id, data)
    call = await bot.api.wait_for("answerCallbackQuery", since=mark)
    await bot.api.wait_idle(quiet=0.2)
    changed = [c for c in bot.api.calls_to("editMessageText", since=mark) if c.ok]
    assert not changed, "a refused press must change nothing"
    return call.params.get("text", "")


async def test_stale_repeated_forged_and_foreign_presses_change_nothing(bot: RunningBot) -> None:
    user = bot.api.make_user(300, "Kim", language_code="en")
    other = bot.api.make_user(301, "Lee", language_code="en")
    old = await ask(bot, user, "/quiz")
    old_session = buttons(old)[0].split(":")[1]
    new = await ask(bot, user, "/quiz")
    session = buttons(new)[0].split(":")[1]
    # A button from the replaced quiz.
    assert "That quiz is over" in await notice_for(bot, user, 300, old["message_id"], cb.answer(old_session, 0, 0))
    # Forged and garbled data.
    for data in ("a:xx", "hello", "a:" + "x" * 70, "z:1:2", "", "a:abc:99999:1", "l:de", "t:nonexistent"):
        text = await notice_for(bot, user, 300, new["message_id"], data)
        assert text in ("That button isn't valid.", "That quiz is over — send /quiz for a new one."), data
    # Someone else's quiz.
    assert "That isn't your quiz" in await notice_for(bot, other, 301, new["message_id"], cb.answer(session, 0, 0))
    # The person's own, valid button data on a message that is gone: the quiz goes on in a new message.
    mark = bot.api.mark()
    bot.api.press_raw(user, 300, 999_999, cb.answer(session, 0, 0))
    resent = await bot.api.wait_for("sendMessage", since=mark, chat_id=300)
    await bot.api.wait_for("answerCallbackQuery", since=mark)
    assert "how sure are you?" in resent.result["text"]
    new = resent.result
    # Answered once (now at the confidence step): another option is refused.
    assert await answered(bot, 300) == (0, 0)  # rating step, not scored yet
    again = await notice_for(bot, user, 300, new["message_id"], cb.answer(session, 0, 1))
    assert again == "You've already answered that one."


async def test_two_presses_at_once_count_once(bot: RunningBot) -> None:
    user = bot.api.make_user(302, "Mo", language_code="en")
    await press(bot, user, (await ask(bot, user, "/lang")), "l:en")
    # Skip the confidence step for this user so one press scores.
    profile = await bot.services.quiz.user(UserId(302), default_lang=Lang.EN)
    from dataclasses import replace

    await bot.services.quiz.update_user(replace(profile, ask_confidence=False))
    question = await ask(bot, user, "/quiz")
    session = buttons(question)[0].split(":")[1]
    mark = bot.api.mark()
    for _ in range(2):
        bot.api.press_button(user, question, cb.answer(session, 0, 1))
    answers = await bot.api.wait_for("answerCallbackQuery", since=mark, count=2)
    assert sorted(a.params.get("text", "") for a in answers) == ["", "You've already answered that one."]
    assert (await answered(bot, 302))[0] == 1


async def test_429_is_retried_and_the_answer_shows(bot: RunningBot) -> None:
    user = bot.api.make_user(400, "Nia", language_code="en")
    question = await ask(bot, user, "/quiz")
    bot.api.fail_next("editMessageText", status=429, retry_after=1)
    revealed = await answer_question(bot, user, question, right=True)
    await bot.api.wait_for("editMessageText", lambda c: c.ok and "💡 Why" in c.params["text"], timeout=10)
    assert "✅ Right!" in bot.api.message(400, revealed["message_id"])["text"]


async def test_a_failed_edit_loses_no_answer_and_a_second_press_repairs_the_message(bot: RunningBot) -> None:
    user = bot.api.make_user(401, "Oz", language_code="en")
    question = await ask(bot, user, "/quiz")
    session = buttons(question)[0].split(":")[1]
    await press(bot, user, question, cb.answer(session, 0, 0))
    rating = bot.api.message(401, question["message_id"])
    bot.api.fail_next("editMessageText", status=500)
    mark = bot.api.mark()
    bot.api.press_button(user, rating, f"c:{session}:0:p")
    await bot.api.wait_for("editMessageText", lambda c: c.status == 500, since=mark)
    assert (await answered(bot, 401))[0] == 1  # recorded before the edit
    assert "💡 Why" not in bot.api.message(401, question["message_id"])["text"]
    # The person presses again: refused (already answered) and the message is brought up to date.
    mark = bot.api.mark()
    bot.api.press_button(user, rating, f"c:{session}:0:p")
    await bot.api.wait_for("editMessageText", lambda c: c.ok, since=mark)
    assert "💡 Why" in bot.api.message(401, question["message_id"])["text"]
    assert (await answered(bot, 401))[0] == 1


async def test_dropped_connection_and_slow_replies_do_not_break_the_quiz(bot: RunningBot) -> None:
    user = bot.api.make_user(402, "Pia", language_code="en")
    bot.api.drop_next("sendMessage")
    mark = bot.api.mark()
    bot.api.send_text(user, "/quiz")
    await bot.api.wait_for("sendMessage", lambda c: c.status == 0, since=mark)
    bot.api.delay("sendMessage", 0.5)
    question = await ask(bot, user, "/quiz")
    assert question["text"].startswith("Question 1/3")


async def test_a_user_who_blocks_the_bot_is_marked_inactive_and_comes_back(bot: RunningBot) -> None:
    user = bot.api.make_user(403, "Quin", language_code="en")
    question = await ask(bot, user, "/quiz")
    bot.api.block_chat(403, notify=False)
    session = buttons(question)[0].split(":")[1]
    mark = bot.api.mark()
    bot.api.press_button(user, question, cb.answer(session, 0, 0))
    await bot.api.wait_for("editMessageText", lambda c: c.status == 403, since=mark)
    assert await settled(lambda: active(bot, 403), False, timeout=2.5) is False
    bot.api.unblock_chat(403, notify=False)
    await ask(bot, user, "/start")
    assert await active(bot, 403) is True


async def test_message_not_modified_is_not_an_error(bot: RunningBot, caplog: pytest.LogCaptureFixture) -> None:
    user = bot.api.make_user(404, "Ray", language_code="en")
    chooser = await ask(bot, user, "/lang")
    await press(bot, user, chooser, "l:en")
    mark = bot.api.mark()
    bot.api.press_raw(user, 404, chooser["message_id"], "l:en")  # same text again
    await bot.api.wait_for("answerCallbackQuery", since=mark)
    await bot.api.wait_idle()
    assert [c.status for c in bot.api.calls_to("editMessageText", since=mark)] == [400]
    assert "failed" not in caplog.text
