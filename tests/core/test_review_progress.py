"""Leitner boxes, the review order, result summaries and calibration."""

from __future__ import annotations

import pytest

from bot.core.engine import AnswerRecord, Confidence, SessionId, UserId
from bot.core.model import QuestionId
from bot.core.progress import calibration, summarize
from bot.core.review import DAY, INTERVAL_DAYS, LAST_BOX, ReviewItem, after_answer, review_order

USER = UserId(1)
QID = QuestionId("q")


def item(box: int, due: float = 0.0, qid: str = "q") -> ReviewItem:
    return ReviewItem(user_id=USER, question_id=QuestionId(qid), box=box, due_at=due)


def test_a_miss_enters_box_one_due_now() -> None:
    assert after_answer(None, user_id=USER, question_id=QID, correct=False, now=50) == item(1, 50)


def test_a_right_answer_outside_the_queue_changes_nothing() -> None:
    assert after_answer(None, user_id=USER, question_id=QID, correct=True, now=50) is None


@pytest.mark.parametrize("box", range(1, LAST_BOX))
def test_a_right_answer_moves_up_one_box_and_waits_longer(box: int) -> None:
    moved = after_answer(item(box), user_id=USER, question_id=QID, correct=True, now=1000)
    assert moved.box == box + 1 and moved.due_at == 1000 + INTERVAL_DAYS[box + 1] * DAY


def test_the_last_box_graduates_and_any_miss_starts_over() -> None:
    assert after_answer(item(LAST_BOX), user_id=USER, question_id=QID, correct=True, now=1) is None
    assert after_answer(item(4, 99), user_id=USER, question_id=QID, correct=False, now=5) == item(1, 5)


def test_review_order_puts_due_first_lowest_box_first() -> None:
    items = [item(3, 10, "a"), item(1, 20, "b"), item(2, 500, "c"), item(1, 5, "d"), item(2, 300, "e")]
    assert [i.question_id for i in review_order(items, now=100)] == ["d", "b", "a", "e", "c"]


def record(position: int, correct: bool, confidence: Confidence | None = None, topic: str = "t") -> AnswerRecord:
    return AnswerRecord(
        session_id=SessionId("s"),
        user_id=USER,
        question_id=QuestionId(f"q{position}"),
        topic=topic,
        position=position,
        chosen=0,
        correct=correct,
        confidence=confidence,
        elapsed_ms=1000 * (position + 1),
        answered_at=float(position),
    )


def test_summary_counts_topics_weakest_first_and_the_best_streak() -> None:
    records = [
        record(0, True, topic="b"),
        record(1, True, topic="a"),
        record(2, True, topic="a"),
        record(3, False, topic="a"),
        record(4, True, topic="b"),
    ]
    summary = summarize(records)
    assert (summary.total.answered, summary.total.correct, summary.best_streak) == (5, 4, 3)
    assert [(t, x.correct, x.answered) for t, x in summary.by_topic] == [("a", 2, 3), ("b", 2, 2)]
    assert summary.mean_elapsed_ms == 3000


def test_calibration_shows_overconfidence() -> None:
    records = [record(n, n == 0, Confidence.SURE) for n in range(4)] + [record(9, True)]
    result = calibration(records)
    assert result.rated == 4
    assert result.expected == pytest.approx(0.95)
    assert result.actual == pytest.approx(0.25)
    assert result.overconfidence == pytest.approx(0.70)
    assert result.level(Confidence.SURE).tally.answered == 4 and result.level(Confidence.GUESS) is None


def test_calibration_with_no_ratings_is_empty() -> None:
    assert calibration([record(0, True)]).rated == 0
