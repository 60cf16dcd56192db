"""The storage methods written once, over the shared statements; each back-end supplies how a unit of work runs.

A back-end (`SQLiteStorage`, `PostgresStorage`) subclasses `SQLStorage` and says how to run a piece of work on a
connection: as a plain read, as one atomic write, as a transaction, or as reads that see one snapshot. Those runners
are where the back-ends genuinely differ (SQLite: one connection, a write lock and BEGIN IMMEDIATE asked for again
while another process holds the file; PostgreSQL: a pool, retries of transient failures), and where every driver
error becomes a StorageError. Methods whose SQL must differ (batch inserts, moving a group, migrations) stay in the
back-ends.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol, TypeVar

from ..core.drill import Drill, DrillAnswer, DrillId, DrillRound, DrillStudent
from ..core.engine import AnswerRecord, QuizSession, SessionId, UserId
from ..core.group import (
    ChatId,
    GroupInfo,
    GroupMember,
    GroupRecord,
    GroupSession,
    GroupSessionId,
    QuestionTally,
    Standing,
)
from ..core.model import QuestionId
from ..core.review import ReviewItem
from ..core.users import UserProfile
from .base import GroupAnswerEntry, ReviewUpdate
from .rows import (
    Row,
    answer_from_row,
    answer_values,
    drill_answer_from_row,
    drill_from_state,
    drill_state,
    drill_values,
    dumps,
    group_from_row,
    group_from_state,
    group_state,
    group_values,
    member_from_row,
    review_from_row,
    review_values,
    session_from_state,
    session_state,
    standing_from_row,
    student_from_row,
    tally_from_row,
    user_from_row,
    user_values,
)
from .statements import Statements

T = TypeVar("T")


class Connection(Protocol):
    """One connection inside a unit of work, the same calls on both drivers; arguments bind to $1, $2, ..."""

    async def fetch(self, sql: str, *args: Any) -> list[Row]: ...

    async def fetchrow(self, sql: str, *args: Any) -> Row | None: ...

    async def fetchval(self, sql: str, *args: Any) -> Any: ...

    async def execute(self, sql: str, *args: Any) -> int:
        """Run one statement; the number of rows it changed."""
        ...

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...


Work = Callable[[Connection], Awaitable[T]]


class LostRace(Exception):
    """Raised inside a transaction to roll it back when a version or uniqueness check fails; the move must not count."""


class SQLStorage(ABC):
    """Everything the bot stores, over `Statements` in the back-end's dialect. Each method is one unit of work.

    This is what `open_storage` returns. The services never name it: each declares the narrow Protocol it needs
    (`QuizStore`, `GroupStore`, `DrillStore`) and the wiring's type check proves this class satisfies them all.
    """

    _sql: Statements  # set by each back-end to the statements in its dialect

    # ---------------------------------------------------------------- what each back-end supplies

    @abstractmethod
    async def _read(self, what: str, work: Work[T]) -> T:
        """Run reads; `what` names the method in errors."""

    @abstractmethod
    async def _write(self, what: str, work: Work[T]) -> T:
        """Run one write statement (and reads), atomically."""

    @abstractmethod
    async def _transaction(self, what: str, work: Work[T]) -> T:
        """Run several statements as one transaction, rolled back if `work` raises (LostRace included)."""

    @abstractmethod
    async def _snapshot(self, what: str, work: Work[T]) -> T:
        """Run reads that must agree with one another."""

    @abstractmethod
    async def _lock_drill_students(self, db: Connection, drill_id: DrillId) -> None:
        """Inside a transaction: one drill's roster changes one at a time, across processes, until it ends."""

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    async def schema_version(self) -> int: ...

    @abstractmethod
    async def move_group(self, old_chat_id: ChatId, new_chat_id: ChatId) -> None: ...

    @abstractmethod
    async def record_group_answers(self, answers: Sequence[GroupAnswerEntry]) -> list[bool]:
        """Many answers in one transaction (group commit); True for each that counts (a member's first)."""

    @abstractmethod
    async def review_items_for(
        self, keys: Sequence[tuple[UserId, QuestionId]]
    ) -> dict[tuple[UserId, QuestionId], ReviewItem]: ...

    # ---------------------------------------------------------------- shorthands for one statement

    async def _fetch(self, what: str, sql: str, *args: Any) -> list[Row]:
        return await self._read(what, lambda db: db.fetch(sql, *args))

    async def _fetchrow(self, what: str, sql: str, *args: Any) -> Row | None:
        return await self._read(what, lambda db: db.fetchrow(sql, *args))

    async def _fetchval(self, what: str, sql: str, *args: Any) -> Any:
        return await self._read(what, lambda db: db.fetchval(sql, *args))

    async def _execute(self, what: str, sql: str, *args: Any) -> int:
        return await self._write(what, lambda db: db.execute(sql, *args))

    # ---------------------------------------------------------------- people and private quizzes

    async def get_user(self, user_id: UserId) -> UserProfile | None:
        row = await self._fetchrow("get_user", self._sql.get_user, user_id)
        return user_from_row(row) if row is not None else None

    async def save_user(self, profile: UserProfile) -> None:
        await self._execute("save_user", self._sql.save_user, *user_values(profile))

    async def get_session(self, session_id: SessionId) -> QuizSession | None:
        state = await self._fetchval("get_session", self._sql.get_session, session_id)
        return session_from_state(state) if state is not None else None

    async def active_session(self, user_id: UserId) -> QuizSession | None:
        state = await self._fetchval("active_session", self._sql.active_session, user_id)
        return session_from_state(state) if state is not None else None

    async def commit(
        self,
        session: QuizSession,
        *,
        expected_version: int | None,
        answer: AnswerRecord | None = None,
        review: ReviewUpdate | None = None,
    ) -> bool:
        """Save a session move atomically.

        The session is inserted when `expected_version` is None, else updated only if the stored version still
        equals it; the answer is inserted only if (session, position, user) has none yet. If either condition
        fails nothing is written and the result is False: the move lost a race and must not count.
        """
        state = session_state(session)
        updated = session.finished_at or session.asked_at
        args: tuple[Any, ...]
        if expected_version is None:
            sql = self._sql.insert_session
            args = (session.id, session.user_id, session.phase.value, session.version, state, updated)
        else:
            sql = self._sql.update_session
            args = (session.phase.value, session.version, state, updated, session.id, expected_version)

        async def work(db: Connection) -> None:
            if await db.execute(sql, *args) != 1:
                raise LostRace
            if answer is not None and await db.execute(self._sql.insert_answer, *answer_values(answer)) != 1:
                raise LostRace
            if review is not None:
                await self._apply_review(db, review)

        try:
            await self._transaction("commit", work)
        except LostRace:
            return False
        return True

    async def _apply_review(self, db: Connection, review: ReviewUpdate) -> None:
        if review.item is None:
            await db.execute(self._sql.delete_review, review.user_id, review.question_id)
        else:
            await db.execute(self._sql.upsert_review, *review_values(review.item))

    async def _apply_reviews(self, db: Connection, reviews: Sequence[ReviewUpdate]) -> None:
        gone = [(r.user_id, r.question_id) for r in reviews if r.item is None]
        if gone:
            await db.executemany(self._sql.delete_review, gone)
        items = [review_values(r.item) for r in reviews if r.item is not None]
        if items:
            await db.executemany(self._sql.upsert_review, items)

    async def answers(
        self, *, user_id: UserId | None = None, session_id: SessionId | None = None
    ) -> list[AnswerRecord]:
        if user_id is not None and session_id is not None:
            rows = await self._fetch("answers", self._sql.user_session_answers, user_id, session_id)
        elif user_id is not None:
            rows = await self._fetch("answers", self._sql.user_answers, user_id)
        elif session_id is not None:
            rows = await self._fetch("answers", self._sql.session_answers, session_id)
        else:
            rows = await self._fetch("answers", self._sql.all_answers)
        return [answer_from_row(row) for row in rows]

    async def all_answers(self, since: float | None = None) -> list[AnswerRecord]:
        """Every stored answer, private, group and drill alike, oldest first (equal times in the order recorded);
        with `since`, only those given at or after it."""
        if since is None:
            rows = await self._fetch("all_answers", self._sql.all_answers)
        else:
            rows = await self._fetch("all_answers", self._sql.answers_since, float(since))
        return [answer_from_row(row) for row in rows]

    async def review_item(self, user_id: UserId, question_id: QuestionId) -> ReviewItem | None:
        row = await self._fetchrow("review_item", self._sql.review_item, user_id, question_id)
        return review_from_row(row) if row is not None else None

    async def review_items(self, user_id: UserId) -> list[ReviewItem]:
        return [review_from_row(row) for row in await self._fetch("review_items", self._sql.review_items, user_id)]

    async def forget_user(self, user_id: UserId) -> None:
        """Delete every row about this person, in every table."""

        async def work(db: Connection) -> None:
            for sql in self._sql.forget_user:
                await db.execute(sql, user_id)

        await self._transaction("forget_user", work)

    # ---------------------------------------------------------------- groups

    async def get_group(self, chat_id: ChatId) -> GroupInfo | None:
        row = await self._fetchrow("get_group", self._sql.get_group, chat_id)
        return group_from_row(row) if row is not None else None

    async def save_group(self, info: GroupInfo) -> None:
        await self._execute("save_group", self._sql.save_group, *group_values(info))

    async def _move_sessions(self, db: Connection, rows: Sequence[Row], new_chat_id: ChatId) -> None:
        """Inside `move_group`'s transaction: the sessions `rows` (id, state) follow their group to `new_chat_id`."""
        for row in rows:
            data = json.loads(row[1])
            # A new version, so a writer holding the session from before the move loses its commit and reloads.
            data["chat_id"], data["version"] = new_chat_id, data["version"] + 1
            await db.execute(self._sql.move_group_session, new_chat_id, data["version"], dumps(data), row[0])

    async def commit_group(self, session: GroupSession, *, expected_version: int | None) -> bool:
        """Insert (expected_version None) or update a group session if its stored version still matches."""
        state = group_state(session)
        args: tuple[Any, ...]
        if expected_version is None:
            sql = self._sql.insert_group_session
            args = (session.id, session.chat_id, session.phase.value, session.version, session.deadline, state)
            args += (session.created_at,)
        else:
            sql = self._sql.update_group_session
            updated = session.finished_at or session.asked_at or session.created_at
            args = (session.chat_id, session.phase.value, session.version, session.deadline, state, updated)
            args += (session.id, expected_version)
        return await self._execute("commit_group", sql, *args) == 1

    async def get_group_session(self, session_id: GroupSessionId) -> GroupSession | None:
        state = await self._fetchval("get_group_session", self._sql.get_group_session, session_id)
        return group_from_state(state) if state is not None else None

    async def active_group_session(self, chat_id: ChatId) -> GroupSession | None:
        state = await self._fetchval("active_group_session", self._sql.active_group_session, chat_id)
        return group_from_state(state) if state is not None else None

    async def active_group_sessions(self) -> list[GroupSession]:
        rows = await self._fetch("active_group_sessions", self._sql.active_group_sessions)
        return [group_from_state(row[0]) for row in rows]

    async def due_group_sessions(self, now: float) -> list[GroupSessionId]:
        """Open sessions whose deadline has passed: what a sweep must move on (any worker may)."""
        rows = await self._fetch("due_group_sessions", self._sql.due_group_sessions, now)
        return [GroupSessionId(row[0]) for row in rows]

    async def hold_group_session(self, session_id: GroupSessionId, until: float | None) -> None:
        """A worker is showing the session's last move until `until` (None: done); sweeps leave it alone till then."""
        await self._execute("hold_group_session", self._sql.hold_group_session, until, session_id)

    async def add_member(self, session_id: GroupSessionId, user_id: int, name: str, now: float) -> bool:
        """Join a session; False when already in (a member who left and comes back is in again)."""
        return await self._execute("add_member", self._sql.add_member, session_id, user_id, name[:64], now) == 1

    async def members(self, session_id: GroupSessionId) -> list[GroupMember]:
        return [member_from_row(row) for row in await self._fetch("members", self._sql.members, session_id)]

    async def count_members(self, session_id: GroupSessionId) -> int:
        return int(await self._fetchval("count_members", self._sql.count_members, session_id))

    async def member_left(self, session_id: GroupSessionId, user_id: int, now: float) -> None:
        await self._execute("member_left", self._sql.member_left, now, session_id, user_id)

    async def map_poll(self, poll_id: str, session_id: GroupSessionId, position: int) -> None:
        await self._execute("map_poll", self._sql.map_poll, poll_id, session_id, position)

    async def poll_target(self, poll_id: str) -> tuple[GroupSessionId, int] | None:
        row = await self._fetchrow("poll_target", self._sql.poll_target, poll_id)
        return (GroupSessionId(row[0]), int(row[1])) if row is not None else None

    async def record_answer(self, record: AnswerRecord, *, review: ReviewUpdate | None = None) -> bool:
        """Insert one answer (a member's first answer to a question counts; later ones are refused: False)."""

        async def work(db: Connection) -> None:
            if await db.execute(self._sql.insert_answer, *answer_values(record)) != 1:
                raise LostRace
            if review is not None:
                await self._apply_review(db, review)

        try:
            await self._transaction("record_answer", work)
        except LostRace:
            return False
        return True

    async def answer_tally(self, session_id: GroupSessionId, position: int) -> tuple[int, int]:
        """(answers to this question, members still in the session), read together."""
        row = await self._fetchrow("answer_tally", self._sql.answer_tally, session_id, position)
        return (int(row[0]), int(row[1])) if row is not None else (0, 0)

    async def count_answers(self, session_id: str, position: int) -> int:
        return int(await self._fetchval("count_answers", self._sql.count_answers, session_id, position))

    async def leaderboard(self, session_id: GroupSessionId, *, limit: int | None = None) -> list[Standing]:
        """Members by points, then right answers, then who joined first; members with no answer count too."""
        return await self._read("leaderboard", lambda db: self._leaderboard(db, session_id, limit))

    async def _leaderboard(self, db: Connection, session_id: GroupSessionId, limit: int | None) -> list[Standing]:
        if limit is None:
            rows = await db.fetch(self._sql.leaderboard, session_id)
        else:
            rows = await db.fetch(self._sql.leaderboard_top, session_id, limit)
        return [standing_from_row(row) for row in rows]

    async def chosen_counts(self, session_id: str, position: int) -> dict[int, int]:
        """Answers to one question by the option chosen (authored index); options nobody chose are absent."""
        rows = await self._fetch("chosen_counts", self._sql.chosen_counts, session_id, position)
        return {int(row[0]): int(row[1]) for row in rows}

    async def question_tallies(self, session_id: str) -> list[QuestionTally]:
        rows = await self._fetch("question_tallies", self._sql.question_tallies, session_id)
        return [tally_from_row(row) for row in rows]

    async def group_history(self, chat_id: ChatId, *, limit: int = 5) -> tuple[int, list[GroupRecord]]:
        """How many sessions a group finished, and the latest `limit` of them."""

        async def work(db: Connection) -> tuple[int, list[GroupRecord]]:
            total = await db.fetchval(self._sql.count_finished_group_sessions, chat_id)
            records = []
            for row in await db.fetch(self._sql.finished_group_sessions, chat_id, limit):
                session_id = GroupSessionId(row[0])
                top = await self._leaderboard(db, session_id, 1)
                records.append(
                    GroupRecord(
                        session_id=session_id,
                        finished_at=row[1],
                        players=int(row[2]),
                        answered=int(row[3]),
                        correct=int(row[4]),
                        winner=top[0].name if top and top[0].points > 0 else None,
                    )
                )
            return int(total), records

        return await self._snapshot("group_history", work)

    # ---------------------------------------------------------------- drills

    async def create_drill(self, drill: Drill) -> bool:
        """Store a new drill; False when its id or code is taken (draw another)."""
        return await self._execute("create_drill", self._sql.create_drill, *drill_values(drill)) == 1

    async def commit_drill(self, drill: Drill, *, expected_version: int) -> bool:
        changed = await self._execute(
            "commit_drill",
            self._sql.commit_drill,
            drill.phase.value,
            drill.version,
            drill.deadline,
            drill.retest_at,
            drill_state(drill),
            drill.id,
            expected_version,
        )
        return changed == 1

    async def get_drill(self, drill_id: DrillId) -> Drill | None:
        state = await self._fetchval("get_drill", self._sql.get_drill, drill_id)
        return drill_from_state(state) if state is not None else None

    async def drill_by_code(self, code: str) -> Drill | None:
        state = await self._fetchval("drill_by_code", self._sql.drill_by_code, code)
        return drill_from_state(state) if state is not None else None

    async def teacher_drills(self, teacher_id: int) -> list[Drill]:
        rows = await self._fetch("teacher_drills", self._sql.teacher_drills, teacher_id)
        return [drill_from_state(row[0]) for row in rows]

    async def timed_drills(self) -> list[Drill]:
        """Drills with something due later: an open deadline or a re-test not yet sent."""
        return [drill_from_state(row[0]) for row in await self._fetch("timed_drills", self._sql.timed_drills)]

    async def add_student(self, drill_id: DrillId, user_id: int, now: float, *, limit: int) -> str:
        """'joined', 'already' or 'full': the count and the insert happen under the drill's lock."""

        async def work(db: Connection) -> str:
            await self._lock_drill_students(db, drill_id)
            row = await db.fetchrow(self._sql.count_students, user_id, drill_id)
            count, mine = (row[0], row[1]) if row is not None else (0, 0)
            if mine:
                return "already"
            if count >= limit:
                return "full"
            await db.execute(self._sql.add_student, drill_id, user_id, now)
            return "joined"

        return await self._transaction("add_student", work)

    async def set_nickname(self, drill_id: DrillId, user_id: int, nickname: str) -> str:
        """Give the student a nickname unique in the drill (a number is added to a taken one); returns it."""

        async def work(db: Connection) -> str:
            await self._lock_drill_students(db, drill_id)
            taken = {row[0].casefold() for row in await db.fetch(self._sql.other_nicknames, drill_id, user_id)}
            chosen, number = nickname, 2
            while chosen.casefold() in taken:
                chosen, number = f"{nickname} {number}", number + 1
            await db.execute(self._sql.set_nickname, chosen, drill_id, user_id)
            return chosen

        return await self._transaction("set_nickname", work)

    async def set_student_message(self, drill_id: DrillId, user_id: int, message_id: int | None) -> None:
        await self._execute("set_student_message", self._sql.set_student_message, message_id, drill_id, user_id)

    async def student(self, drill_id: DrillId, user_id: int) -> DrillStudent | None:
        row = await self._fetchrow("student", self._sql.student, drill_id, user_id)
        return student_from_row(row) if row is not None else None

    async def students(self, drill_id: DrillId) -> list[DrillStudent]:
        return [student_from_row(row) for row in await self._fetch("students", self._sql.students, drill_id)]

    async def awaiting_nickname(self, user_id: int) -> DrillStudent | None:
        row = await self._fetchrow("awaiting_nickname", self._sql.awaiting_nickname, user_id)
        return student_from_row(row) if row is not None else None

    async def link_session(self, drill_id: DrillId, round_: DrillRound, user_id: int, session_id: str) -> None:
        await self._execute("link_session", self._sql.link_session, drill_id, round_.value, user_id, session_id)

    async def drill_session(self, drill_id: DrillId, round_: DrillRound, user_id: int) -> str | None:
        session_id = await self._fetchval("drill_session", self._sql.drill_session, drill_id, round_.value, user_id)
        return str(session_id) if session_id is not None else None

    async def session_drill(self, user_id: int, session_id: str) -> DrillId | None:
        drill_id = await self._fetchval("session_drill", self._sql.session_drill, user_id, session_id)
        return DrillId(str(drill_id)) if drill_id is not None else None

    async def drill_answers(self, drill_id: DrillId) -> list[DrillAnswer]:
        """Every answer of the drill's students, in every round, with their nicknames."""
        rows = await self._fetch("drill_answers", self._sql.drill_answers, drill_id)
        return [drill_answer_from_row(row) for row in rows]
