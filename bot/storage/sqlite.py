"""SQLite storage via aiosqlite: one file, WAL journal, schema versioned with `PRAGMA user_version`.

The methods are written once in `sql.SQLStorage`; this module runs them on one connection. Writes are serialised
by a lock in this process (a transaction spans awaits on the shared connection) and by SQLite's write lock across
processes, asked for again while another process holds it. Every sqlite3 error after open becomes a StorageError
carrying SQLite's own message.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar, cast

import aiosqlite

from ..core.drill import DrillId
from ..core.engine import UserId
from ..core.group import ChatId
from ..core.model import QuestionId
from ..core.review import ReviewItem
from .base import GroupAnswerEntry, StorageError
from .rows import Row, answer_key, answer_values, member_values, review_from_row
from .sql import Connection, SQLStorage, Work
from .statements import Dialect, for_dialect

T = TypeVar("T")

# Each entry upgrades the schema by one version; a database is brought up to date on open.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE users (
        id INTEGER PRIMARY KEY,
        lang TEXT NOT NULL,
        ask_confidence INTEGER NOT NULL DEFAULT 1,
        active INTEGER NOT NULL DEFAULT 1,
        created_at REAL NOT NULL
    );
    CREATE TABLE quiz_sessions (
        id TEXT PRIMARY KEY,
        user_id INTEGER NOT NULL,
        phase TEXT NOT NULL,
        version INTEGER NOT NULL,
        state TEXT NOT NULL,
        updated_at REAL NOT NULL
    );
    CREATE INDEX quiz_sessions_user_phase ON quiz_sessions (user_id, phase);
    CREATE TABLE answers (
        id INTEGER PRIMARY KEY,
        session_id TEXT NOT NULL,
        user_id INTEGER NOT NULL,
        question_id TEXT NOT NULL,
        topic TEXT NOT NULL,
        position INTEGER NOT NULL,
        chosen INTEGER NOT NULL,
        correct INTEGER NOT NULL,
        confidence TEXT,
        elapsed_ms INTEGER NOT NULL,
        answered_at REAL NOT NULL,
        context TEXT NOT NULL,
        UNIQUE (session_id, position, user_id)
    );
    CREATE INDEX answers_user ON answers (user_id);
    CREATE TABLE review_items (
        user_id INTEGER NOT NULL,
        question_id TEXT NOT NULL,
        box INTEGER NOT NULL,
        due_at REAL NOT NULL,
        PRIMARY KEY (user_id, question_id)
    );
    """,
    # 2: group quizzes. Group answers share the answers table (context 'group'), so a member's own progress
    # includes group play and an answer is unique per (session, position, user) wherever it was given.
    """
    ALTER TABLE answers ADD COLUMN points INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE groups (
        chat_id INTEGER PRIMARY KEY,
        lang TEXT NOT NULL,
        title TEXT NOT NULL DEFAULT '',
        active INTEGER NOT NULL DEFAULT 1,
        added_by INTEGER,
        created_at REAL NOT NULL
    );
    CREATE TABLE group_sessions (
        id TEXT PRIMARY KEY,
        chat_id INTEGER NOT NULL,
        phase TEXT NOT NULL,
        version INTEGER NOT NULL,
        deadline REAL,
        state TEXT NOT NULL,
        updated_at REAL NOT NULL
    );
    CREATE INDEX group_sessions_chat_phase ON group_sessions (chat_id, phase);
    CREATE TABLE group_members (
        session_id TEXT NOT NULL,
        user_id INTEGER NOT NULL,
        name TEXT NOT NULL,
        joined_at REAL NOT NULL,
        left_at REAL,
        PRIMARY KEY (session_id, user_id)
    );
    CREATE TABLE group_polls (
        poll_id TEXT PRIMARY KEY,
        session_id TEXT NOT NULL,
        position INTEGER NOT NULL
    );
    CREATE INDEX answers_session ON answers (session_id, position);
    """,
    # 3: classroom drills. A student's answers stay in the answers table; drill_sessions says which session
    # (the class's shared live round, or the student's own self-paced quiz) holds their answers for each round.
    """
    CREATE TABLE drills (
        id TEXT PRIMARY KEY,
        code TEXT NOT NULL UNIQUE,
        teacher_id INTEGER NOT NULL,
        phase TEXT NOT NULL,
        version INTEGER NOT NULL,
        deadline REAL,
        retest_at REAL,
        state TEXT NOT NULL,
        created_at REAL NOT NULL
    );
    CREATE INDEX drills_teacher ON drills (teacher_id);
    CREATE TABLE drill_students (
        drill_id TEXT NOT NULL,
        user_id INTEGER NOT NULL,
        nickname TEXT,
        joined_at REAL NOT NULL,
        message_id INTEGER,
        PRIMARY KEY (drill_id, user_id),
        UNIQUE (drill_id, nickname)
    );
    CREATE INDEX drill_students_user ON drill_students (user_id);
    CREATE TABLE drill_sessions (
        drill_id TEXT NOT NULL,
        round TEXT NOT NULL,
        user_id INTEGER NOT NULL,
        session_id TEXT NOT NULL,
        PRIMARY KEY (drill_id, round, user_id)
    );
    """,
    # 4: running counts of answers per question and of present members per group session, kept by triggers, so
    # "has everyone answered?" after each batch of group answers is two key lookups, not two counts over up to
    # 10,000 rows (0.75 ms of SQLite time per batch at 10,000 members; docs/performance.md). The two indexes by
    # person that PostgreSQL had from the start, which /forget uses. And group_sessions.showing_until: the worker
    # showing a session's move holds it until then, so no other worker's sweep moves it on meanwhile.
    """
    CREATE TABLE answer_counts (
        session_id TEXT NOT NULL,
        position INTEGER NOT NULL,
        answered INTEGER NOT NULL,
        PRIMARY KEY (session_id, position)
    ) WITHOUT ROWID;
    CREATE TABLE member_counts (
        session_id TEXT PRIMARY KEY,
        present INTEGER NOT NULL
    ) WITHOUT ROWID;
    INSERT INTO answer_counts (session_id, position, answered)
        SELECT session_id, position, count(*) FROM answers GROUP BY session_id, position;
    INSERT INTO member_counts (session_id, present)
        SELECT session_id, count(*) FROM group_members WHERE left_at IS NULL GROUP BY session_id;
    CREATE TRIGGER answers_count_insert AFTER INSERT ON answers BEGIN
        INSERT INTO answer_counts (session_id, position, answered) VALUES (NEW.session_id, NEW.position, 1)
            ON CONFLICT (session_id, position) DO UPDATE SET answered = answered + 1;
    END;
    CREATE TRIGGER answers_count_delete AFTER DELETE ON answers BEGIN
        UPDATE answer_counts SET answered = answered - 1 WHERE session_id = OLD.session_id AND position = OLD.position;
    END;
    CREATE TRIGGER members_count_insert AFTER INSERT ON group_members WHEN NEW.left_at IS NULL BEGIN
        INSERT INTO member_counts (session_id, present) VALUES (NEW.session_id, 1)
            ON CONFLICT (session_id) DO UPDATE SET present = present + 1;
    END;
    CREATE TRIGGER members_count_return AFTER UPDATE OF left_at ON group_members
        WHEN OLD.left_at IS NOT NULL AND NEW.left_at IS NULL BEGIN
        INSERT INTO member_counts (session_id, present) VALUES (NEW.session_id, 1)
            ON CONFLICT (session_id) DO UPDATE SET present = present + 1;
    END;
    CREATE TRIGGER members_count_leave AFTER UPDATE OF left_at ON group_members
        WHEN OLD.left_at IS NULL AND NEW.left_at IS NOT NULL BEGIN
        UPDATE member_counts SET present = present - 1 WHERE session_id = OLD.session_id;
    END;
    CREATE TRIGGER members_count_delete AFTER DELETE ON group_members WHEN OLD.left_at IS NULL BEGIN
        UPDATE member_counts SET present = present - 1 WHERE session_id = OLD.session_id;
    END;
    CREATE INDEX group_members_user ON group_members (user_id);
    CREATE INDEX drill_sessions_user ON drill_sessions (user_id);
    ALTER TABLE group_sessions ADD COLUMN showing_until REAL;
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)
# What the driver raises; each becomes a StorageError. OverflowError: a Python int too large for an SQLite INTEGER.
_DRIVER_ERRORS: tuple[type[BaseException], ...] = (sqlite3.Error, OverflowError)
BEGIN_PATIENCE = 5.0  # seconds to keep asking for the write lock, on top of SQLite's own busy timeout
MIN_SQLITE_VERSION = (3, 30, 0)  # the shared statements use aggregate FILTER and NULLS FIRST (SQLite 3.30, 2019)


class _SQLiteConnection:
    """The shared `Connection` calls on an aiosqlite connection. A read is one trip to the connection's thread."""

    __slots__ = ("_db",)

    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db

    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        return cast(list[Row], await self._db.execute_fetchall(sql, args))

    async def fetchrow(self, sql: str, *args: Any) -> Row | None:
        rows = await self.fetch(sql, *args)
        return rows[0] if rows else None

    async def fetchval(self, sql: str, *args: Any) -> Any:
        rows = await self.fetch(sql, *args)
        return rows[0][0] if rows else None

    async def execute(self, sql: str, *args: Any) -> int:
        cursor = await self._db.execute(sql, args)
        return cursor.rowcount

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        await self._db.executemany(sql, rows)


