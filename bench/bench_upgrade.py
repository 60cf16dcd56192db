"""Benchmark: how long the upgrade to schema 4 (running counts kept by triggers) takes on a large SQLite database.

Run: .venv/bin/python bench/bench_upgrade.py [--answers 1000000] [--members 100000] [--runs 3]
Builds a schema-3 database with that many answers (in group sessions of 1,000 members, 10 questions each) and
members, then times opening it with the current code, which applies the upgrade, and checks the counts it made.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.storage import sqlite as sqlite_storage  # noqa: E402
from bot.storage.sqlite import SQLiteStorage  # noqa: E402

UPGRADED_FROM = 3
PER_SESSION = 1000  # members of one group session
QUESTIONS = 10


async def build(path: str, answers: int, members: int) -> None:
    """A database at schema 3, filled with plain SQL (fast) through the schema the storage itself created."""
    latest = sqlite_storage.SCHEMA_VERSION
    sqlite_storage.SCHEMA_VERSION = UPGRADED_FROM
    try:
        store = await SQLiteStorage.open(path)
        await store.close()
    finally:
        sqlite_storage.SCHEMA_VERSION = latest
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("BEGIN")
    db.executemany(
        "INSERT INTO group_members (session_id, user_id, name, joined_at, left_at) VALUES (?, ?, ?, 0, ?)",
        ((f"g{n // PER_SESSION}", n, f"member {n}", 1.0 if n % 10 == 0 else None) for n in range(members)),
    )
    db.executemany(
        "INSERT INTO answers (session_id, user_id, question_id, topic, position, chosen, correct, confidence, "
        "elapsed_ms, answered_at, context, points) VALUES (?, ?, 'q', 't', ?, 0, 1, NULL, 500, 0, 'group', 100)",
        (
            (f"g{n // (PER_SESSION * QUESTIONS)}", n % PER_SESSION, (n // PER_SESSION) % QUESTIONS)
            for n in range(answers)
        ),
    )
    db.execute("COMMIT")
    db.close()


async def upgrade(path: str) -> float:
    started = time.perf_counter()
    store = await SQLiteStorage.open(path)
    elapsed = time.perf_counter() - started
    try:
        assert await store.schema_version() == sqlite_storage.SCHEMA_VERSION
        answered, present = await store.answer_tally("g0", 0)  # type: ignore[arg-type]
        assert answered == PER_SESSION and present == PER_SESSION - PER_SESSION // 10, (answered, present)
    finally:
        await store.close()
    return elapsed


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=1_000_000)
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    times = []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as folder:
            path = str(Path(folder) / "quiz.db")
            await build(path, args.answers, args.members)
            times.append(await upgrade(path))
    print(
        f"upgrade {UPGRADED_FROM} -> {sqlite_storage.SCHEMA_VERSION} of a SQLite database with "
        f"{args.answers:,} answers and {args.members:,} members: median {statistics.median(times):.2f} s "
        f"(runs: {', '.join(f'{t:.2f} s' for t in times)})"
    )


if __name__ == "__main__":
    asyncio.run(main())
