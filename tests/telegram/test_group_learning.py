"""What a group learned, on the podium and in /stats: accuracy (right answers, not points) and real-or-fake calls.

A real group session through the emulator, over a bank of two genuine and two manipulated judge items and one plain
question, so every five-question session asks exactly those five and the figures can be worked by hand.
"""

from __future__ import annotations

import html
import random
import re
from pathlib import Path

import pytest
from telegram.constants import MessageLimit

from bot.core.article import Article
from bot.core.group import ChatId, GroupRules, GroupSessionId, QuestionTally, Standing, open_lobby
from bot.core.lang import Lang
from bot.core.loader import load_bank
from bot.core.measures import Discernment, DiscernmentReading
from bot.core.model import QuestionBank
from bot.i18n import Translator
from bot.services.group import GroupLearning, GroupStats, Podium
from bot.telegram.app import BotRuntime
from bot.telegram.group_render import GroupRenderer
from tests.conftest import ARTICLE_TEXT, question_yaml, topic_yaml
from tests.core.test_judge_items import OPTIONS, judge_yaml
from tests.core.test_quality import SOURCES, refs
from tests.emulator import BotApiEmulator
from tests.telegram.conftest import BANK, bot_settings

GROUP = -1003
FAST = {
    "GROUP_LOBBY_SECONDS": "30",
    "GROUP_QUESTION_SECONDS": "6",
    "GROUP_REVEAL_SECONDS": "0.1",
    "GROUP_MIN_CYCLE_SECONDS": "0.2",
}
SAYS_FAKE = "Fake or unsupported"  # the English text of a judge item's "manipulated" option (OPTIONS)
SAYS_GENUINE = "Genuine: it holds up"


def judged_bank(tmp_path: Path) -> QuestionBank:
    article = tmp_path / "article.txt"
    article.write_text(ARTICLE_TEXT, encoding="utf-8")
    folder = tmp_path / "bank"
    folder.mkdir()
    judge = [judge_yaml(f"real-{n}", "genuine", prompt_en=f"Real {n}") for n in range(2)]
    judge += [judge_yaml(f"fake-{n}", "manipulated", prompt_en=f"Fake {n}") for n in range(2)]
    files = {
        "alpha.yaml": topic_yaml("alpha", [refs(question_yaml("plain-0"))]),
        "judgment.yaml": topic_yaml("judgment", judge),
        "_sources.yaml": SOURCES,
        "_judge_options.yaml": OPTIONS,
    }
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    report = load_bank([folder], article=Article.load(article))
    assert report.bank is not None, report.render()
    return report.bank


def keyboard(message: dict) -> list[str]:
    return [b["callback_data"] for row in message.get("reply_markup", {}).get("inline_keyboard", []) for b in row]


def correct_of(poll_message: dict) -> int:
    poll = poll_message["poll"]
    return poll["correct_option_ids"][0] if "correct_option_ids" in poll else poll["correct_option_id"]


def choice(poll_message: dict, member: int) -> int:
    """Member 0 calls everything fake, 1 is always right, 2 calls everything genuine; on the plain question 0 is
    wrong and 1 and 2 are right."""
    poll = poll_message["poll"]
    texts = [option["text"] for option in poll["options"]]
    right = correct_of(poll_message)
    if SAYS_FAKE in texts:
        return {0: texts.index(SAYS_FAKE), 1: right, 2: texts.index(SAYS_GENUINE)}[member]
    return (right + 1) % len(texts) if member == 0 else right


async def play_session(api: BotApiEmulator, users: list[dict]) -> str:
    """A whole five-question session in GROUP; returns the podium's text."""
    mark = api.mark()
    api.send_text(users[0], "/quiz 5", GROUP)
    lobby = (await api.wait_for("sendMessage", since=mark, chat_id=GROUP)).result
    join, start = keyboard(lobby)
    mark = api.mark()
    for user in users[1:]:
        api.press_button(user, lobby, join)
    await api.wait_for("answerCallbackQuery", since=mark, count=len(users) - 1)
    mark = api.mark()
    api.press_button(users[0], lobby, start)
    for number in range(5):
        poll = (await api.wait_for("sendPoll", since=mark, chat_id=GROUP, timeout=15)).result
        shown = poll["poll"]["question"]  # numbered unless that would push a long prompt past 300 characters
        assert shown.startswith(f"{number + 1}/5. ") or len(f"{number + 1}/5. {shown}") > 300
        mark = api.mark()
        for member, user in enumerate(users):
            api.answer_poll(user, poll["poll"]["id"], [choice(poll, member)])
        reveal = await api.wait_for(
            "sendMessage", lambda c: "the answer" in c.params["text"], since=mark, chat_id=GROUP
        )
        assert "3 answered" in reveal.params["text"]
    podium = await api.wait_for("sendMessage", lambda c: "Final results" in c.params["text"], since=mark, chat_id=GROUP)
    return podium.params["text"]


