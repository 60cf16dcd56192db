"""The language for a newcomer: the locale when it names Chinese or English; otherwise a picker in a terminal, and
English with a one-line hint when the input is scripted."""

from __future__ import annotations

import os
import select
import subprocess
import threading
import time

import pytest

from bot.core.lang import Lang
from bot.terminal.language import locale_lang, served_lang
from tests.terminal.helpers import play, spawn

HINT = "choose with --lang zh-Hant, zh-Hans or en."


@pytest.mark.parametrize("locale", ["C.UTF-8", "fr_FR.UTF-8", "de_DE.UTF-8", "C", "POSIX"])
def test_scripted_input_with_another_locale_plays_in_english_with_a_hint(env: dict[str, str], locale: str) -> None:
    result = play({**env, "LANG": locale}, "1\n\n", "--count", "1")
    assert result.returncode == 0 and "What appears on the cookie?" in result.stdout
    hint = result.stderr.strip()
    assert "\n" not in hint and HINT in hint and f"LANG={locale}" in hint, hint
    assert "Choose a language" not in result.stdout  # no picker to swallow the script's first answer


@pytest.mark.parametrize(
    ("locale", "prompt"),
    [("zh_TW.UTF-8", "餅乾上出現了什麼"), ("zh_HK.UTF-8", "餅乾上出現了什麼"), ("zh_CN.UTF-8", "饼干上出现了什么")],
)
def test_a_chinese_locale_needs_no_hint(env: dict[str, str], locale: str, prompt: str) -> None:
    result = play({**env, "LANG": locale}, "", "--count", "1")
    assert prompt in result.stdout and result.stderr == ""


def test_lc_all_wins_over_lang(env: dict[str, str]) -> None:
    result = play({**env, "LANG": "fr_FR.UTF-8", "LC_ALL": "en_GB.UTF-8"}, "", "--count", "1")
    assert "What appears on the cookie?" in result.stdout and result.stderr == ""


def in_terminal(env: dict[str, str], steps: list[tuple[str, str]], *args: str) -> tuple[int, str, str]:
    """Run `python -m bot ARGS` on a pseudo-terminal; at each step wait for the text, then type the keys."""
    master, slave = os.openpty()
    process = spawn(env, *args, stdin=slave, stdout=slave)
    os.close(slave)
    seen = b""

    def read(until: str | None, timeout: float = 30) -> None:
        nonlocal seen
        deadline = time.monotonic() + timeout
        while until is None or until.encode() not in seen:
            assert time.monotonic() < deadline, f"no {until!r} in {seen.decode(errors='replace')!r}"
            ready, _, _ = select.select([master], [], [], 0.1)
            if not ready:
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the other end closed: the process is done
                chunk = b""
            if not chunk:
                assert until is None, f"the output ended before {until!r}: {seen.decode(errors='replace')!r}"
                return
            seen += chunk

    try:
        for wait_for, keys in steps:
            read(wait_for)
            os.write(master, keys.encode())
        read(None)
        _, err = process.communicate(timeout=30)
    finally:
        os.close(master)
    return process.returncode, seen.decode().replace("\r\n", "\n"), err.decode()


PICKER = "[1-3, Enter = 3] "


def test_a_terminal_with_another_locale_picks_a_language(env: dict[str, str]) -> None:
    status, out, err = in_terminal(
        {**env, "LANG": "C.UTF-8"}, [(PICKER, "2\n"), ("你的答案", "q\n")], "play", "--count", "1"
    )
    assert status == 0 and err == "", err
    assert "Choose a language / 選擇語言 / 选择语言" in out
    assert "1) 繁體中文" in out and "2) 简体中文" in out and "3) English" in out
    assert "下次用 `python -m bot play --lang zh-Hans` 就会直接以简体中文开始" in out
    assert "饼干上出现了什么" in out


def test_enter_at_the_picker_means_english_and_a_wrong_key_asks_again(env: dict[str, str]) -> None:
    status, out, _ = in_terminal(
        {**env, "LANG": "fr_FR.UTF-8"}, [(PICKER, "7\n"), (PICKER + "7", "\n"), ("Your answer", "q\n")], "play"
    )
    assert status == 0 and out.count(PICKER) == 2
    assert "Next time, `python -m bot play --lang en` starts in English without asking." in out
    assert "What appears on the cookie?" in out


def test_q_at_the_picker_quits_without_a_quiz(env: dict[str, str]) -> None:
    status, out, err = in_terminal({**env, "LANG": "de_DE.UTF-8"}, [(PICKER, "q\n")], "play")
    assert status == 0 and "Traceback" not in err and "Question" not in out


def test_a_terminal_with_an_english_locale_is_not_asked(env: dict[str, str]) -> None:
    status, out, _ = in_terminal(env, [("Your answer", "q\n")], "play")
    assert status == 0 and PICKER not in out


@pytest.mark.parametrize(
    ("code", "lang"),
    [
        ("zh_TW.UTF-8", Lang.ZH_HANT),
        ("zh", Lang.ZH_HANT),
        ("zh_CN.GB2312", Lang.ZH_HANS),
        ("zh-Hans", Lang.ZH_HANS),
        ("en_US.UTF-8", Lang.EN),
        ("en", Lang.EN),
        ("C.UTF-8", None),
        ("POSIX", None),
        ("fr_FR.UTF-8", None),
        ("de_DE@euro", None),
    ],
)
def test_which_locales_name_a_served_language(code: str, lang: Lang | None) -> None:
    assert served_lang(code) is lang


def test_the_first_locale_variable_set_decides() -> None:
    assert locale_lang({"LC_ALL": "", "LC_MESSAGES": "zh_CN.UTF-8", "LANG": "en_US.UTF-8"}) == (
        Lang.ZH_HANS,
        "LC_MESSAGES=zh_CN.UTF-8",
    )
    assert locale_lang({"LANG": "C.UTF-8"}) == (None, "LANG=C.UTF-8")


def test_the_picker_is_not_shown_when_the_output_is_the_only_terminal(env: dict[str, str]) -> None:
    # Input from a file and output on a terminal is still a script: the picker would read the first answer.
    master, slave = os.openpty()
    shown: list[bytes] = []
    reader = threading.Thread(target=drain, args=(master, shown), daemon=True)
    reader.start()
    try:
        process = spawn({**env, "LANG": "C.UTF-8"}, "play", "--count", "1", stdin=subprocess.PIPE, stdout=slave)
        _, err = process.communicate(b"1\n\n", timeout=30)
    finally:
        os.close(slave)
    reader.join(timeout=30)
    os.close(master)
    assert process.returncode == 0 and HINT in err.decode()
    out = b"".join(shown).decode()
    assert "What appears on the cookie?" in out and PICKER not in out


def drain(fd: int, into: list[bytes]) -> None:
    """Read a pseudo-terminal until its other end closes, so the process writing to it never blocks."""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            return
        if not chunk:
            return
        into.append(chunk)
