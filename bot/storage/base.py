"""The storage interface the services use. Implementations return core values, never driver rows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

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
from ..core.review import ReviewItem, after_answer
from ..core.users import UserProfile


class StorageError(Exception):
    """The database could not be opened or used; the message says why in one line."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ReviewUpdate:
    """A change to one review-queue entry: `item` None removes it."""

    user_id: UserId
    question_id: QuestionId
    item: ReviewItem | None

    @classmethod
    def after(cls, record: AnswerRecord, current: ReviewItem | None) -> ReviewUpdate | None:
        """The change `record` makes to its question's queue entry `current` (a miss goes to review, a hit moves it
        on); None when the entry stays as it is."""
        item = after_answer(
            current,
            user_id=record.user_id,
            question_id=record.question_id,
            correct=record.correct,
            now=record.answered_at,
        )
        return None if item == current else cls(user_id=record.user_id, question_id=record.question_id, item=item)


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupAnswerEntry:
    """One member's answer to a group question, the name they join under if new, and the review change it makes."""

    record: AnswerRecord
    name: str
    review: ReviewUpdate | None = None


class Storage(Protocol):
    """Everything the bot stores. Each method is one transaction."""

    async def close(self) -> None: ...

    async def schema_version(self) -> int: ...

    async def get_user(self, user_id: UserId) -> UserProfile | None: ...

    async def save_user(self, profile: UserProfile) -> None: ...

    async def get_session(self, session_id: SessionId) -> QuizSession | None: ...

    async def active_session(self, user_id: UserId) -> QuizSession | None: ...

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
        ...

    async def answers(
        self, *, user_id: UserId | None = None, session_id: SessionId | None = None
    ) -> list[AnswerRecord]: ...

    async def review_item(self, user_id: UserId, question_id: QuestionId) -> ReviewItem | None: ...

    async def review_items(self, user_id: UserId) -> list[ReviewItem]: ...

    async def forget_user(self, user_id: UserId) -> None:
        """Delete every row about this person, in every table."""
        ...


class GroupStorage(Protocol):
    """What group quizzes store: groups, sessions, members, poll ids; answers share the answers table."""

    async def get_group(self, chat_id: ChatId) -> GroupInfo | None: ...

    async def save_group(self, info: GroupInfo) -> None: ...

    async def move_group(self, old_chat_id: ChatId, new_chat_id: ChatId) -> None: ...

    async def commit_group(self, session: GroupSession, *, expected_version: int | None) -> bool: ...

    async def get_group_session(self, session_id: GroupSessionId) -> GroupSession | None: ...

    async def active_group_session(self, chat_id: ChatId) -> GroupSession | None: ...

    async def active_group_sessions(self) -> list[GroupSession]: ...

    async def due_group_sessions(self, now: float) -> list[GroupSessionId]: ...

    async def hold_group_session(self, session_id: GroupSessionId, until: float | None) -> None: ...

    async def add_member(self, session_id: GroupSessionId, user_id: int, name: str, now: float) -> bool: ...

    async def members(self, session_id: GroupSessionId) -> list[GroupMember]: ...

    async def count_members(self, session_id: GroupSessionId) -> int: ...

    async def member_left(self, session_id: GroupSessionId, user_id: int, now: float) -> None: ...

    async def map_poll(self, poll_id: str, session_id: GroupSessionId, position: int) -> None: ...

    async def poll_target(self, poll_id: str) -> tuple[GroupSessionId, int] | None: ...

    async def record_answer(self, record: AnswerRecord, *, review: ReviewUpdate | None = None) -> bool: ...

    async def record_group_answers(self, answers: Sequence[GroupAnswerEntry]) -> list[bool]:
        """Many answers in one transaction (group commit); True for each that counts (a member's first)."""
        ...

    async def review_items_for(
        self, keys: Sequence[tuple[UserId, QuestionId]]
    ) -> dict[tuple[UserId, QuestionId], ReviewItem]: ...

    async def count_answers(self, session_id: str, position: int) -> int: ...

    async def answer_tally(self, session_id: GroupSessionId, position: int) -> tuple[int, int]:
        """(answers to this question, members still in the session), read together."""
        ...

    async def leaderboard(self, session_id: GroupSessionId, *, limit: int | None = None) -> list[Standing]: ...

    async def question_tallies(self, session_id: str) -> list[QuestionTally]: ...

    async def group_history(self, chat_id: ChatId, *, limit: int = 5) -> tuple[int, list[GroupRecord]]: ...


class DrillStorage(Protocol):
    """What classroom drills store: drills, students with nicknames, and which session holds each round."""

    async def create_drill(self, drill: Drill) -> bool: ...

    async def commit_drill(self, drill: Drill, *, expected_version: int) -> bool: ...

    async def get_drill(self, drill_id: DrillId) -> Drill | None: ...

    async def drill_by_code(self, code: str) -> Drill | None: ...

    async def teacher_drills(self, teacher_id: int) -> list[Drill]: ...

    async def timed_drills(self) -> list[Drill]: ...

    async def add_student(self, drill_id: DrillId, user_id: int, now: float, *, limit: int) -> str: ...

    async def set_nickname(self, drill_id: DrillId, user_id: int, nickname: str) -> str: ...

    async def set_student_message(self, drill_id: DrillId, user_id: int, message_id: int | None) -> None: ...

    async def student(self, drill_id: DrillId, user_id: int) -> DrillStudent | None: ...

    async def students(self, drill_id: DrillId) -> list[DrillStudent]: ...

    async def awaiting_nickname(self, user_id: int) -> DrillStudent | None: ...

    async def link_session(self, drill_id: DrillId, round_: DrillRound, user_id: int, session_id: str) -> None: ...

    async def drill_session(self, drill_id: DrillId, round_: DrillRound, user_id: int) -> str | None: ...

    async def drill_answers(self, drill_id: DrillId) -> list[DrillAnswer]: ...


class FullStorage(Storage, GroupStorage, DrillStorage, Protocol):
    """Everything: what `open_storage` returns."""
