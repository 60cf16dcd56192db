"""SQLite storage via aiosqlite: one file, WAL journal, schema versioned with `PRAGMA user_version`."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path
from typing import Any

import aiosqlite

from ..core.engine import (
    ACTIVE_PHASES,
    AnswerRecord,
    Confidence,
    QuizSession,
    SessionId,
    UserId,
    session_from_dict,
    session_to_dict,
)
from ..core.lang import Lang
from ..core.model import QuestionId
from ..core.review import ReviewItem
from ..core.users import UserProfile
from .base import ReviewUpdate, StorageError

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
)
SCHEMA_VERSION = len(MIGRATIONS)
_ACTIVE = tuple(p.value for p in ACTIVE_PHASES)


class SQLiteStorage:
    """The default storage. One connection; writes are serialised by a lock because a transaction spans awaits."""

    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db
        self._write = asyncio.Lock()

    @classmethod
    async def open(cls, path: str) -> SQLiteStorage:
        """Open or create the database file and bring its schema up to date."""
        if path != ":memory:":
            try:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise StorageError(f"cannot create the folder for {path}: {error.strerror}") from error
        try:
            db = await aiosqlite.connect(path, isolation_level=None)
            await db.execute("PRAGMA journal_mode=WAL")
            # NORMAL in WAL mode survives a killed process (only a power cut can lose the last commits).
            await db.execute("PRAGMA synchronous=NORMAL")
            await db.execute("PRAGMA busy_timeout=5000")
            await db.execute("PRAGMA foreign_keys=ON")
            storage = cls(db)
            await storage._migrate()
        except sqlite3.Error as error:
            raise StorageError(f"cannot open SQLite database {path}: {error}") from error
        return storage

    async def _migrate(self) -> None:
        version = await self.schema_version()
        if version > SCHEMA_VERSION:
            raise StorageError(
                f"the database schema is version {version}, newer than this program's {SCHEMA_VERSION}: upgrade the bot"
            )
        for number in range(version, SCHEMA_VERSION):
            async with self._transaction():
                for statement in _statements(MIGRATIONS[number]):
                    await self._db.execute(statement)
                await self._db.execute(f"PRAGMA user_version = {number + 1}")

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db, self._write)

    async def close(self) -> None:
        await self._db.close()

    async def schema_version(self) -> int:
        async with self._db.execute("PRAGMA user_version") as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def get_user(self, user_id: UserId) -> UserProfile | None:
        async with self._db.execute(
            "SELECT id, lang, ask_confidence, active, created_at FROM users WHERE id = ?", (user_id,)
        ) as cursor:
            row = await cursor.fetchone()
        if row is None:
            return None
        return UserProfile(
            id=UserId(row[0]), lang=Lang(row[1]), ask_confidence=bool(row[2]), active=bool(row[3]), created_at=row[4]
        )

    async def save_user(self, profile: UserProfile) -> None:
        async with self._transaction():
            await self._db.execute(
                "INSERT INTO users (id, lang, ask_confidence, active, created_at) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET lang = excluded.lang, ask_confidence = excluded.ask_confidence, "
                "active = excluded.active",
                (profile.id, profile.lang.value, int(profile.ask_confidence), int(profile.active), profile.created_at),
            )

    async def get_session(self, session_id: SessionId) -> QuizSession | None:
        async with self._db.execute("SELECT state FROM quiz_sessions WHERE id = ?", (session_id,)) as cursor:
            row = await cursor.fetchone()
        return session_from_dict(json.loads(row[0])) if row else None

    async def active_session(self, user_id: UserId) -> QuizSession | None:
        placeholders = ",".join("?" * len(_ACTIVE))
        async with self._db.execute(
            f"SELECT state FROM quiz_sessions WHERE user_id = ? AND phase IN ({placeholders}) "
            "ORDER BY updated_at DESC LIMIT 1",
            (user_id, *_ACTIVE),
        ) as cursor:
            row = await cursor.fetchone()
        return session_from_dict(json.loads(row[0])) if row else None

    async def commit(
        self,
        session: QuizSession,
        *,
        expected_version: int | None,
        answer: AnswerRecord | None = None,
        review: ReviewUpdate | None = None,
    ) -> bool:
        state = json.dumps(session_to_dict(session), separators=(",", ":"))
        updated = session.finished_at or session.asked_at
        async with self._transaction() as tx:
            if expected_version is None:
                cursor = await self._db.execute(
                    "INSERT INTO quiz_sessions (id, user_id, phase, version, state, updated_at) "
                    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
                    (session.id, session.user_id, session.phase.value, session.version, state, updated),
                )
            else:
                cursor = await self._db.execute(
                    "UPDATE quiz_sessions SET phase = ?, version = ?, state = ?, updated_at = ? "
                    "WHERE id = ? AND version = ?",
                    (session.phase.value, session.version, state, updated, session.id, expected_version),
                )
            if cursor.rowcount != 1:
                tx.rollback()
                return False
            if answer is not None and not await self._insert_answer(answer):
                tx.rollback()
                return False
            if review is not None:
                await self._apply_review(review)
        return True

    async def _insert_answer(self, record: AnswerRecord) -> bool:
        cursor = await self._db.execute(
            "INSERT INTO answers (session_id, user_id, question_id, topic, position, chosen, correct, confidence, "
            "elapsed_ms, answered_at, context) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (session_id, position, user_id) DO NOTHING",
            (
                record.session_id,
                record.user_id,
                record.question_id,
                record.topic,
                record.position,
                record.chosen,
                int(record.correct),
                record.confidence.value if record.confidence else None,
                record.elapsed_ms,
                record.answered_at,
                record.context,
            ),
        )
        return cursor.rowcount == 1

    async def _apply_review(self, review: ReviewUpdate) -> None:
        if review.item is None:
            await self._db.execute(
                "DELETE FROM review_items WHERE user_id = ? AND question_id = ?", (review.user_id, review.question_id)
            )
            return
        item = review.item
        await self._db.execute(
            "INSERT INTO review_items (user_id, question_id, box, due_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (user_id, question_id) DO UPDATE SET box = excluded.box, due_at = excluded.due_at",
            (item.user_id, item.question_id, item.box, item.due_at),
        )

    async def answers(
        self, *, user_id: UserId | None = None, session_id: SessionId | None = None
    ) -> list[AnswerRecord]:
        clauses, params = [], []
        if user_id is not None:
            clauses.append("user_id = ?")
            params.append(user_id)
        if session_id is not None:
            clauses.append("session_id = ?")
            params.append(session_id)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        async with self._db.execute(
            "SELECT session_id, user_id, question_id, topic, position, chosen, correct, confidence, elapsed_ms, "
            f"answered_at, context FROM answers {where} ORDER BY answered_at, id",
            params,
        ) as cursor:
            rows = await cursor.fetchall()
        return [_answer(row) for row in rows]

    async def review_item(self, user_id: UserId, question_id: QuestionId) -> ReviewItem | None:
        async with self._db.execute(
            "SELECT user_id, question_id, box, due_at FROM review_items WHERE user_id = ? AND question_id = ?",
            (user_id, question_id),
        ) as cursor:
            row = await cursor.fetchone()
        return _review(row) if row else None

    async def review_items(self, user_id: UserId) -> list[ReviewItem]:
        async with self._db.execute(
            "SELECT user_id, question_id, box, due_at FROM review_items WHERE user_id = ? ORDER BY due_at",
            (user_id,),
        ) as cursor:
            rows = await cursor.fetchall()
        return [_review(row) for row in rows]

    async def forget_user(self, user_id: UserId) -> None:
        async with self._transaction():
            for table, column in (
                ("answers", "user_id"),
                ("review_items", "user_id"),
                ("quiz_sessions", "user_id"),
                ("users", "id"),
            ):
                await self._db.execute(f"DELETE FROM {table} WHERE {column} = ?", (user_id,))


class _Transaction:
    """`BEGIN IMMEDIATE` ... `COMMIT` under the write lock; rolls back on error or when asked to."""

    def __init__(self, db: aiosqlite.Connection, lock: asyncio.Lock) -> None:
        self._db = db
        self._lock = lock
        self._rollback = False

    def rollback(self) -> None:
        self._rollback = True

    async def __aenter__(self) -> _Transaction:
        await self._lock.acquire()
        try:
            await self._db.execute("BEGIN IMMEDIATE")
        except BaseException:
            self._lock.release()
            raise
        return self

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        try:
            await self._db.execute("ROLLBACK" if exc_type is not None or self._rollback else "COMMIT")
        finally:
            self._lock.release()


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]


def _answer(row: Any) -> AnswerRecord:
    return AnswerRecord(
        session_id=SessionId(row[0]),
        user_id=UserId(row[1]),
        question_id=QuestionId(row[2]),
        topic=row[3],
        position=row[4],
        chosen=row[5],
        correct=bool(row[6]),
        confidence=Confidence(row[7]) if row[7] else None,
        elapsed_ms=row[8],
        answered_at=row[9],
        context=row[10],
    )


def _review(row: Any) -> ReviewItem:
    return ReviewItem(user_id=UserId(row[0]), question_id=QuestionId(row[1]), box=row[2], due_at=row[3])
