"""The terminal quiz driven as a person would script it: a subprocess with piped input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bot.config import PROJECT_ROOT
from tests.conftest import question_yaml, topic_yaml
from tests.terminal.helpers import answers_in, play


def test_a_whole_quiz_with_confidence_ends_with_the_result_card(env: dict[str, str]) -> None:
    result = play(env, "1\n3\n1\n3\n1\n3\n", "--count", "3")
    out = result.stdout
    assert result.returncode == 0, result.stderr
    assert out.count("Question ") == 3 and "Before the answer: how sure are you?" in out
    assert "💡 Why" in out and "📰 Global Times (環球時報), Feb 2024, paragraph 2:" in out and "有人咬了一口餅乾" in out
    assert "🏁 Quiz complete" in out and "Score: " in out and "By topic:" in out
    assert "🎯 Of the 3 answers you rated, you expected 95% right" in out
    assert "(A verdict on your confidence needs at least 5 rated answers.)" in out
    assert len(answers_in(env)) == 3


def test_invalid_choices_are_asked_again(env: dict[str, str]) -> None:
    result = play(env, "banana\n0\n9\n1\n\n", "--count", "1")
    assert result.stdout.count("Please type a number from 1 to") == 3
    assert "🏁 Quiz complete" in result.stdout
    assert "You skipped “how sure are you?”" in result.stdout


def test_end_of_input_ends_cleanly_and_keeps_the_answers(env: dict[str, str]) -> None:
    result = play(env, "1\n2\n", "--count", "3")
    assert result.returncode == 0 and "Traceback" not in result.stderr
    assert "⏹ Quiz stopped. Every answer you gave is saved." in result.stdout
    assert "Your answers are saved." in result.stdout
    assert len(answers_in(env)) == 1


def test_q_quits(env: dict[str, str]) -> None:
    result = play(env, "q\n", "--count", "2", "--no-confidence")
    assert result.returncode == 0 and "Your answers are saved." in result.stdout and answers_in(env) == []


def test_review_brings_back_what_was_missed(env: dict[str, str]) -> None:
    empty = play(env, "", "--review")
    assert "Your review list is empty" in empty.stdout
    missed = play(env, "2\n2\n", "--count", "2", "--no-confidence", "--topic", "alpha", "--difficulty", "1")
    assert "📌 The 2 you missed are in your review list" in missed.stdout
    review = play(env, "1\n1\n", "--review", "--no-confidence")
    assert review.stdout.count("Question ") == 2 and "Score: 2/2" in review.stdout


def test_language_from_the_locale_and_from_the_flag(env: dict[str, str]) -> None:
    hans = play({**env, "LANG": "zh_CN.UTF-8"}, "", "--count", "1")
    assert "饼干上出现了什么" in hans.stdout and "深伪识破小测验" in hans.stdout
    plain = play({**env, "LANG": "C"}, "", "--count", "1")
    assert "What appears on the cookie?" in plain.stdout  # scripted, no language in the locale: English, and a hint
    assert "choose with --lang zh-Hant, zh-Hans or en" in plain.stderr
    english = play({**env, "LANG": "zh_TW.UTF-8"}, "", "--count", "1", "--lang", "en")
    assert "What appears on the cookie?" in english.stdout


def test_unknown_topic_lists_the_topics(env: dict[str, str]) -> None:
    result = play(env, "", "--topic", "cooking")
    assert result.returncode == 2 and "alpha" in result.stderr and "Traceback" not in result.stderr
    # The topic as typed comes back cleaned, as every echo of input does: no right-to-left override.
    spoofed = play(env, "", "--topic", "cook\u202eing")
    assert spoofed.returncode == 2 and "cooking" in spoofed.stderr and "\u202e" not in spoofed.stderr


def test_a_broken_bank_refuses_to_start_with_the_check_report(env: dict[str, str]) -> None:
    folder = Path(env["QUESTIONS_PATH"])
    (folder / "beta.yaml").write_text(topic_yaml("beta", [question_yaml("beta-x", answer=5)]), encoding="utf-8")
    result = play(env, "1\n")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "The question bank has errors" in result.stderr
    assert "beta.yaml:" in result.stderr and "beta-x: answer 5 is not among the 3 options" in result.stderr
    check = subprocess.run(
        [sys.executable, "-m", "bot", "check"], capture_output=True, text=True, env=env, cwd=PROJECT_ROOT, check=False
    )
    assert check.returncode == 1 and "beta-x: answer 5 is not among the 3 options" in check.stderr
    assert "Traceback" not in check.stderr
