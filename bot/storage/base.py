"""The storage interface the services use. Implementations return core values, never driver rows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from ..core.engine import AnswerRecord, QuizSession, SessionId, UserId
from ..core.model import QuestionId
from ..core.review import ReviewItem
from ..core.users import UserProfile


class StorageError(Exception):
    """The database could not be opened or used; the message says why in one line."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ReviewUpdate:
    """A change to one review-queue entry: `item` None removes it."""

    user_id: UserId
    question_id: QuestionId
    item: ReviewItem | None


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
