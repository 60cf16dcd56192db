"""Summaries of recorded answers: a quiz's result card, a person's progress and their calibration."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from .engine import AnswerRecord, Confidence


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
class CalibrationLevel:
    """How right a person was when they said they were at one confidence level."""

    confidence: Confidence
    tally: Tally

    @property
    def gap(self) -> float:
        """Stated minus actual: above 0 is overconfidence."""
        return self.confidence.expected - self.tally.accuracy


@dataclass(frozen=True, slots=True, kw_only=True)
class Calibration:
    """Confidence against accuracy, over every rated answer."""

    levels: tuple[CalibrationLevel, ...]

    @property
    def rated(self) -> int:
        return sum(level.tally.answered for level in self.levels)

    @property
    def expected(self) -> float:
        """The accuracy the stated confidence implied."""
        if not self.rated:
            return 0.0
        return sum(lv.confidence.expected * lv.tally.answered for lv in self.levels) / self.rated

    @property
    def actual(self) -> float:
        if not self.rated:
            return 0.0
        return sum(lv.tally.correct for lv in self.levels) / self.rated

    @property
    def overconfidence(self) -> float:
        """Expected minus actual accuracy, in points of share (0.2 = 20 points too sure)."""
        return self.expected - self.actual

    def level(self, confidence: Confidence) -> CalibrationLevel | None:
        return next((lv for lv in self.levels if lv.confidence is confidence), None)


class Rated(Protocol):
    """An answer with a stated confidence: private, group or drill answers alike."""

    @property
    def confidence(self) -> Confidence | None: ...

    @property
    def correct(self) -> bool: ...


def calibration(records: Iterable[Rated]) -> Calibration:
    """Group rated answers by stated confidence."""
    tallies: dict[Confidence, Tally] = {}
    for record in records:
        if record.confidence is not None:
            tallies[record.confidence] = tallies.get(record.confidence, Tally()).add(record.correct)
    levels = tuple(CalibrationLevel(confidence=c, tally=tallies[c]) for c in Confidence if c in tallies)
    return Calibration(levels=levels)


@dataclass(frozen=True, slots=True, kw_only=True)
class Summary:
    """Totals over a set of answers: one quiz's result card, or everything a person has answered."""

    total: Tally
    by_topic: tuple[tuple[str, Tally], ...]
    calibration: Calibration
    best_streak: int
    mean_elapsed_ms: int


def summarize(records: Iterable[AnswerRecord]) -> Summary:
    """Totals, per-topic results (weakest first), calibration and the longest run of right answers."""
    records = sorted(records, key=lambda r: (r.answered_at, r.position))
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
        calibration=calibration(records),
        best_streak=best,
        mean_elapsed_ms=elapsed // total.answered if total.answered else 0,
    )
