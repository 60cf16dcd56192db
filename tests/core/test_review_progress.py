"""Leitner boxes, the review order, result summaries and calibration."""

from __future__ import annotations

import pytest

from bot.core.engine import AnswerRecord, Confidence, SessionId, UserId
from bot.core.model import QuestionBank, QuestionId
from bot.core.progress import summarize
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


def test_summary_counts_topics_weakest_first_and_the_best_streak(small_bank: QuestionBank) -> None:
    records = [
        record(0, True, topic="b"),
        record(1, True, topic="a"),
        record(2, True, topic="a"),
        record(3, False, topic="a"),
        record(4, True, topic="b"),
    ]
    summary = summarize(records, small_bank)
    assert (summary.total.answered, summary.total.correct, summary.best_streak) == (5, 4, 3)
    assert [(t, x.correct, x.answered) for t, x in summary.by_topic] == [("a", 2, 3), ("b", 2, 2)]
    assert summary.mean_elapsed_ms == 3000


def bank_record(question_id: str, position: int, correct: bool, confidence: Confidence | None) -> AnswerRecord:
    return AnswerRecord(
        session_id=SessionId("s"),
        user_id=USER,
        question_id=QuestionId(question_id),
        topic="alpha",
        position=position,
        chosen=0,
        correct=correct,
        confidence=confidence,
        elapsed_ms=1000,
        answered_at=float(position),
    )


def test_calibration_counts_a_guess_as_chance_on_its_question(small_bank: QuestionBank) -> None:
    # alpha-0..4 have 3 options, alpha-tf 2. Sure on four answers (one right), a guess on the true/false (right):
    # stated (4 * 0.95 + 0.5) / 5 = 0.86; accuracy 2 / 5 = 0.4; overconfident by 0.46.
    records = [bank_record(f"alpha-{n}", n, n == 0, Confidence.SURE) for n in range(4)]
    records.append(bank_record("alpha-tf", 4, True, Confidence.GUESS))
    records.append(bank_record("alpha-4", 5, True, None))  # not rated: not in calibration
    records.append(bank_record("gone-from-the-bank", 6, True, Confidence.SURE))  # counted in totals only
    summary = summarize(records, small_bank)
    assert summary.total.answered == 7
    assert summary.calibration.rated == 5 and summary.calibration.unrated == 1
    assert summary.calibration.mean_stated == pytest.approx(0.86)
    assert summary.calibration.accuracy == pytest.approx(0.4)
    assert summary.calibration.overconfidence == pytest.approx(0.46)
    assert summary.discernment.judged == 0


def test_calibration_with_no_ratings_is_empty(small_bank: QuestionBank) -> None:
    assert summarize([record(0, True)], small_bank).calibration.rated == 0
