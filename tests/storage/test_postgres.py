"""PostgreSQL specifics: the schema_version table, migrations in one transaction, retrying a lost connection,
giving up on an unavailable server with one clear line, never showing the password, and its URLs.

Tests taking `postgres_dsn` are skipped (with the reason) without TEST_DATABASE_URL; the others need no server.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time

import asyncpg
import pytest

from bot.core.drill import DrillId
from bot.core.engine import AnswerRecord, SessionId, UserId
from bot.core.group import ChatId
from bot.core.lang import Lang
from bot.core.model import QuestionId
from bot.core.users import UserProfile
from bot.redact import redact_url, url_secrets
from bot.storage import StorageError, open_storage, postgres, sqlite
from bot.storage.postgres import SCHEMA_VERSION, PostgresStorage, _retrying
from bot.storage.sqlite import SQLiteStorage
from bot.storage.statements import FORGET_USER_ROWS

PASSWORD = "s3cret-Pa55"


def public_methods(cls: type) -> set[str]:
    return {name for name in dir(cls) if not name.startswith("_")}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_postgres_keeps_step_with_sqlite() -> None:
    # A table or method added to one back-end must be added to the other.
    assert postgres.SCHEMA_VERSION == sqlite.SCHEMA_VERSION
    assert public_methods(PostgresStorage) == public_methods(SQLiteStorage)


def test_urls_are_shown_without_their_password() -> None:
    assert redact_url(f"postgresql://quiz:{PASSWORD}@db:5432/quiz") == "postgresql://quiz:***@db:5432/quiz"
    assert redact_url("postgres://quiz:p%40ss@db/quiz?sslmode=require") == "postgres://quiz:***@db/quiz?sslmode=require"
    assert redact_url("postgresql://db/quiz?user=q&password=x") == "postgresql://db/quiz?user=q&password=***"
    assert redact_url("postgresql://quiz@db/quiz") == "postgresql://quiz@db/quiz"
    # A URL with no secret comes back untouched: urlunsplit would drop a slash from sqlite:////abs/x.db.
    assert redact_url("sqlite:////tmp/quiz.db") == "sqlite:////tmp/quiz.db"
    assert redact_url("sqlite:///data/quiz.db") == "sqlite:///data/quiz.db"
    assert url_secrets("postgres://quiz:p%40ss@db/quiz") == ["p%40ss", "p@ss"]
    assert url_secrets("postgresql://quiz@db/quiz") == []


async def test_transient_failures_are_retried_then_reported() -> None:
    failures = [asyncpg.exceptions.ConnectionDoesNotExistError("gone"), ConnectionResetError("reset")]

    async def flaky() -> str:
        if failures:
            raise failures.pop(0)
        return "done"

    assert await _retrying("probe", flaky, where="here", secrets=[], retry_seconds=2) == "done"

    tries = 0

    async def down() -> None:
        nonlocal tries
        tries += 1
        raise asyncpg.exceptions.CannotConnectNowError(f"the database system is starting up ({PASSWORD})")

    started = time.monotonic()
    with pytest.raises(StorageError, match=r"^PostgreSQL at here is unavailable \(probe failed \d+ times") as caught:
        await _retrying("probe", down, where="here", secrets=[PASSWORD], retry_seconds=0.4)
    assert tries > 2 and time.monotonic() - started < 1.5
    assert PASSWORD not in str(caught.value) and "***" in str(caught.value)


async def test_lasting_failures_are_not_retried() -> None:
    tries = 0

    async def refused() -> None:
        nonlocal tries
        tries += 1
        raise asyncpg.exceptions.UniqueViolationError("duplicate key")

    with pytest.raises(StorageError, match="probe failed: UniqueViolationError: duplicate key"):
        await _retrying("probe", refused, where="here", secrets=[], retry_seconds=5)
    assert tries == 1

    async def buggy() -> None:
        raise KeyError("a bug is not a database problem")

    with pytest.raises(KeyError):
        await _retrying("probe", buggy, where="here", secrets=[], retry_seconds=5)


async def test_an_unreachable_server_gives_one_masked_line(caplog: pytest.LogCaptureFixture) -> None:
    url = f"postgresql://quiz:{PASSWORD}@127.0.0.1:{free_port()}/quiz"
    started = time.monotonic()
    with caplog.at_level(logging.WARNING), pytest.raises(StorageError) as caught:
        await PostgresStorage.open(url, retry_seconds=0.5)
    message = str(caught.value)
    assert time.monotonic() - started < 3
    assert message.startswith("PostgreSQL at postgresql://quiz:***@127.0.0.1:") and "is unavailable" in message
    assert "\n" not in message and PASSWORD not in message
    assert caplog.records and PASSWORD not in caplog.text


async def test_a_bad_url_is_a_storage_error() -> None:
    with pytest.raises(StorageError, match=r"bad PostgreSQL URL postgresql://quiz:\*\*\*@db:port/quiz"):
        await open_storage(f"postgresql://quiz:{PASSWORD}@db:port/quiz")


async def test_open_storage_opens_postgres_for_both_schemes(postgres_dsn: str) -> None:
    for scheme in ("postgresql", "postgres"):
        store = await open_storage(scheme + postgres_dsn[postgres_dsn.index(":") :])
        assert isinstance(store, PostgresStorage)
        await store.save_user(UserProfile(id=UserId(1), lang=Lang.EN))
        await store.close()


async def test_schema_versions_are_recorded_and_a_newer_one_refused(postgres_dsn: str) -> None:
    store = await PostgresStorage.open(postgres_dsn)
    assert await store.schema_version() == SCHEMA_VERSION
    await store.close()
    conn = await asyncpg.connect(postgres_dsn)
    try:
        rows = await conn.fetch("SELECT version FROM schema_version ORDER BY version")
        assert [row[0] for row in rows] == list(range(1, SCHEMA_VERSION + 1))
        await conn.execute("INSERT INTO schema_version (version) VALUES ($1)", SCHEMA_VERSION + 1)
    finally:
        await conn.close()
    with pytest.raises(StorageError, match="newer than this program"):
        await PostgresStorage.open(postgres_dsn)


async def test_a_failing_upgrade_changes_nothing(postgres_dsn: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(postgres, "MIGRATIONS", (*postgres.MIGRATIONS, "CREATE TABLE extra (x INTEGER); SELEC 1"))
    monkeypatch.setattr(postgres, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    with pytest.raises(StorageError, match="PostgresSyntaxError"):
        await PostgresStorage.open(postgres_dsn)
    conn = await asyncpg.connect(postgres_dsn)
    try:
        # All the upgrades run in one transaction: none of them stayed.
        assert await conn.fetchval("SELECT to_regclass('schema_version')") is None
        assert await conn.fetchval("SELECT to_regclass('users')") is None
    finally:
        await conn.close()
    monkeypatch.undo()
    store = await PostgresStorage.open(postgres_dsn)
    assert await store.schema_version() == SCHEMA_VERSION
    await store.close()


async def test_processes_starting_together_upgrade_once(postgres_dsn: str) -> None:
    stores = await asyncio.gather(*(PostgresStorage.open(postgres_dsn) for _ in range(4)))
    try:
        assert [await s.schema_version() for s in stores] == [SCHEMA_VERSION] * 4
    finally:
        for store in stores:
            await store.close()


async def test_every_table_about_a_person_is_forgotten(postgres_dsn: str) -> None:
    store = await PostgresStorage.open(postgres_dsn)
    await store.close()
    conn = await asyncpg.connect(postgres_dsn)
    try:
        rows = await conn.fetch(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND column_name IN ('user_id', 'teacher_id')"
        )
    finally:
        await conn.close()
    assert {(r[0], r[1]) for r in rows} | {("users", "id")} == set(FORGET_USER_ROWS)


async def test_a_lost_connection_is_retried(postgres_dsn: str) -> None:
    dsn = postgres_dsn + "&application_name=lost-connection-test"
    store = await PostgresStorage.open(dsn, min_size=2, max_size=2)
    try:
        profile = UserProfile(id=UserId(5), lang=Lang.EN, created_at=1.0)
        await store.save_user(profile)
        admin = await asyncpg.connect(postgres_dsn)
        try:
            killed = await admin.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1",
                "lost-connection-test",
            )
        finally:
            await admin.close()
        assert killed == 2
        assert await store.get_user(profile.id) == profile
        await store.save_user(UserProfile(id=UserId(6), lang=Lang.ZH_HANT))
        assert (await store.get_user(UserId(6))).lang is Lang.ZH_HANT
    finally:
        await store.close()


async def test_a_closed_storage_says_so(postgres_dsn: str) -> None:
    store = await PostgresStorage.open(postgres_dsn)
    await store.close()
    with pytest.raises(StorageError, match="is closed"):
        await store.get_user(UserId(1))


async def test_a_connection_goes_back_to_the_pool_as_it_came(postgres_dsn: str) -> None:
    """Connections are released without asyncpg's reset query: no call may leave session state behind."""
    store = await PostgresStorage.open(postgres_dsn, min_size=1, max_size=1)  # every call on the one connection
    state = (
        "SELECT current_setting('search_path'), current_setting('TimeZone'), current_setting('statement_timeout'), "
        "current_setting('default_transaction_isolation'), current_setting('default_transaction_read_only'), "
        "(SELECT count(*) FROM pg_locks WHERE pid = pg_backend_pid() AND locktype = 'advisory'), "
        "(SELECT count(*) FROM pg_cursors), (SELECT count(*) FROM pg_listening_channels())"
    )
    try:
        async with store._pool.acquire() as conn:
            before = tuple(await conn.fetchrow(state))
        await store.save_user(UserProfile(id=UserId(5), lang=Lang.EN))  # one statement
        assert await store.get_user(UserId(5)) is not None  # a read
        assert await store.add_student(DrillId("d1"), 5, 1.0, limit=3) == "joined"  # a transaction with a lock
        assert await store.set_nickname(DrillId("d1"), 5, "Amy") == "Amy"
        assert await store.group_history(ChatId(-1)) == (0, [])  # a read-only snapshot
        await store.move_group(ChatId(-1), ChatId(-2))  # a transaction with a savepoint
        unstorable = AnswerRecord(
            session_id=SessionId("s1"),
            user_id=UserId(5),
            question_id=QuestionId("alpha-1"),
            topic="alpha",
            position=0,
            chosen=0,
            correct=True,
            confidence=None,
            elapsed_ms=2**70,
            answered_at=1.0,
            context="private",
        )
        with pytest.raises(StorageError):  # a transaction that fails
            await store.record_answer(unstorable)
        async with store._pool.acquire() as conn:
            assert not conn.is_in_transaction()
            assert tuple(await conn.fetchrow(state)) == before
    finally:
        await store.close()
