"""What the service tests share: a clock they move by hand, and a real SQLite storage the services write to."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.storage.sqlite import SQLiteStorage


class FakeClock:
    """A clock that stands still until a test moves `now`."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStorage]:
    """The service's storage, to check what it wrote (the service keeps its own private)."""
    storage = await SQLiteStorage.open(str(tmp_path / "q.db"))
    yield storage
    await storage.close()
