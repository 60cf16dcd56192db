"""Pytest fixtures for the emulator; enable them with ``pytest_plugins = ["tests.emulator.pytest_plugin"]``.

``bot_api`` is a started :class:`~tests.emulator.BotApiEmulator` that is stopped after the test and
fails the test if the emulator itself hit an internal error (an emulator bug, not a bot bug).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from .emulator import BotApiEmulator

TEST_TOKEN = "123456:TEST-token"
TEST_BOT_USERNAME = "DeepfakeQuizBot"


@pytest_asyncio.fixture
async def bot_api() -> AsyncIterator[BotApiEmulator]:
    """A running emulator for the bot ``TEST_BOT_USERNAME`` with token ``TEST_TOKEN``."""
    emulator = BotApiEmulator(token=TEST_TOKEN, bot_username=TEST_BOT_USERNAME)
    await emulator.start()
    try:
        yield emulator
    finally:
        await emulator.stop()
    assert not emulator.internal_errors, f"emulator internal errors: {emulator.internal_errors!r}"
