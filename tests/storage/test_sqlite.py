"""SQLite specifics: its schema version lives in PRAGMA user_version, its URLs name files, a lock held by another
process is waited for (and past that, is a StorageError), and /forget knows every table about a person.

Behaviour every back-end shares is tested in test_storage.py, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from bot.core.engine import UserId
from bot.core.lang import Lang
from bot.core.users import UserProfile
from bot.storage import StorageError, open_storage, sqlite
from bot.storage.factory import sqlite_path
from bot.storage.sqlite import SCHEMA_VERSION, SQLiteStorage
from bot.storage.statements import FORGET_USER_ROWS


async def test_the_schema_version_is_the_user_version(tmp_path: Path) -> None:
    store = await SQLiteStorage.open(str(tmp_path / "quiz.db"))
    async with store._db.execute("PRAGMA user_version") as cursor:
        assert (await cursor.fetchone())[0] == SCHEMA_VERSION == await store.schema_version()
    await store.close()


async def test_a_newer_schema_is_refused_clearly(tmp_path: Path) -> None:
    path = str(tmp_path / "quiz.db")
    store = await SQLiteStorage.open(path)
    await store._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    await store.close()
    with pytest.raises(StorageError, match="newer than this program"):
        await SQLiteStorage.open(path)


async def test_open_storage_urls(tmp_path: Path) -> None:
    assert sqlite_path("sqlite:///data/quiz.db", base=tmp_path) == str(tmp_path / "data" / "quiz.db")
    assert sqlite_path("sqlite:////abs/q.db", base=tmp_path) == "/abs/q.db"
    store = await open_storage("sqlite:///nested/dir/q.db", base=tmp_path)
    assert (tmp_path / "nested" / "dir" / "q.db").exists()
    await store.close()
    with pytest.raises(StorageError, match="unsupported DATABASE_URL scheme"):
        await open_storage("mysql://x")
    with pytest.raises(StorageError, match="bad SQLite URL"):
        await open_storage("sqlite://relative.db")


def test_two_processes_opening_a_new_database_at_once_both_succeed(tmp_path: Path) -> None:
    """Two workers starting together on a fresh file: one applies the schema, the other finds it done."""
    import subprocess
    import sys
    import time

    from bot.config import PROJECT_ROOT

    script = (
        "import asyncio, sys, time\n"
        "from bot.storage.sqlite import SQLiteStorage\n"
        "async def main():\n"
        "    time.sleep(max(0.0, float(sys.argv[2]) - time.time()))  # all open at the same moment\n"
        "    store = await SQLiteStorage.open(sys.argv[1])\n"
        "    print(await store.schema_version())\n"
        "    await store.close()\n"
        "asyncio.run(main())\n"
    )
    path = str(tmp_path / "shared.db")
    start = str(time.time() + 3.0)
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", script, path, start],
            cwd=PROJECT_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    results = [p.communicate(timeout=60) for p in processes]
    assert [p.returncode for p in processes] == [0, 0, 0, 0], results
    assert {out.strip() for out, _ in results} == {str(SCHEMA_VERSION)}


async def test_a_write_waits_out_its_own_open_read_when_another_process_wrote(tmp_path: Path) -> None:
    # Two connections stand for two worker processes on one file.
    path = str(tmp_path / "q.db")
    here, there = await SQLiteStorage.open(path), await SQLiteStorage.open(path)
    try:
        for user in (1, 2):
            await here.save_user(UserProfile(id=UserId(user), lang=Lang.EN, created_at=1.0))
        # Another coroutine's read, still open: the connection holds a snapshot from before the other write.
        cursor = await here._db.execute("SELECT id FROM users")
        await cursor.fetchone()
        await there.save_user(UserProfile(id=UserId(3), lang=Lang.EN, created_at=2.0))

        async def read_ends() -> None:
            await asyncio.sleep(0.05)
            await cursor.close()

        ending = asyncio.create_task(read_ends())
        # SQLite refuses this write lock at once (no busy wait); the storage asks again until the read is over.
        await here.save_user(UserProfile(id=UserId(4), lang=Lang.EN, created_at=3.0))
        await ending
        assert await there.get_user(UserId(4)) is not None
    finally:
        await here.close()
        await there.close()


async def test_a_database_locked_past_the_patience_is_a_storage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = str(tmp_path / "q.db")
    store = await SQLiteStorage.open(path)
    monkeypatch.setattr(sqlite, "BEGIN_PATIENCE", 0.1)
    await store._db.execute("PRAGMA busy_timeout=0")  # no wait of SQLite's own on top: the test stays short
    holder = sqlite3.connect(path, timeout=0, isolation_level=None)  # another process, writing for a long time
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StorageError, match=r"^database is locked$") as caught:
            await store.save_user(UserProfile(id=UserId(1), lang=Lang.EN))
        assert isinstance(caught.value.__cause__, sqlite3.OperationalError)
    finally:
        holder.rollback()
        holder.close()
    await store.save_user(UserProfile(id=UserId(1), lang=Lang.EN))  # the lock is free again: so is the storage
    assert await store.get_user(UserId(1)) is not None
    await store.close()


async def test_a_database_that_refuses_writes_is_a_storage_error(tmp_path: Path) -> None:
    store = await SQLiteStorage.open(str(tmp_path / "q.db"))
    await store.save_user(UserProfile(id=UserId(1), lang=Lang.EN))
    await store._db.execute("PRAGMA query_only=ON")  # as a read-only file or medium would
    with pytest.raises(StorageError, match="readonly"):
        await store.save_user(UserProfile(id=UserId(2), lang=Lang.EN))
    assert await store.get_user(UserId(1)) is not None  # reads go on
    await store._db.execute("PRAGMA query_only=OFF")
    await store.save_user(UserProfile(id=UserId(2), lang=Lang.EN))  # and no transaction was left open
    await store.close()


async def test_every_table_about_a_person_is_forgotten(tmp_path: Path) -> None:
    store = await SQLiteStorage.open(str(tmp_path / "q.db"))
    tables = [row[0] for row in await store._db.execute_fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")]
    about_people = {("users", "id")}
    for table in tables:
        for column in await store._db.execute_fetchall(f"SELECT name FROM pragma_table_info('{table}')"):
            if column[0] in ("user_id", "teacher_id"):
                about_people.add((table, column[0]))
    await store.close()
    assert about_people == set(FORGET_USER_ROWS)


async def test_an_sqlite_too_old_for_the_statements_is_refused_clearly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite.sqlite3, "sqlite_version_info", (3, 29, 0))
    monkeypatch.setattr(sqlite.sqlite3, "sqlite_version", "3.29.0")
    with pytest.raises(StorageError, match=r"^SQLite 3\.29\.0 is too old: the bot needs 3\.30\.0 or newer"):
        await SQLiteStorage.open(str(tmp_path / "q.db"))
    assert not (tmp_path / "q.db").exists()
