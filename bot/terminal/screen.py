"""Lines out and answers in, over text streams: output wrapped to the terminal's width, input read a line at a time.

No colour is written, so there is nothing for `NO_COLOR` to turn off.
"""

from __future__ import annotations

import shutil
import unicodedata
from collections.abc import Callable
from typing import IO

from .wrap import wrap

QUIT_WORDS = frozenset({"q", "quit", "exit", "離開", "离开"})


class EndOfInput(Exception):
    """The person typed q, or the input ran out."""


def terminal_columns() -> int:
    """The terminal's width: `COLUMNS` if set, else the terminal's own, else 80 (e.g. when output is piped)."""
    return shutil.get_terminal_size().columns


def normalize(answer: str) -> str:
    """What was typed, as compared: full-width letters and digits (from a Chinese input method) made plain, case
    folded, blanks trimmed."""
    return unicodedata.normalize("NFKC", answer).strip().casefold()


FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")


def number(answer: str) -> int | None:
    """The whole number typed in ASCII or full-width digits (a Chinese input method types those), or None; other
    digits (², ٣) are no answer."""
    text = answer.strip().translate(FULL_WIDTH_DIGITS)
    return int(text) if text.isascii() and text.isdigit() else None


class Screen:
    """A terminal: `say` prints wrapped text, `ask` prints a prompt and reads one answer."""

    def __init__(self, stdin: IO[str], stdout: IO[str], *, columns: Callable[[], int] = terminal_columns) -> None:
        self.stdin = stdin
        self.stdout = stdout
        self.columns = columns

    def say(self, text: str = "") -> None:
        self.stdout.write("\n".join(wrap(text, self.columns())) + "\n")
        self.stdout.flush()

    def ask(self, prompt: str) -> str:
        """The answer typed, trimmed; raises EndOfInput at the end of input or on a quit word (q, 離開...)."""
        # The prompt keeps its trailing blank after wrapping, so the answer is typed after a space.
        body = prompt.rstrip(" ")
        self.stdout.write("\n".join(wrap(body, self.columns())) + prompt[len(body) :])
        self.stdout.flush()
        line = self.stdin.readline()
        if not line:
            self.say()
            raise EndOfInput
        answer = line.strip()
        if normalize(answer) in QUIT_WORDS:
            raise EndOfInput
        return answer
