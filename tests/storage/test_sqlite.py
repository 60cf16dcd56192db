"""SQLite specifics: its schema version lives in PRAGMA user_version, and its URLs name files.

Behaviour every back-end shares is tested in test_storage.py, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.core.engine import UserId
from bot.core.lang import Lang
from bot.core.users import UserProfile
from bot.storage import StorageError, open_storage
from bot.storage.factory import sqlite_path
from bot.storage.sqlite import SCHEMA_VERSION, SQLiteStorage


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
