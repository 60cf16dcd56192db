"""Summaries of recorded answers: a quiz's result card, a person's progress, calibration and discernment."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .engine import AnswerRecord
from .measures import (
    CalibrationMeasure,
    Discernment,
    Judgment,
    RatedAnswer,
    measure_calibration,
    measure_discernment,
)
from .model import QuestionBank


@dataclass(frozen=True, slots=True, kw_only=True)
class Tally:
    """Answers and right answers."""

    answered: int = 0
    correct: int = 0

    @property
    def accuracy(self) -> float:
        return self.correct / self.answered if self.answered else 0.0

    def add(self, correct: bool) -> Tally:
        return Tally(answered=self.answered + 1, correct=self.correct + int(correct))


@dataclass(frozen=True, slots=True, kw_only=True)
class Summary:
    """Totals over a set of answers: one quiz's result card, or everything a person has answered."""

    total: Tally
    by_topic: tuple[tuple[str, Tally], ...]
    calibration: CalibrationMeasure  # a guess is worth chance on its question
    discernment: Discernment  # over the judge items answered
    best_streak: int
    mean_elapsed_ms: int


def summarize(records: Iterable[AnswerRecord], bank: QuestionBank) -> Summary:
    """Totals, per-topic results (weakest first), calibration, discernment and the longest run of right answers.

    Answers to questions no longer in the bank still count in the totals, not in calibration or discernment (which
    need the question's options and truth)."""
    records = sorted(records, key=lambda r: (r.answered_at, r.position))
    rated: list[RatedAnswer] = []
    judgments: list[Judgment] = []
    for record in records:
        question = bank.get(record.question_id)
        if question is None:
            continue
        rated.append(RatedAnswer(confidence=record.confidence, correct=record.correct, options=len(question.options)))
        said_fake = question.says_manipulated(record.chosen)
        if said_fake is not None:
            judgments.append(Judgment(said_fake=said_fake, is_fake=question.says_manipulated(question.answer) is True))
    total = Tally()
    topics: dict[str, Tally] = {}
    streak = best = 0
    elapsed = 0
    for record in records:
        total = total.add(record.correct)
        topics[record.topic] = topics.get(record.topic, Tally()).add(record.correct)
        streak = streak + 1 if record.correct else 0
        best = max(best, streak)
        elapsed += record.elapsed_ms
    by_topic = tuple(sorted(topics.items(), key=lambda kv: (kv[1].accuracy, kv[0])))
    return Summary(
        total=total,
        by_topic=by_topic,
        calibration=measure_calibration(rated),
        discernment=measure_discernment(judgments),
        best_streak=best,
        mean_elapsed_ms=elapsed // total.answered if total.answered else 0,
    )
