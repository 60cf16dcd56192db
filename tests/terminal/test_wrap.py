"""Wrapping to the terminal's width: display cells counted with wcwidth (a Chinese character is two), English
broken only between words, Chinese between characters but never before closing punctuation."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from wcwidth import width

from bot.terminal.wrap import NO_START, wrap
from tests.conftest import ARTICLE_TEXT, topic_yaml
from tests.terminal.helpers import play

EXPLANATION_EN = (
    "A video that looks real proves nothing about who made it: decide from what can be checked, such as the first "
    "upload, the account that posted it and whether independent outlets report the same event, and treat a clip "
    "that only circulates as reposts with extra-ordinary suspicion until its provenance-tracing is done."
)
EXPLANATION_ZH = (
    "一段影片看起來再真實，也不能證明是誰拍的：要根據查得到的東西判斷，例如最早的上傳、發布的帳號，以及獨立媒體是否報導了"
    "同一件事；只在轉貼之間流傳的片段，在查清來源之前都要格外小心，因為生成式模型已經能做出以假亂真的畫面。"
)
OPTION_EN = (
    "Look for the first upload and for independent reports of the same event before sharing it with anyone else, "
    "however urgent it feels"
)
PROMPT = "Someone forwards you a clip of a famous person saying something shocking. What should you do first?"


def long_question() -> str:
    return f"""  - id: long-1
    type: choice
    skill: recall
    difficulty: 1
    shuffle: false
    prompt:
      zh-Hant: 有人轉傳給你一段名人說出驚人言論的影片，而且留言區已經有上千人在討論，你第一步應該怎麼做才最能保護自己？
      en: {json.dumps(PROMPT, ensure_ascii=False)}
    options:
      - zh-Hant: 先找最早的上傳，以及其他獨立媒體是否報導了同一件事，確認之後再決定要不要分享給別人
        en: {json.dumps(OPTION_EN, ensure_ascii=False)}
      - zh-Hant: 看留言
        en: Read the comments
    answer: 0
    explanation:
      zh-Hant: {json.dumps(EXPLANATION_ZH, ensure_ascii=False)}
      en: {json.dumps(EXPLANATION_EN, ensure_ascii=False)}
    source:
      paragraph: 2
      quote:
        zh-Hant: 有人咬了一口餅乾
        en: Someone bit a cookie
"""


@pytest.fixture
def long_env(env: dict[str, str], tmp_path: Path, write_bank: Callable[[dict[str, str]], Path]) -> dict[str, str]:
    article = tmp_path / "article.txt"
    article.write_text(ARTICLE_TEXT, encoding="utf-8")
    folder = write_bank({"alpha.yaml": topic_yaml("alpha", [long_question()])})
    return {**env, "QUESTIONS_PATH": str(folder), "ARTICLE_PATH": str(article)}


def screen_lines(out: str) -> list[str]:
    # Piped input is not echoed, so a prompt and the next line share an output line: split them as a terminal would.
    for prompt in ("q to quit): ", "(Enter to skip): ", "q 離開）：", "略過）："):
        out = out.replace(prompt, prompt + "\n")
    return out.splitlines()


def words(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("columns", [80, 120])
def test_english_wraps_to_the_width_between_words(long_env: dict[str, str], columns: int) -> None:
    result = play({**long_env, "COLUMNS": str(columns)}, "1\n3\n", "--lang", "en")
    assert result.returncode == 0, result.stderr
    lines = screen_lines(result.stdout)
    assert max(width(line) for line in lines) <= columns
    assert max(width(line) for line in lines) > columns - 15  # the room is used, not wrapped short
    # Joined back, the words are all there, in order: none was cut in two.
    for text in (PROMPT, OPTION_EN, EXPLANATION_EN):
        assert words(text) in words(result.stdout)
    assert "extra-ordinary" in result.stdout.split() and "provenance-tracing" in result.stdout.split()
    # An option's continuation lines sit under its text, not under its number.
    first = next(n for n, line in enumerate(lines) if line.startswith("  1) Look for"))
    assert lines[first + 1].startswith("     ") and lines[first + 1][5] != " "


@pytest.mark.parametrize("columns", [80, 120])
def test_chinese_counts_double_width_and_breaks_between_characters(long_env: dict[str, str], columns: int) -> None:
    result = play({**long_env, "COLUMNS": str(columns), "LANG": "zh_TW.UTF-8"}, "1\n3\n")
    assert result.returncode == 0, result.stderr
    lines = screen_lines(result.stdout)
    # Counted by len() instead, a line of 80 characters would take 160 columns.
    assert max(width(line) for line in lines) <= columns
    assert max(width(line) for line in lines) > columns - 6
    assert "".join(EXPLANATION_ZH.split()) in "".join(result.stdout.split())
    assert not any(line[:1] in NO_START for line in lines)


def test_wrap_breaks_english_at_spaces_only() -> None:
    text = "Seeing is no longer believing: practise spotting AI-made video with a news story about Sora."
    lines = wrap(text, 30)
    assert lines == [
        "Seeing is no longer believing:",
        "practise spotting AI-made",
        "video with a news story about",
        "Sora.",
    ]


def test_a_word_wider_than_the_line_stays_whole() -> None:
    url = "https://www.ic3.gov/PSA/2024/PSA241203-a-very-long-address"
    assert wrap(f"📚 Source: {url}", 30) == ["📚 Source:", url]


def test_chinese_breaks_between_characters_with_double_width() -> None:
    lines = wrap("一二三四五六七八九十一二三四五六七八九十一二三四五", 20)
    assert lines == ["一二三四五六七八九十", "一二三四五六七八九十", "一二三四五"]
    assert all(width(line) <= 20 for line in lines)


def test_closing_punctuation_never_starts_a_line_and_opening_never_ends_one() -> None:
    assert wrap("一二三四五六七八九十，十", 21) == ["一二三四五六七八九", "十，十"]
    assert wrap("一二三四五六七八九「十」", 20) == ["一二三四五六七八九", "「十」"]


def test_list_items_hang_under_their_text() -> None:
    lines = wrap("  1) Look for the endorsement on his own official accounts", 30)
    assert lines == ["  1) Look for the endorsement", "     on his own official", "     accounts"]
    assert wrap("• 深偽詐騙情境與真假判斷的練習題目", 20) == ["• 深偽詐騙情境與真假", "  判斷的練習題目"]


def test_a_command_in_backticks_is_not_broken() -> None:
    lines = wrap("📌 The 2 you missed are in your list; `python -m bot play --review` brings them back.", 40)
    assert "`python -m bot play --review` brings" in lines[1]


def test_blank_lines_and_short_lines_stay_as_they_are() -> None:
    assert wrap("a\n\n  b  c", 80) == ["a", "", "  b  c"]