class SQLiteStorage(SQLStorage):
    """The default storage: one connection to one file."""

    _sql = for_dialect(Dialect.SQLITE)

    def __init__(self, db: aiosqlite.Connection, *, path: str) -> None:
        self._db = db
        self._connection = _SQLiteConnection(db)
        self._path = path
        self._write_lock = asyncio.Lock()
        self._closed = False

    @classmethod
    async def open(cls, path: str) -> SQLiteStorage:
        """Open or create the database file and bring its schema up to date."""
        if sqlite3.sqlite_version_info < MIN_SQLITE_VERSION:
            raise StorageError(
                f"SQLite {sqlite3.sqlite_version} is too old: the bot needs {'.'.join(map(str, MIN_SQLITE_VERSION))} "
                "or newer (Python's sqlite3 module is built against it)"
            )
        if path != ":memory:":
            try:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise StorageError(f"cannot create the folder for {path}: {error.strerror}") from error
        try:
            db = await aiosqlite.connect(path, isolation_level=None)
        except sqlite3.Error as error:
            raise StorageError(f"cannot open SQLite database {path}: {error}") from error
        try:
            await db.execute("PRAGMA busy_timeout=5000")
            await _switch_to_wal(db)
            # NORMAL in WAL mode survives a killed process (only a power cut can lose the last commits).
            await db.execute("PRAGMA synchronous=NORMAL")
            await db.execute("PRAGMA foreign_keys=ON")
            storage = cls(db, path=path)
            await storage._migrate()
        except BaseException as error:
            await db.close()  # whatever failed, the connection's (non-daemon) thread must not keep the process alive
            if isinstance(error, _DRIVER_ERRORS):
                raise StorageError(f"cannot open SQLite database {path}: {error}") from error
            raise
        return storage

    async def _migrate(self) -> None:
        version = await self._connection.fetchval("PRAGMA user_version")
        if version > SCHEMA_VERSION:
            raise StorageError(
                f"the database schema is version {version}, newer than this program's {SCHEMA_VERSION}: upgrade the bot"
            )
        for number in range(version, SCHEMA_VERSION):

            async def step(db: Connection, number: int = number) -> None:
                # Another process (a second worker starting at the same time) may have applied this step while we
                # waited for the write lock: look again inside the transaction.
                if await db.fetchval("PRAGMA user_version") > number:
                    return
                for statement in _statements(MIGRATIONS[number]):
                    await db.execute(statement)
                await db.execute(f"PRAGMA user_version = {number + 1}")

            await self._in_transaction(step)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        await self._db.close()

    # ---------------------------------------------------------------- how work runs

    def _check_open(self, what: str) -> None:
        if self._closed:
            raise StorageError(f"SQLite storage {self._path} is closed ({what})")

    async def _read(self, what: str, work: Work[T]) -> T:
        """Reads run outside the write lock, as SQLite's WAL lets them; each statement sees the latest commit."""
        self._check_open(what)
        try:
            return await work(self._connection)
        except _DRIVER_ERRORS as error:
            raise _storage_error(error) from error

    async def _transaction(self, what: str, work: Work[T]) -> T:
        self._check_open(what)
        try:
            return await self._in_transaction(work)
        except _DRIVER_ERRORS as error:
            raise _storage_error(error) from error

    # One write statement is a transaction like any other here: it must not join another coroutine's open one.
    _write = _transaction
    # One connection serves every coroutine, so a read transaction would clash with their writes: reads as usual.
    _snapshot = _read

    async def _in_transaction(self, work: Work[T]) -> T:
        """`BEGIN IMMEDIATE` ... `COMMIT` under the write lock; rolled back if anything raises."""
        async with self._write_lock:
            # Why not only SQLite's busy timeout: while a read of this connection is still open (another coroutine's
            # cursor), SQLite refuses the write lock at once, without waiting, if another process has written since
            # that read began. The read ends within milliseconds, so trying again soon succeeds.
            await _execute_patiently(self._db, "BEGIN IMMEDIATE", ("locked", "busy"))
            try:
                result = await work(self._connection)
                await self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:  # a failed statement or COMMIT may have ended the transaction already
                    await self._db.execute("ROLLBACK")
                raise
            return result

    async def _lock_drill_students(self, db: Connection, drill_id: DrillId) -> None:
        """Nothing to add: a transaction here holds the database's write lock, which serialises every roster."""

    async def schema_version(self) -> int:
        return int(await self._fetchval("schema_version", "PRAGMA user_version"))

    # ---------------------------------------------------------------- what SQLite says its own way

    async def move_group(self, old_chat_id: ChatId, new_chat_id: ChatId) -> None:
        """A group became a supergroup: its settings and sessions follow it to the new chat id."""

        async def work(db: Connection) -> None:
            # OR IGNORE: when the new chat already has settings, they stay.
            await db.execute("UPDATE OR IGNORE groups SET chat_id = ?1 WHERE chat_id = ?2", new_chat_id, old_chat_id)
            rows = await db.fetch("SELECT id, state FROM group_sessions WHERE chat_id = ?1", old_chat_id)
            await self._move_sessions(db, rows, new_chat_id)

        await self._transaction("move_group", work)

    async def record_group_answers(self, answers: Sequence[GroupAnswerEntry]) -> list[bool]:
        """Many group answers in one transaction (group commit): new members join, each member's first answer to a
        question counts (also within the batch), and only answers that count move the review queue."""
        if not answers:
            return []
        keys = [answer_key(a.record) for a in answers]

        async def work(db: Connection) -> list[bool]:
            # The write lock is held, so what is stored now is what the inserts below meet.
            taken = await _stored_answer_keys(db, sorted(set(keys)))
            counts = []
            for key in keys:
                counts.append(key not in taken)
                taken.add(key)
            kept = [a for a, counted in zip(answers, counts, strict=True) if counted]
            if kept:
                await db.executemany(self._sql.insert_answer, [answer_values(a.record) for a in kept])
                await db.executemany(self._sql.join_member, [member_values(a) for a in kept])
                await self._apply_reviews(db, [a.review for a in kept if a.review is not None])
            return counts

        return await self._transaction("record_group_answers", work)

    async def review_items_for(
        self, keys: Sequence[tuple[UserId, QuestionId]]
    ) -> dict[tuple[UserId, QuestionId], ReviewItem]:
        async def work(db: Connection) -> dict[tuple[UserId, QuestionId], ReviewItem]:
            found: dict[tuple[UserId, QuestionId], ReviewItem] = {}
            for chunk in _chunks(sorted(set(keys)), 400):  # 2 parameters a key, well inside SQLite's limit
                values = ", ".join("(?, ?)" for _ in chunk)
                rows = await db.fetch(
                    "SELECT user_id, question_id, box, due_at FROM review_items WHERE (user_id, question_id) IN "
                    f"(VALUES {values})",
                    *(part for key in chunk for part in key),
                )
                for row in rows:
                    item = review_from_row(row)
                    found[(item.user_id, item.question_id)] = item
            return found

        return await self._read("review_items_for", work)