async def test_the_podium_and_stats_show_what_the_group_learned(
    bot_api: BotApiEmulator, database_url: str, tmp_path: Path
) -> None:
    runtime = BotRuntime(bot_settings(bot_api, database_url, **FAST), judged_bank(tmp_path))
    await runtime.start(poll_timeout=1.0)
    try:
        users = [bot_api.make_user(3000 + n, f"Member{n}", language_code="en") for n in range(3)]
        bot_api.add_group(GROUP, "Class", type="supergroup", admins=[users[0]], members=users[1:])
        text = await play_session(bot_api, users)
        # Right answers: Member0 2 (the fakes), Member1 all 5, Member2 3 (the genuine items and the plain one): 10 of
        # 15, 67%. Real or fake, over 4 items x 3 members: fakes caught by Member0 and Member1 (4 of 6), genuine items
        # doubted by Member0 (2 of 6). H − F = 1/3 with no lean: no better than a coin.
        learned = [
            "✅ The group got 10 of 15 right (67%)",
            "🔍 Real or fake: fakes the group caught, 4 of 6; genuine items it doubted, 2 of 6.",
            "No better than a coin yet: decide from what can be checked.",
        ]
        lines = text.split("\n")
        at = lines.index(learned[0])
        assert lines[at : at + 3] == learned
        # Under the leaderboard, above the per-question accuracy; the points stay on the leaderboard.
        assert lines.index("<b>🏁 Final results</b>") < at < lines.index("<b>Accuracy per question:</b>")
        assert re.search(r"🥇 Member1: \d+ \(5/5 right\)", text)
        mark = bot_api.mark()
        bot_api.send_text(users[2], "/stats", GROUP)
        stats = (await bot_api.wait_for("sendMessage", since=mark, chat_id=GROUP)).params["text"]
        assert "This group has played 1 quiz." in stats
        assert stats.split("\n")[-3:] == learned
    finally:
        await runtime.stop()


# ---------------------------------------------------------------------------------------------------------------
# The renderer alone: the other languages, no judge items, and the longest podium Telegram must still take.
# ---------------------------------------------------------------------------------------------------------------

T = Translator.load()
GUESSING = Discernment(hits=4, misses=2, false_alarms=2, correct_rejections=4)


def podium_of(bank: QuestionBank, *, members: int, questions: int, name: str, learning: GroupLearning) -> Podium:
    session = open_lobby(
        bank,
        session_id=GroupSessionId("s1"),
        chat_id=ChatId(GROUP),
        starter_id=1,
        topic=None,
        count=questions,
        rules=GroupRules(),
        rng=random.Random(1),
        now=0.0,
    )
    assert session is not None
    standings = tuple(
        Standing(user_id=n, name=f"{name}{n}"[-40:], points=99_999, correct=questions, answered=questions)
        for n in range(members)
    )
    tallies = tuple(
        QuestionTally(position=n, question_id=item.question_id, answered=members, correct=members // 3)
        for n, item in enumerate(session.items)
    )
    return Podium(session=session, standings=standings, tallies=tallies, learning=learning)


def test_the_podium_in_traditional_chinese() -> None:
    learning = GroupLearning(answered=15, correct=10, discernment=GUESSING)
    podium = podium_of(BANK, members=3, questions=5, name="同學", learning=learning)
    lines = GroupRenderer(T, BANK).podium(podium, Lang.ZH_HANT).text.split("\n")
    at = lines.index("✅ 全群共作答 15 次，答對 10 次（67%）")
    assert lines[at + 1 : at + 3] == [
        "🔍 真假判斷：6 次假的全群抓到 4 次，6 次真的全群懷疑了 2 次。",
        "目前跟擲硬幣差不多：要根據查得到的證據來判斷。",
    ]


def test_without_enough_judge_items_only_the_accuracy_line_shows() -> None:
    learning = GroupLearning(answered=6, correct=3, discernment=Discernment(hits=1, correct_rejections=1))
    text = GroupRenderer(T, BANK).podium(podium_of(BANK, members=2, questions=3, name="M", learning=learning), Lang.EN)
    assert "✅ The group got 3 of 6 right (50%)" in text.text and "Real or fake" not in text.text
    nobody = GroupLearning(answered=0, correct=0, discernment=Discernment())
    stats = GroupRenderer(T, BANK).stats(GroupStats(played=0, latest=(), learning=nobody, sessions=0), Lang.EN)
    assert stats.text == "This group hasn't played yet. Start the first quiz with /quiz!"


@pytest.mark.parametrize("lang", list(Lang))
def test_the_longest_podium_fits_one_message(lang: Lang) -> None:
    """Thirty-odd players with 40-character names, twenty questions, a stop and the longest reading: still under
    Telegram's limit, which counts the text after its HTML is parsed."""
    learning = GroupLearning(
        answered=99_999,
        correct=99_999,
        discernment=Discernment(hits=9_999, misses=1, false_alarms=9_999, correct_rejections=1),
    )
    podium = podium_of(BANK, members=45, questions=20, name="W" * 40, learning=learning)
    rendered = GroupRenderer(T, BANK).podium(podium, lang, stopped_by="W" * 40)
    shown = html.unescape(re.sub(r"<[^>]+>", "", rendered.text))
    assert learning.discernment.reading is DiscernmentReading.DOUBTS_EVERYTHING  # the longest reading in English
    assert "99999" in shown and "W" * 40 in shown
    utf16 = len(shown.encode("utf-16-le")) // 2  # counted as Telegram counts, an emoji as two
    assert utf16 <= MessageLimit.MAX_TEXT_LENGTH, utf16
