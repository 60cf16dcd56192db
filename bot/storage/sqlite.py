"""SQLite storage via aiosqlite: one file, WAL journal, schema versioned with `PRAGMA user_version`."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from ..core.drill import (
    Drill,
    DrillAnswer,
    DrillId,
    DrillPhase,
    DrillRound,
    DrillStudent,
    drill_from_dict,
    drill_to_dict,
)
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
from ..core.group import (
    ACTIVE_GROUP_PHASES,
    ChatId,
    GroupInfo,
    GroupMember,
    GroupRecord,
    GroupSession,
    GroupSessionId,
    QuestionTally,
    Standing,
    group_from_dict,
    group_to_dict,
)
from ..core.lang import Lang
from ..core.model import QuestionId
from ..core.review import ReviewItem
from ..core.users import UserProfile
from .base import GroupAnswerEntry, ReviewUpdate, StorageError

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
_ACTIVE = tuple(p.value for p in ACTIVE_PHASES)
_GROUP_ACTIVE = tuple(p.value for p in ACTIVE_GROUP_PHASES)
# Every table with rows about a person, and the column that names them: /forget empties them all.
FORGET_USER_ROWS = (
    ("answers", "user_id"),
    ("review_items", "user_id"),
    ("quiz_sessions", "user_id"),
    ("group_members", "user_id"),
    ("drill_students", "user_id"),
    ("drill_sessions", "user_id"),
    ("drills", "teacher_id"),
    ("users", "id"),
)


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
        except sqlite3.Error as error:
            raise StorageError(f"cannot open SQLite database {path}: {error}") from error
        try:
            await db.execute("PRAGMA busy_timeout=5000")
            await _switch_to_wal(db)
            # NORMAL in WAL mode survives a killed process (only a power cut can lose the last commits).
            await db.execute("PRAGMA synchronous=NORMAL")
            await db.execute("PRAGMA foreign_keys=ON")
            storage = cls(db)
            await storage._migrate()
        except BaseException as error:
            await db.close()  # whatever failed, the connection's (non-daemon) thread must not keep the process alive
            if isinstance(error, sqlite3.Error):
                raise StorageError(f"cannot open SQLite database {path}: {error}") from error
            raise
        return storage

    async def _migrate(self) -> None:
        version = await self.schema_version()
        if version > SCHEMA_VERSION:
            raise StorageError(
                f"the database schema is version {version}, newer than this program's {SCHEMA_VERSION}: upgrade the bot"
            )
        for number in range(version, SCHEMA_VERSION):
            async with self._transaction():
                # Another process (a second worker starting at the same time) may have applied this step while we
                # waited for the write lock: look again inside the transaction.
                if await self.schema_version() > number:
                    continue
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
        cursor = await self._db.execute(ANSWER_INSERT, _answer_row(record))
        return cursor.rowcount == 1

    async def _apply_review(self, review: ReviewUpdate) -> None:
        await self._apply_reviews([review])

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
            f"answered_at, context, points FROM answers {where} ORDER BY answered_at, id",
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
            for table, column in FORGET_USER_ROWS:
                await self._db.execute(f"DELETE FROM {table} WHERE {column} = ?", (user_id,))

    # ---------------------------------------------------------------- groups

    async def get_group(self, chat_id: ChatId) -> GroupInfo | None:
        async with self._db.execute(
            "SELECT chat_id, lang, title, active, added_by, created_at FROM groups WHERE chat_id = ?", (chat_id,)
        ) as cursor:
            row = await cursor.fetchone()
        if row is None:
            return None
        return GroupInfo(
            chat_id=ChatId(row[0]), lang=row[1], title=row[2], active=bool(row[3]), added_by=row[4], created_at=row[5]
        )

    async def save_group(self, info: GroupInfo) -> None:
        async with self._transaction():
            await self._db.execute(
                "INSERT INTO groups (chat_id, lang, title, active, added_by, created_at) VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (chat_id) DO UPDATE SET lang = excluded.lang, title = excluded.title, "
                "active = excluded.active",
                (info.chat_id, info.lang, info.title, int(info.active), info.added_by, info.created_at),
            )

    async def move_group(self, old_chat_id: ChatId, new_chat_id: ChatId) -> None:
        """A group became a supergroup: its settings and sessions follow it to the new chat id."""
        async with self._transaction():
            await self._db.execute(
                "UPDATE OR IGNORE groups SET chat_id = ? WHERE chat_id = ?", (new_chat_id, old_chat_id)
            )
            async with self._db.execute(
                "SELECT id, state FROM group_sessions WHERE chat_id = ?", (old_chat_id,)
            ) as cursor:
                rows = await cursor.fetchall()
            for session_id, state in rows:
                data = json.loads(state)
                # A new version, so a writer holding the session from before the move loses its commit and reloads.
                data["chat_id"], data["version"] = new_chat_id, data["version"] + 1
                await self._db.execute(
                    "UPDATE group_sessions SET chat_id = ?, version = ?, state = ? WHERE id = ?",
                    (new_chat_id, data["version"], json.dumps(data, separators=(",", ":")), session_id),
                )

    async def commit_group(self, session: GroupSession, *, expected_version: int | None) -> bool:
        """Insert (expected_version None) or update a group session if its stored version still matches."""
        state = json.dumps(group_to_dict(session), separators=(",", ":"))
        async with self._transaction() as tx:
            if expected_version is None:
                cursor = await self._db.execute(
                    "INSERT INTO group_sessions (id, chat_id, phase, version, deadline, state, updated_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
                    (
                        session.id,
                        session.chat_id,
                        session.phase.value,
                        session.version,
                        session.deadline,
                        state,
                        session.created_at,
                    ),
                )
            else:
                cursor = await self._db.execute(
                    "UPDATE group_sessions SET chat_id = ?, phase = ?, version = ?, deadline = ?, state = ?, "
                    "updated_at = ? WHERE id = ? AND version = ?",
                    (
                        session.chat_id,
                        session.phase.value,
                        session.version,
                        session.deadline,
                        state,
                        session.finished_at or session.asked_at or session.created_at,
                        session.id,
                        expected_version,
                    ),
                )
            if cursor.rowcount != 1:
                tx.rollback()
                return False
        return True

    async def get_group_session(self, session_id: GroupSessionId) -> GroupSession | None:
        async with self._db.execute("SELECT state FROM group_sessions WHERE id = ?", (session_id,)) as cursor:
            row = await cursor.fetchone()
        return group_from_dict(json.loads(row[0])) if row else None

    async def active_group_session(self, chat_id: ChatId) -> GroupSession | None:
        placeholders = ",".join("?" * len(_GROUP_ACTIVE))
        async with self._db.execute(
            f"SELECT state FROM group_sessions WHERE chat_id = ? AND phase IN ({placeholders}) "
            "ORDER BY updated_at DESC LIMIT 1",
            (chat_id, *_GROUP_ACTIVE),
        ) as cursor:
            row = await cursor.fetchone()
        return group_from_dict(json.loads(row[0])) if row else None

    async def active_group_sessions(self) -> list[GroupSession]:
        placeholders = ",".join("?" * len(_GROUP_ACTIVE))
        async with self._db.execute(
            f"SELECT state FROM group_sessions WHERE phase IN ({placeholders}) ORDER BY deadline", _GROUP_ACTIVE
        ) as cursor:
            rows = await cursor.fetchall()
        return [group_from_dict(json.loads(row[0])) for row in rows]

    async def due_group_sessions(self, now: float) -> list[GroupSessionId]:
        """Open sessions whose deadline has passed: what a sweep must move on (any worker may)."""
        placeholders = ",".join("?" * len(_GROUP_ACTIVE))
        async with self._db.execute(
            f"SELECT id FROM group_sessions WHERE deadline <= ? AND phase IN ({placeholders}) "
            "AND (showing_until IS NULL OR showing_until <= ?) ORDER BY deadline",
            (now, *_GROUP_ACTIVE, now),
        ) as cursor:
            rows = await cursor.fetchall()
        return [GroupSessionId(row[0]) for row in rows]

    async def hold_group_session(self, session_id: GroupSessionId, until: float | None) -> None:
        """A worker is showing the session's last move until `until` (None: done); sweeps leave it alone till then."""
        async with self._transaction():
            await self._db.execute("UPDATE group_sessions SET showing_until = ? WHERE id = ?", (until, session_id))

    async def add_member(self, session_id: GroupSessionId, user_id: int, name: str, now: float) -> bool:
        """Join a session; False when already in (a member who left and comes back is in again)."""
        async with self._transaction():
            cursor = await self._db.execute(
                "INSERT INTO group_members (session_id, user_id, name, joined_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (session_id, user_id) DO UPDATE SET left_at = NULL WHERE left_at IS NOT NULL",
                (session_id, user_id, name[:64], now),
            )
        return cursor.rowcount == 1

    async def members(self, session_id: GroupSessionId) -> list[GroupMember]:
        async with self._db.execute(
            "SELECT user_id, name, joined_at, left_at FROM group_members WHERE session_id = ? ORDER BY joined_at",
            (session_id,),
        ) as cursor:
            rows = await cursor.fetchall()
        return [GroupMember(user_id=r[0], name=r[1], joined_at=r[2], left=r[3] is not None) for r in rows]

    async def count_members(self, session_id: GroupSessionId) -> int:
        async with self._db.execute("SELECT present FROM member_counts WHERE session_id = ?", (session_id,)) as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def member_left(self, session_id: GroupSessionId, user_id: int, now: float) -> None:
        async with self._transaction():
            await self._db.execute(
                "UPDATE group_members SET left_at = ? WHERE session_id = ? AND user_id = ?", (now, session_id, user_id)
            )

    async def map_poll(self, poll_id: str, session_id: GroupSessionId, position: int) -> None:
        async with self._transaction():
            await self._db.execute(
                "INSERT OR REPLACE INTO group_polls (poll_id, session_id, position) VALUES (?, ?, ?)",
                (poll_id, session_id, position),
            )

    async def poll_target(self, poll_id: str) -> tuple[GroupSessionId, int] | None:
        async with self._db.execute(
            "SELECT session_id, position FROM group_polls WHERE poll_id = ?", (poll_id,)
        ) as cursor:
            row = await cursor.fetchone()
        return (GroupSessionId(row[0]), int(row[1])) if row else None

    async def record_answer(self, record: AnswerRecord, *, review: ReviewUpdate | None = None) -> bool:
        """Insert one answer (a member's first answer to a question counts; later ones are refused: False)."""
        async with self._transaction() as tx:
            if not await self._insert_answer(record):
                tx.rollback()
                return False
            if review is not None:
                await self._apply_review(review)
        return True

    async def record_group_answers(self, answers: Sequence[GroupAnswerEntry]) -> list[bool]:
        """Many group answers in one transaction (group commit): new members join, each member's first answer to a
        question counts (also within the batch), and only answers that count move the review queue."""
        if not answers:
            return []
        keys = [(a.record.session_id, a.record.position, a.record.user_id) for a in answers]
        async with self._transaction():
            # The write lock is held, so what is stored now is what the inserts below meet.
            taken = await self._stored_answer_keys(sorted(set(keys)))
            counts = []
            for key in keys:
                counts.append(key not in taken)
                taken.add(key)
            kept = [a for a, counted in zip(answers, counts, strict=True) if counted]
            await self._db.executemany(ANSWER_INSERT, [_answer_row(a.record) for a in kept])
            await self._db.executemany(MEMBER_JOIN, [_member_row(a) for a in kept])
            await self._apply_reviews([a.review for a in kept if a.review is not None])
        return counts

    async def _stored_answer_keys(self, keys: list[tuple[str, int, int]]) -> set[tuple[str, int, int]]:
        found: set[tuple[str, int, int]] = set()
        for chunk in _chunks(keys, 300):  # 3 parameters a key, well inside SQLite's limit
            values = ", ".join("(?, ?, ?)" for _ in chunk)
            async with self._db.execute(
                f"SELECT session_id, position, user_id FROM answers WHERE (session_id, position, user_id) IN "
                f"(VALUES {values})",
                [part for key in chunk for part in key],
            ) as cursor:
                found.update((r[0], r[1], r[2]) for r in await cursor.fetchall())
        return found

    async def _apply_reviews(self, reviews: list[ReviewUpdate]) -> None:
        await self._db.executemany(
            "DELETE FROM review_items WHERE user_id = ? AND question_id = ?",
            [(r.user_id, r.question_id) for r in reviews if r.item is None],
        )
        await self._db.executemany(
            REVIEW_UPSERT, [(r.item.user_id, r.item.question_id, r.item.box, r.item.due_at) for r in reviews if r.item]
        )

    async def review_items_for(
        self, keys: Sequence[tuple[UserId, QuestionId]]
    ) -> dict[tuple[UserId, QuestionId], ReviewItem]:
        found: dict[tuple[UserId, QuestionId], ReviewItem] = {}
        for chunk in _chunks(sorted(set(keys)), 400):
            values = ", ".join("(?, ?)" for _ in chunk)
            async with self._db.execute(
                f"SELECT user_id, question_id, box, due_at FROM review_items WHERE (user_id, question_id) IN "
                f"(VALUES {values})",
                [part for key in chunk for part in key],
            ) as cursor:
                for row in await cursor.fetchall():
                    item = _review(row)
                    found[(item.user_id, item.question_id)] = item
        return found

    async def answer_tally(self, session_id: GroupSessionId, position: int) -> tuple[int, int]:
        async with self._db.execute(
            "SELECT coalesce((SELECT answered FROM answer_counts WHERE session_id = ? AND position = ?), 0), "
            "coalesce((SELECT present FROM member_counts WHERE session_id = ?), 0)",
            (session_id, position, session_id),
        ) as cursor:
            row = await cursor.fetchone()
        return (int(row[0]), int(row[1])) if row else (0, 0)

    async def count_answers(self, session_id: str, position: int) -> int:
        async with self._db.execute(
            "SELECT answered FROM answer_counts WHERE session_id = ? AND position = ?", (session_id, position)
        ) as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def leaderboard(self, session_id: GroupSessionId, *, limit: int | None = None) -> list[Standing]:
        """Members by points, then right answers, then who joined first; members with no answer count too."""
        sql = (
            "SELECT m.user_id, m.name, coalesce(sum(a.points), 0), coalesce(sum(a.correct), 0), count(a.id) "
            "FROM group_members m LEFT JOIN answers a ON a.session_id = m.session_id AND a.user_id = m.user_id "
            "WHERE m.session_id = ? GROUP BY m.user_id, m.name, m.joined_at "
            "ORDER BY 3 DESC, 4 DESC, m.joined_at"
        )
        params: tuple[Any, ...] = (session_id,)
        if limit is not None:
            sql += " LIMIT ?"
            params += (limit,)
        async with self._db.execute(sql, params) as cursor:
            rows = await cursor.fetchall()
        return [Standing(user_id=r[0], name=r[1], points=r[2], correct=r[3], answered=r[4]) for r in rows]

    async def question_tallies(self, session_id: str) -> list[QuestionTally]:
        async with self._db.execute(
            "SELECT position, question_id, count(*), sum(correct) FROM answers WHERE session_id = ? "
            "GROUP BY position, question_id ORDER BY position",
            (session_id,),
        ) as cursor:
            rows = await cursor.fetchall()
        return [QuestionTally(position=r[0], question_id=r[1], answered=r[2], correct=r[3]) for r in rows]

    async def group_history(self, chat_id: ChatId, *, limit: int = 5) -> tuple[int, list[GroupRecord]]:
        """How many sessions a group finished, and the latest `limit` of them."""
        done = ("finished", "stopped")
        async with self._db.execute(
            "SELECT count(*) FROM group_sessions WHERE chat_id = ? AND phase IN (?, ?)", (chat_id, *done)
        ) as cursor:
            total = (await cursor.fetchone())[0]
        async with self._db.execute(
            "SELECT s.id, s.updated_at, "
            "(SELECT count(*) FROM group_members m WHERE m.session_id = s.id), "
            "(SELECT count(*) FROM answers a WHERE a.session_id = s.id), "
            "(SELECT coalesce(sum(correct), 0) FROM answers a WHERE a.session_id = s.id) "
            "FROM group_sessions s WHERE s.chat_id = ? AND s.phase IN (?, ?) ORDER BY s.updated_at DESC LIMIT ?",
            (chat_id, *done, limit),
        ) as cursor:
            rows = await cursor.fetchall()
        records = []
        for session_id, finished_at, players, answered, correct in rows:
            top = await self.leaderboard(GroupSessionId(session_id), limit=1)
            winner = top[0].name if top and top[0].points > 0 else None
            records.append(
                GroupRecord(
                    session_id=GroupSessionId(session_id),
                    finished_at=finished_at,
                    players=players,
                    answered=answered,
                    correct=correct,
                    winner=winner,
                )
            )
        return total, records

    # ---------------------------------------------------------------- drills

    async def create_drill(self, drill: Drill) -> bool:
        """Store a new drill; False when its code is taken (draw another)."""
        async with self._transaction() as tx:
            cursor = await self._db.execute(
                "INSERT INTO drills (id, code, teacher_id, phase, version, deadline, retest_at, state, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (
                    drill.id,
                    drill.code,
                    drill.teacher_id,
                    drill.phase.value,
                    drill.version,
                    drill.deadline,
                    drill.retest_at,
                    _json(drill_to_dict(drill)),
                    drill.created_at,
                ),
            )
            if cursor.rowcount != 1:
                tx.rollback()
                return False
        return True

    async def commit_drill(self, drill: Drill, *, expected_version: int) -> bool:
        async with self._transaction():
            cursor = await self._db.execute(
                "UPDATE drills SET phase = ?, version = ?, deadline = ?, retest_at = ?, state = ? "
                "WHERE id = ? AND version = ?",
                (
                    drill.phase.value,
                    drill.version,
                    drill.deadline,
                    drill.retest_at,
                    _json(drill_to_dict(drill)),
                    drill.id,
                    expected_version,
                ),
            )
        return cursor.rowcount == 1

    async def _drills(self, where: str, params: tuple[Any, ...]) -> list[Drill]:
        async with self._db.execute(f"SELECT state FROM drills WHERE {where}", params) as cursor:
            rows = await cursor.fetchall()
        return [drill_from_dict(json.loads(row[0])) for row in rows]

    async def get_drill(self, drill_id: DrillId) -> Drill | None:
        found = await self._drills("id = ?", (drill_id,))
        return found[0] if found else None

    async def drill_by_code(self, code: str) -> Drill | None:
        found = await self._drills("code = ?", (code,))
        return found[0] if found else None

    async def teacher_drills(self, teacher_id: int) -> list[Drill]:
        return await self._drills("teacher_id = ? ORDER BY created_at DESC", (teacher_id,))

    async def timed_drills(self) -> list[Drill]:
        """Drills with something due later: an open deadline or a re-test not yet sent."""
        return await self._drills(
            "(deadline IS NOT NULL AND phase != ?) OR (retest_at IS NOT NULL) ORDER BY created_at",
            (DrillPhase.CLOSED.value,),
        )

    async def add_student(self, drill_id: DrillId, user_id: int, now: float, *, limit: int) -> str:
        """'joined', 'already' or 'full': the count and the insert happen in one transaction."""
        async with self._transaction():
            async with self._db.execute(
                "SELECT count(*), sum(user_id = ?) FROM drill_students WHERE drill_id = ?", (user_id, drill_id)
            ) as cursor:
                count, mine = await cursor.fetchone()
            if mine:
                return "already"
            if count >= limit:
                return "full"
            await self._db.execute(
                "INSERT INTO drill_students (drill_id, user_id, joined_at) VALUES (?, ?, ?)", (drill_id, user_id, now)
            )
        return "joined"

    async def set_nickname(self, drill_id: DrillId, user_id: int, nickname: str) -> str:
        """Give the student a nickname unique in the drill (a number is added to a taken one); returns it."""
        async with self._transaction():
            async with self._db.execute(
                "SELECT nickname FROM drill_students WHERE drill_id = ? AND user_id != ? AND nickname IS NOT NULL",
                (drill_id, user_id),
            ) as cursor:
                taken = {row[0].casefold() for row in await cursor.fetchall()}
            chosen, number = nickname, 2
            while chosen.casefold() in taken:
                chosen, number = f"{nickname} {number}", number + 1
            await self._db.execute(
                "UPDATE drill_students SET nickname = ? WHERE drill_id = ? AND user_id = ?", (chosen, drill_id, user_id)
            )
        return chosen

    async def set_student_message(self, drill_id: DrillId, user_id: int, message_id: int | None) -> None:
        async with self._transaction():
            await self._db.execute(
                "UPDATE drill_students SET message_id = ? WHERE drill_id = ? AND user_id = ?",
                (message_id, drill_id, user_id),
            )

    async def _students(self, where: str, params: tuple[Any, ...]) -> list[DrillStudent]:
        async with self._db.execute(
            f"SELECT drill_id, user_id, nickname, joined_at, message_id FROM drill_students WHERE {where}", params
        ) as cursor:
            rows = await cursor.fetchall()
        return [
            DrillStudent(drill_id=DrillId(r[0]), user_id=r[1], nickname=r[2], joined_at=r[3], message_id=r[4])
            for r in rows
        ]

    async def student(self, drill_id: DrillId, user_id: int) -> DrillStudent | None:
        found = await self._students("drill_id = ? AND user_id = ?", (drill_id, user_id))
        return found[0] if found else None

    async def students(self, drill_id: DrillId) -> list[DrillStudent]:
        return await self._students("drill_id = ? ORDER BY joined_at", (drill_id,))

    async def awaiting_nickname(self, user_id: int) -> DrillStudent | None:
        found = await self._students("user_id = ? AND nickname IS NULL ORDER BY joined_at DESC LIMIT 1", (user_id,))
        return found[0] if found else None

    async def link_session(self, drill_id: DrillId, round_: DrillRound, user_id: int, session_id: str) -> None:
        async with self._transaction():
            await self._db.execute(
                "INSERT INTO drill_sessions (drill_id, round, user_id, session_id) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (drill_id, round, user_id) DO UPDATE SET session_id = excluded.session_id",
                (drill_id, round_.value, user_id, session_id),
            )

    async def drill_session(self, drill_id: DrillId, round_: DrillRound, user_id: int) -> str | None:
        async with self._db.execute(
            "SELECT session_id FROM drill_sessions WHERE drill_id = ? AND round = ? AND user_id = ?",
            (drill_id, round_.value, user_id),
        ) as cursor:
            row = await cursor.fetchone()
        return row[0] if row else None

    async def drill_answers(self, drill_id: DrillId) -> list[DrillAnswer]:
        """Every answer of the drill's students, in every round, with their nicknames."""
        async with self._db.execute(
            "SELECT ds.round, coalesce(st.nickname, ''), a.user_id, a.position, a.question_id, a.chosen, a.correct, "
            "a.confidence, a.elapsed_ms, a.answered_at FROM drill_sessions ds "
            "JOIN answers a ON a.session_id = ds.session_id AND a.user_id = ds.user_id "
            "JOIN drill_students st ON st.drill_id = ds.drill_id AND st.user_id = ds.user_id "
            "WHERE ds.drill_id = ? ORDER BY ds.round, st.nickname, a.position",
            (drill_id,),
        ) as cursor:
            rows = await cursor.fetchall()
        return [
            DrillAnswer(
                round=DrillRound(r[0]),
                nickname=r[1],
                user_id=r[2],
                position=r[3],
                question_id=r[4],
                chosen=r[5],
                correct=bool(r[6]),
                confidence=Confidence(r[7]) if r[7] else None,
                elapsed_ms=r[8],
                answered_at=r[9],
            )
            for r in rows
        ]