async def _stored_answer_keys(db: Connection, keys: list[tuple[str, int, int]]) -> set[tuple[str, int, int]]:
    found: set[tuple[str, int, int]] = set()
    for chunk in _chunks(keys, 300):  # 3 parameters a key, well inside SQLite's limit
        values = ", ".join("(?, ?, ?)" for _ in chunk)
        rows = await db.fetch(
            f"SELECT session_id, position, user_id FROM answers WHERE (session_id, position, user_id) IN "
            f"(VALUES {values})",
            *(part for key in chunk for part in key),
        )
        found.update((r[0], r[1], r[2]) for r in rows)
    return found


def _storage_error(error: BaseException) -> StorageError:
    """SQLite's own one-line message ("database is locked"): what logs and people are shown."""
    return StorageError(" ".join(str(error).split()) or type(error).__name__)


def _chunks(items: list[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


async def _execute_patiently(db: aiosqlite.Connection, sql: str, refusals: tuple[str, ...]) -> None:
    """Run `sql`, asking again for up to BEGIN_PATIENCE seconds while SQLite refuses it at once with one of
    `refusals` (the cases where SQLite answers without its own busy wait), backing off from 2 to 50 ms."""
    deadline = time.monotonic() + BEGIN_PATIENCE
    pause = 0.002
    while True:
        try:
            await db.execute(sql)
            return
        except sqlite3.OperationalError as error:
            if not any(word in str(error) for word in refusals) or time.monotonic() > deadline:
                raise
        await asyncio.sleep(pause)
        pause = min(pause * 2, 0.05)


async def _switch_to_wal(db: aiosqlite.Connection) -> None:
    """WAL mode; asked again while another process creating the same new file holds it (SQLite says "locked" at
    once there, without its busy wait)."""
    await _execute_patiently(db, "PRAGMA journal_mode=WAL", ("locked",))


def _statements(script: str) -> list[str]:
    """The statements of a migration script; a trigger's body holds semicolons, so SQLite says where one ends."""
    statements: list[str] = []
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            statements.append(pending.strip())
            pending = ""
    if pending.strip():
        statements.append(pending.strip())
    return statements
