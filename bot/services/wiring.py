"""The one place storage is opened and handed to the use cases; adapters get the services, never the storage.

`python -m bot play`, `report`, `items` and `run` all open their services here, so a new storage back-end or a new
service is wired once.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from ..core.group import GroupRules
from ..core.lang import Lang
from ..core.model import QuestionBank
from ..storage import SQLStorage, StorageError, open_storage
from ..storage.factory import sqlite_path
from .drill import DrillService
from .group import GroupService
from .items import ItemService
from .projector import ProjectorService
from .quiz import QuizService

__all__ = ["ServiceSet", "StorageError", "missing_sqlite_file", "open_services"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceSet:
    """The use cases over one open storage; `close` closes that storage."""

    quiz: QuizService
    group: GroupService
    drill: DrillService
    items: ItemService
    projector: ProjectorService
    _storage: SQLStorage

    async def close(self) -> None:
        await self._storage.close()


async def open_services(
    database_url: str,
    bank: QuestionBank,
    *,
    base: Path,
    rules: GroupRules | None = None,
    max_students: int = 200,
    clock: Callable[[], float] = time.time,
    rng: random.Random | None = None,
) -> ServiceSet:
    """Open the database at `database_url` (relative SQLite paths from `base`) and build every service over it.
    Raises StorageError when it can't be opened."""
    storage = await open_storage(database_url, base=base)
    quiz = QuizService(bank, storage, clock=clock, rng=rng)
    drill = DrillService(bank, storage, quiz, max_students=max_students, clock=clock, rng=rng)
    return ServiceSet(
        quiz=quiz,
        group=GroupService(bank, storage, rules=rules or GroupRules(), clock=clock, rng=rng),
        drill=drill,
        items=ItemService(bank, storage),
        # A drill made before the projector view kept no language; it has no projector token either.
        projector=ProjectorService(drill, storage, default_lang=Lang.ZH_HANT, clock=clock),
        _storage=storage,
    )


def missing_sqlite_file(database_url: str, *, base: Path) -> Path | None:
    """The file a SQLite `database_url` names, when it does not exist (opening it would create an empty database);
    None for a file that exists, `:memory:` and every other back-end. Raises StorageError for a bad SQLite URL."""
    if urlsplit(database_url).scheme != "sqlite":
        return None
    path = sqlite_path(database_url, base=base)
    if path == ":memory:" or Path(path).exists():
        return None
    return Path(path)
