"""ReviewUpdate.after: the one rule for how an answer moves its question's review-queue entry (quiz, group, drill)."""

from __future__ import annotations

from bot.core.engine import AnswerRecord, SessionId, UserId
from bot.core.model import QuestionId
from bot.core.review import LAST_BOX, ReviewItem
from bot.storage.base import ReviewUpdate

USER, QUESTION = UserId(7), QuestionId("alpha-1")


def answer(correct: bool, at: float = 100.0) -> AnswerRecord:
    return AnswerRecord(
        session_id=SessionId("s"),
        user_id=USER,
        question_id=QUESTION,
        topic="alpha",
        position=0,
        chosen=0,
        correct=correct,
        confidence=None,
        elapsed_ms=1,
        answered_at=at,
        context="test",
    )


def test_a_miss_queues_the_question_due_at_once() -> None:
    update = ReviewUpdate.after(answer(False), None)
    assert update == ReviewUpdate(
        user_id=USER, question_id=QUESTION, item=ReviewItem(user_id=USER, question_id=QUESTION, box=1, due_at=100.0)
    )


def test_a_hit_outside_the_queue_changes_nothing() -> None:
    assert ReviewUpdate.after(answer(True), None) is None


def test_a_hit_moves_the_entry_on_and_the_last_box_lets_it_go() -> None:
    queued = ReviewItem(user_id=USER, question_id=QUESTION, box=1, due_at=50.0)
    moved = ReviewUpdate.after(answer(True), queued)
    assert moved is not None and moved.item is not None
    assert moved.item.box == 2 and moved.item.due_at > 100.0
    done = ReviewUpdate.after(answer(True), ReviewItem(user_id=USER, question_id=QUESTION, box=LAST_BOX, due_at=1.0))
    assert done == ReviewUpdate(user_id=USER, question_id=QUESTION, item=None)


def test_a_miss_of_a_question_already_due_at_that_moment_changes_nothing() -> None:
    same = ReviewItem(user_id=USER, question_id=QUESTION, box=1, due_at=100.0)
    assert ReviewUpdate.after(answer(False, at=100.0), same) is None
