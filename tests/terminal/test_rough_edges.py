"""The terminal quiz's rough edges, one test each: saving at the confidence step, argument errors, full-width
digits, counts in words, the review hint and the calibration paragraph."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import time
from pathlib import Path

import pytest

from bot.core.engine import Confidence
from tests.conftest import question_yaml, topic_yaml
from tests.terminal.helpers import answers_in, bot, play, spawn


def read_until(process: subprocess.Popen[bytes], text: str, *, timeout: float = 30) -> str:
    """What the process wrote to stdout up to and including `text`."""
    assert process.stdout is not None
    seen = b""
    deadline = time.monotonic() + timeout
    while text.encode() not in seen:
        assert time.monotonic() < deadline, f"no {text!r} in {seen.decode(errors='replace')!r}"
        ready, _, _ = select.select([process.stdout], [], [], 0.1)
        if ready:
            chunk = os.read(process.stdout.fileno(), 65536)
            assert chunk, f"the output ended before {text!r}: {seen.decode(errors='replace')!r}"
            seen += chunk
    return seen.decode()


@pytest.mark.parametrize("quit_with", ["q\n", "ｑ\n", ""])  # q, a full-width q, the end of the input
def test_an_answer_given_before_quitting_at_the_confidence_step_is_saved(env: dict[str, str], quit_with: str) -> None:
    result = play(env, "1\n" + quit_with, "--count", "3")
    assert result.returncode == 0 and "Traceback" not in result.stderr
    assert "⏹ Quiz stopped. Every answer you gave is saved." in result.stdout and "Score: 1/1" in result.stdout
    [answer] = answers_in(env)
    assert answer.correct and answer.confidence is None


def test_an_answer_given_before_ctrl_c_at_the_confidence_step_is_saved(env: dict[str, str]) -> None:
    process = spawn(env, "play", "--seed", "1", "--count", "3", stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert process.stdin is not None and process.stderr is not None
    process.stdin.write(b"2\n")
    process.stdin.flush()
    read_until(process, "(Enter to skip): ")
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 0 and b"Traceback" not in err, err
    assert "Quiz stopped. Every answer you gave is saved." in out.decode()
    [answer] = answers_in(env)
    assert not answer.correct and answer.confidence is None


def test_full_width_digits_answer_and_rate_alike(env: dict[str, str]) -> None:
    result = play(env, "１\n３\n2\n２\n", "--count", "2")
    assert result.returncode == 0 and "Please type" not in result.stdout, result.stdout
    assert [(a.correct, a.confidence) for a in answers_in(env)] == [
        (True, Confidence.SURE),
        (False, Confidence.PROBABLY),
    ]


def test_a_number_the_prompt_does_not_offer_is_asked_again(env: dict[str, str]) -> None:
    # "²" is a digit to str.isdigit but no answer; "4" is no confidence level.
    result = play(env, "²\n1\n4\n0\n1\n", "--count", "1")
    assert result.returncode == 0 and "Traceback" not in result.stderr
    assert result.stdout.count("Please type a number from 1 to 3") == 1
    assert result.stdout.count("Please type 1, 2 or 3") == 2
    assert [a.confidence for a in answers_in(env)] == [Confidence.GUESS]


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("--count", "0"), "argument --count: must be 1 or more, not 0"),
        (("--count", "-2"), "argument --count: must be 1 or more, not -2"),
        (("--count", "five"), "argument --count: must be a whole number of questions, 1 or more, not 'five'"),
        (("--lang", "fr"), "argument --lang: unknown language 'fr': choose zh-Hant, zh-Hans or en"),
    ],
)
def test_bad_arguments_are_one_line_errors(env: dict[str, str], args: tuple[str, ...], error: str) -> None:
    result = play(env, "1\n", *args)
    assert result.returncode == 2 and result.stdout == ""
    last = result.stderr.strip().splitlines()[-1]
    assert last == f"python -m bot play: error: {error}"
    assert "Traceback" not in result.stderr and "invalid" not in result.stderr


def test_lang_takes_a_locale_style_name_too(env: dict[str, str]) -> None:
    result = play({**env, "LANG": "C"}, "", "--count", "1", "--lang", "zh_CN")
    assert result.returncode == 0 and "饼干上出现了什么" in result.stdout and result.stderr == ""


def test_the_result_card_points_to_play_review_and_counts_in_words(env: dict[str, str]) -> None:
    result = play(env, "2\n1\n1\n3\n", "--count", "2")
    out = result.stdout
    assert result.returncode == 0
    assert "📌 The question you missed is in your review list; `python -m bot play --review` brings it back." in out
    assert "/review" not in out
    assert "🎯 Of the 2 answers you rated" in out
    one = play(env, "1\n1\n", "--count", "1")
    assert "🎯 Of the 1 answer you rated, you expected " in one.stdout and "right and got 100%." in one.stdout


def test_the_calibration_line_is_its_own_paragraph_after_the_score(env: dict[str, str]) -> None:
    out = play(env, "1\n3\n1\n\n", "--count", "2").stdout
    card = out[out.index("🏁 Quiz complete") :]
    paragraphs = [p.splitlines() for p in card.split("\n\n")]
    score = next(p for p in paragraphs if p[0].startswith("Score: 2/2"))
    calibration = next(p for p in paragraphs if p[0].startswith("🎯"))
    assert not any(line.startswith("🎯") for line in score)
    assert calibration[0] == "🎯 Of the 1 answer you rated, you expected 95% right and got 100%."


def test_check_counts_in_words(env: dict[str, str], tmp_path: Path) -> None:
    folder = tmp_path / "one"
    folder.mkdir()
    (folder / "alpha.yaml").write_text(topic_yaml("alpha", [question_yaml("alpha-0")]), encoding="utf-8")
    result = bot({**env, "QUESTIONS_PATH": str(folder)}, "", "check")
    assert result.returncode == 0 and result.stdout == "ok: 1 question in 1 topic, 0 retired ids\n"
