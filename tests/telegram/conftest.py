"""End-to-end fixtures: the real bot (BotRuntime) polling a local Bot API emulator over HTTP.

Every test that takes `database_url` (the `bot` fixture does) runs on SQLite and on PostgreSQL, as the storage tests
do (tests/storage/conftest.py): the PostgreSQL case gets an empty schema of its own, and is skipped with the reason
without TEST_DATABASE_URL or a server answering there. A test that can only run on SQLite (it injects a fault through
sqlite3) says why with `@pytest.mark.sqlite_only("reason")` and gets the SQLite case alone.

Tests check what was stored through the services (`bot.services`), or where no service shows it, through the storage
API on the same database (`stored(database_url)`), never with SQL of their own: so they hold on either back-end.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest
import pytest_asyncio

from bot.config import PROJECT_ROOT, load_settings
from bot.core.engine import UserId
from bot.services import RevealView
from bot.services.bank import open_bank
from bot.storage import SQLStorage, open_storage
from bot.storage.factory import sqlite_path
from bot.telegram.app import BotRuntime
from bot.telegram.context import SERVICES_KEY, BotServices
from tests.emulator import BotApiEmulator
from tests.emulator.pytest_plugin import TEST_TOKEN
from tests.storage.conftest import BACKENDS, fresh_schema, postgres_server

BASE_SETTINGS = load_settings({})
BANK = open_bank([BASE_SETTINGS.questions_path], BASE_SETTINGS.article_path)
T = TypeVar("T")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sqlite_only(reason): an end-to-end test that runs on SQLite alone, and why")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Each test on a database runs once per back-end (SQLite alone for the `sqlite_only` ones)."""
    if "database_url" in metafunc.fixturenames:
        sqlite_only = metafunc.definition.get_closest_marker("sqlite_only")
        assert sqlite_only is None or sqlite_only.args, f"{metafunc.definition.nodeid}: say why it is SQLite only"
        metafunc.parametrize("database_url", ["sqlite"] if sqlite_only else list(BACKENDS), indirect=True)


@pytest.fixture
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A DATABASE_URL naming an empty database: a SQLite file, or a fresh PostgreSQL schema (dropped after)."""
    if getattr(request, "param", "sqlite") == "sqlite":
        yield f"sqlite:///{tmp_path / 'quiz.db'}"
        return
    async with fresh_schema(await postgres_server()) as url:
        yield url


@asynccontextmanager
async def stored(database_url: str) -> AsyncIterator[SQLStorage]:
    """The storage API on the database at `database_url`, opened beside the bot (as another worker would open it) and
    closed after: for checking what no service shows, or a bot that is stopped or in another process."""
    storage = await open_storage(database_url, base=PROJECT_ROOT)
    try:
        yield storage
    finally:
        await storage.close()


async def settled(read: Callable[[], Awaitable[T]], expected: T, *, timeout: float = 5.0) -> T:  # noqa: ASYNC109
    """What `read()` returns once it equals `expected`, or as it is after `timeout` seconds: assert on it."""
    deadline = time.monotonic() + timeout
    while True:
        found = await read()
        if found == expected or time.monotonic() >= deadline:
            return found
        await asyncio.sleep(0.05)


@dataclass
class RunningBot:
    """The bot under test and the emulator it talks to."""

    api: BotApiEmulator
    runtime: BotRuntime
    database_url: str

    @property
    def services(self) -> BotServices:
        assert self.runtime.application is not None
        return self.runtime.application.bot_data[SERVICES_KEY]

    def stored(self) -> AbstractAsyncContextManager[SQLStorage]:
        """The storage API on the bot's database (see `stored`)."""
        return stored(self.database_url)

    @property
    def sqlite_file(self) -> str:
        """The bot's SQLite file, for a `sqlite_only` test."""
        assert self.database_url.startswith("sqlite:"), "only a sqlite_only test may reach for the file"
        return sqlite_path(self.database_url, base=PROJECT_ROOT)

    async def right_option(self, user_id: int) -> int:
        """Where the right answer stands among the shown options of the user's current question."""
        current = await self.services.quiz.current(UserId(user_id))
        assert current is not None, "no active quiz"
        return current.view.answer_shown if isinstance(current, RevealView) else current.answer_shown


def bot_settings(api: BotApiEmulator, database_url: str, **overrides: str):
    environ = {
        "TELEGRAM_BOT_TOKEN": TEST_TOKEN,
        "TELEGRAM_API_BASE_URL": api.base_url,
        "DATABASE_URL": database_url,
        "QUIZ_LENGTH": "3",
        "PROJECTOR_PORT": "0",  # each bot its own free port: tests run side by side
        **overrides,
    }
    return load_settings(environ)


async def start_bot(api: BotApiEmulator, database_url: str, **overrides: str) -> BotRuntime:
    runtime = BotRuntime(bot_settings(api, database_url, **overrides), BANK, rng=random.Random(4))
    await runtime.start(poll_timeout=1.0)
    return runtime


@pytest_asyncio.fixture
async def bot(bot_api: BotApiEmulator, database_url: str) -> AsyncIterator[RunningBot]:
    runtime = await start_bot(bot_api, database_url)
    try:
        yield RunningBot(api=bot_api, runtime=runtime, database_url=database_url)
    finally:
        await runtime.stop()


@pytest.fixture
def bank():
    return BANK
