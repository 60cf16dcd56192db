"""Spaced repetition of missed questions with Leitner boxes.

A miss puts a question in box 1, due at once. Each right answer in review moves it up a box and pushes the
next review further out; a right answer from the last box retires it from the queue. A miss anywhere sends
it back to box 1: the point is to come back to exactly what a person got wrong.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .engine import UserId
from .model import QuestionId

DAY = 86_400.0
# Days to wait before the next review, by the box a question has just moved into.
INTERVAL_DAYS = {1: 0.0, 2: 1.0, 3: 3.0, 4: 7.0, 5: 14.0}
LAST_BOX = max(INTERVAL_DAYS)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReviewItem:
    """A missed question waiting in a person's review queue."""

    user_id: UserId
    question_id: QuestionId
    box: int
    due_at: float


def after_answer(
    item: ReviewItem | None, *, user_id: UserId, question_id: QuestionId, correct: bool, now: float
) -> ReviewItem | None:
    """The queue entry after an answer: None means the question is (or stays) out of the queue."""
    if not correct:
        return ReviewItem(user_id=user_id, question_id=question_id, box=1, due_at=now)
    if item is None:
        return None
    if item.box >= LAST_BOX:
        return None
    box = item.box + 1
    return ReviewItem(user_id=user_id, question_id=question_id, box=box, due_at=now + INTERVAL_DAYS[box] * DAY)


def review_order(items: Iterable[ReviewItem], *, now: float) -> list[ReviewItem]:
    """Due items first (lowest box, then longest overdue), then the rest by how soon they fall due."""
    due = sorted((i for i in items if i.due_at <= now), key=lambda i: (i.box, i.due_at))
    later = sorted((i for i in items if i.due_at > now), key=lambda i: i.due_at)
    return due + later
