"""Running `python -m bot` as a person would, and reading what it stored through the storage API."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from typing import IO

from bot.config import PROJECT_ROOT
from bot.core.engine import AnswerRecord, UserId
from bot.storage import open_storage


def bot(env: dict[str, str], stdin: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m bot ARGS` with `stdin` piped in."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=PROJECT_ROOT,
        timeout=60,
        check=False,
    )


def play(env: dict[str, str], stdin: str, *args: str) -> subprocess.CompletedProcess[str]:
    """A terminal quiz with a fixed seed, its answers piped in."""
    return bot(env, stdin, "play", "--seed", "1", *args)


def spawn(
    env: dict[str, str], *args: str, stdin: int | IO[bytes] | None, stdout: int | IO[bytes] | None
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot", *args],
        stdin=stdin,
        stdout=stdout,
        stderr=subprocess.PIPE,
        env=env,
        cwd=PROJECT_ROOT,
    )


def answers_in(env: dict[str, str]) -> list[AnswerRecord]:
    """The terminal player's stored answers, oldest first."""

    async def read() -> list[AnswerRecord]:
        storage = await open_storage(env["DATABASE_URL"])
        try:
            return await storage.answers(user_id=UserId(0))
        finally:
            await storage.close()

    return sorted(asyncio.run(read()), key=lambda answer: answer.answered_at)
