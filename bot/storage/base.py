"""What the services and the back-ends share: the one storage error, and the values a write takes.

The interfaces themselves live with the services that use them (`QuizStore`, `GroupStore`, `DrillStore`).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core.engine import AnswerRecord, UserId
from ..core.model import QuestionId
from ..core.review import ReviewItem, after_answer


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