ANSWER_INSERT = (
    "INSERT INTO answers (session_id, user_id, question_id, topic, position, chosen, correct, confidence, "
    "elapsed_ms, answered_at, context, points) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (session_id, position, user_id) DO NOTHING"
)
REVIEW_UPSERT = (
    "INSERT INTO review_items (user_id, question_id, box, due_at) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (user_id, question_id) DO UPDATE SET box = excluded.box, due_at = excluded.due_at"
)


MEMBER_JOIN = (
    "INSERT INTO group_members (session_id, user_id, name, joined_at) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (session_id, user_id) DO NOTHING"
)


def _member_row(answer: GroupAnswerEntry) -> tuple[Any, ...]:
    """An answer that counts makes its member join (when they are not in yet), as of the answer."""
    return (answer.record.session_id, answer.record.user_id, answer.name[:64], answer.record.answered_at)


def _answer_row(record: AnswerRecord) -> tuple[Any, ...]:
    return (
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
        record.points,
    )


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


BEGIN_PATIENCE = 5.0  # seconds to keep asking for the write lock, on top of SQLite's own busy timeout


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
            await self._begin()
        except BaseException:
            self._lock.release()
            raise
        return self

    async def _begin(self) -> None:
        """BEGIN IMMEDIATE, tried again for a while when another process holds the database.

        Why not only SQLite's busy timeout: while a read of this connection is still open (another coroutine's
        cursor), SQLite refuses the write lock at once, without waiting, if another process has written since
        that read began. The read ends within milliseconds, so trying again soon succeeds.
        """
        await _execute_patiently(self._db, "BEGIN IMMEDIATE", ("locked", "busy"))

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        try:
            await self._db.execute("ROLLBACK" if exc_type is not None or self._rollback else "COMMIT")
        finally:
            self._lock.release()


def _json(data: dict[str, Any]) -> str:
    return json.dumps(data, separators=(",", ":"))


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
        points=row[11],
    )


def _review(row: Any) -> ReviewItem:
    return ReviewItem(user_id=UserId(row[0]), question_id=QuestionId(row[1]), box=row[2], due_at=row[3])
