"""Storage back-ends for the storage tests: a test taking `storage` (or `backend`) runs on SQLite and on PostgreSQL.

The PostgreSQL cases need TEST_DATABASE_URL, e.g. postgresql://postgres@127.0.0.1:55432/quiz_test, naming a
database where that user may create schemas (`.ci/postgres` starts a server with one). Each case gets an empty
schema of its own (its storages connect with search_path set to it), dropped after the test. Without the
variable, or when the server does not answer, the PostgreSQL cases are skipped with the reason: never passed
without running.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from bot.redact import redact_url
from bot.storage import SQLStorage
from bot.storage.postgres import PostgresStorage
from bot.storage.sqlite import SQLiteStorage

BACKENDS = ("sqlite", "postgres")
# A short retry budget: a test that loses its server should fail in seconds, not hang.
TEST_RETRY_SECONDS = 2.0
_probed: dict[str, str | None] = {}  # TEST_DATABASE_URL -> why it cannot be used (None: it can)


@dataclass
class Backend:
    """One back-end for one test: `open()` opens another storage on the same database (like another process), and
    `run_sql()` changes that database behind the storage's back, through the driver (as another program would)."""

    name: str
    opener: Callable[[], Awaitable[SQLStorage]]
    run_sql: Callable[[str], Awaitable[None]]
    opened: list[SQLStorage] = field(default_factory=list)

    async def open(self) -> SQLStorage:
        store = await self.opener()
        self.opened.append(store)
        return store

    async def close_all(self) -> None:
        while self.opened:
            await self.opened.pop().close()


async def postgres_server() -> str:
    """TEST_DATABASE_URL once its server has answered; skips the test (with the reason) otherwise."""
    url = os.environ.get("TEST_DATABASE_URL", "").strip()
    if not url:
        pytest.skip("PostgreSQL not available: TEST_DATABASE_URL is not set")
    if url not in _probed:
        try:
            conn = await asyncpg.connect(url, timeout=5)
            await conn.close()
            _probed[url] = None
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
            _probed[url] = f"cannot connect to {redact_url(url)}: {type(error).__name__}: {error}"
    reason = _probed[url]
    if reason is not None:
        pytest.skip(f"PostgreSQL not available: {reason}")
    return url


@asynccontextmanager
async def fresh_schema(server: str) -> AsyncIterator[str]:
    """A new, empty schema in the database of `server` (a URL); yields a URL whose connections use only it.

    The schema is dropped afterwards. (A schema, not a database: creating a database takes a tenth of a second.)
    """
    name = f"quiz_test_{secrets.token_hex(6)}"
    admin = await asyncpg.connect(server)
    try:
        await admin.execute(f'CREATE SCHEMA "{name}"')
    finally:
        await admin.close()
    parts = urlsplit(server)
    query = "&".join(filter(None, [parts.query, f"search_path={name}"]))
    try:
        yield urlunsplit(parts._replace(query=query))
    finally:
        admin = await asyncpg.connect(server)
        try:
            await admin.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
        finally:
            await admin.close()


@pytest.fixture(params=BACKENDS)
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    if request.param == "sqlite":
        path = str(tmp_path / "quiz.db")

        async def run_sqlite(sql: str) -> None:
            with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as db:
                db.executescript(sql)

        sqlite = Backend("sqlite", lambda: SQLiteStorage.open(path), run_sqlite)
        try:
            yield sqlite
        finally:
            await sqlite.close_all()
        return
    async with fresh_schema(await postgres_server()) as dsn:

        async def run_postgres(sql: str) -> None:
            conn = await asyncpg.connect(dsn)
            try:
                await conn.execute(sql)
            finally:
                await conn.close()

        postgres = Backend(
            "postgres", lambda: PostgresStorage.open(dsn, retry_seconds=TEST_RETRY_SECONDS), run_postgres
        )
        try:
            yield postgres
        finally:
            await postgres.close_all()


@pytest.fixture
async def storage(backend: Backend) -> SQLStorage:
    """A storage on an empty database, closed after the test."""
    return await backend.open()


@pytest.fixture
async def postgres_dsn() -> AsyncIterator[str]:
    """The URL of an empty PostgreSQL schema, for PostgreSQL-only tests (skipped without a server)."""
    async with fresh_schema(await postgres_server()) as dsn:
        yield dsn
