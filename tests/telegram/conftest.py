"""End-to-end fixtures: the real bot (BotRuntime) polling a local Bot API emulator over HTTP."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio

from bot.config import load_settings
from bot.core.engine import UserId
from bot.services import RevealView
from bot.services.bank import open_bank
from bot.telegram.app import BotRuntime
from bot.telegram.context import SERVICES_KEY, BotServices
from tests.emulator import BotApiEmulator
from tests.emulator.pytest_plugin import TEST_TOKEN

BASE_SETTINGS = load_settings({})
BANK = open_bank([BASE_SETTINGS.questions_path], BASE_SETTINGS.article_path)


@dataclass
class RunningBot:
    """The bot under test and the emulator it talks to."""

    api: BotApiEmulator
    runtime: BotRuntime
    database: Path

    @property
    def services(self) -> BotServices:
        assert self.runtime.application is not None
        return self.runtime.application.bot_data[SERVICES_KEY]

    async def right_option(self, user_id: int) -> int:
        """Where the right answer stands among the shown options of the user's current question."""
        current = await self.services.quiz.current(UserId(user_id))
        assert current is not None, "no active quiz"
        return current.view.answer_shown if isinstance(current, RevealView) else current.answer_shown


def bot_settings(api: BotApiEmulator, database: Path, **overrides: str):
    environ = {
        "TELEGRAM_BOT_TOKEN": TEST_TOKEN,
        "TELEGRAM_API_BASE_URL": api.base_url,
        "DATABASE_URL": f"sqlite:///{database}",
        "QUIZ_LENGTH": "3",
        **overrides,
    }
    return load_settings(environ)


async def start_bot(api: BotApiEmulator, database: Path, **overrides: str) -> BotRuntime:
    runtime = BotRuntime(bot_settings(api, database, **overrides), BANK, rng=random.Random(4))
    await runtime.start(poll_timeout=1.0)
    return runtime


@pytest_asyncio.fixture
async def bot(bot_api: BotApiEmulator, tmp_path: Path) -> AsyncIterator[RunningBot]:
    database = tmp_path / "quiz.db"
    runtime = await start_bot(bot_api, database)
    try:
        yield RunningBot(api=bot_api, runtime=runtime, database=database)
    finally:
        await runtime.stop()


@pytest.fixture
def bank():
    return BANK
