"""What a class got right and wrong in a drill: the teacher's report, computed from answers alone."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from .drill import Drill, DrillAnswer, DrillRound
from .progress import Calibration, calibration


@dataclass(frozen=True, slots=True, kw_only=True)
class QuestionResult:
    """How the class did on one question in one round."""

    position: int
    question_id: str
    answered: int
    correct: int

    @property
    def accuracy(self) -> float:
        return self.correct / self.answered if self.answered else 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class RoundResult:
    """One round: who took part and how each question went."""

    round: DrillRound
    participants: int
    average_score: float  # mean over students of their share of right answers
    questions: tuple[QuestionResult, ...]  # in question order, every question of the drill

    @property
    def accuracy(self) -> float:
        answered = sum(q.answered for q in self.questions)
        return sum(q.correct for q in self.questions) / answered if answered else 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class DrillReport:
    """The teacher's report: participation, accuracy per question, calibration, gain and retention."""

    drill: Drill
    students: int
    rounds: dict[DrillRound, RoundResult]
    calibration: Calibration

    @property
    def first(self) -> RoundResult | None:
        """The round the class took first (main, or the pre-test)."""
        return self.rounds.get(DrillRound.PRE) or self.rounds.get(DrillRound.MAIN)

    def most_missed(self) -> list[QuestionResult]:
        """The first round's questions, worst first (what to talk about next)."""
        first = self.first
        if first is None:
            return []
        return sorted((q for q in first.questions if q.answered), key=lambda q: (q.accuracy, q.position))

    def gain(self) -> tuple[float, list[tuple[int, float, float]]] | None:
        """For a pre/post pair: overall gain in accuracy and (position, before, after) per question."""
        pre, post = self.rounds.get(DrillRound.PRE), self.rounds.get(DrillRound.POST)
        if pre is None or post is None:
            return None
        rows = [(a.position, a.accuracy, b.accuracy) for a, b in zip(pre.questions, post.questions, strict=True)]
        return post.accuracy - pre.accuracy, rows

    def retention(self) -> tuple[float, float] | None:
        """For a delayed re-test: (accuracy when the class last took it, accuracy at the re-test)."""
        retest = self.rounds.get(DrillRound.RETEST)
        last = self.rounds.get(DrillRound.POST) or self.first
        if retest is None or last is None:
            return None
        return last.accuracy, retest.accuracy


def build_report(drill: Drill, answers: Iterable[DrillAnswer], *, students: int) -> DrillReport:
    """Tally the answers per round and question; calibration over every rated answer."""
    answers = list(answers)
    by_round: dict[DrillRound, list[DrillAnswer]] = defaultdict(list)
    for answer in answers:
        by_round[answer.round].append(answer)
    rounds: dict[DrillRound, RoundResult] = {}
    for round_, given in by_round.items():
        tallies: dict[int, list[int]] = defaultdict(lambda: [0, 0])
        per_student: dict[int, list[int]] = defaultdict(lambda: [0, 0])
        for answer in given:
            tallies[answer.position][0] += 1
            tallies[answer.position][1] += int(answer.correct)
            per_student[answer.user_id][0] += 1
            per_student[answer.user_id][1] += int(answer.correct)
        questions = tuple(
            QuestionResult(position=n, question_id=item.question_id, answered=tallies[n][0], correct=tallies[n][1])
            for n, item in enumerate(drill.items)
        )
        scores = [right / drill.total for _, right in per_student.values()]
        rounds[round_] = RoundResult(
            round=round_,
            participants=len(per_student),
            average_score=sum(scores) / len(scores) if scores else 0.0,
            questions=questions,
        )
    rated = [a for a in answers if a.round is not DrillRound.RETEST]
    return DrillReport(drill=drill, students=students, rounds=rounds, calibration=calibration(rated))
