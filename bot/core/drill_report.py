"""What a class learned in a drill: the teacher's report, computed from answers and the bank alone.

Accuracy alone can't tell learning from "say fake to everything", so the report also carries discernment on the
judge items per round (fakes caught against genuine items doubted), normalized gain and retention, calibration
against each question's chance, and item analysis; the figures come from `measures.py`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .drill import Drill, DrillAnswer, DrillRound
from .measures import (
    CalibrationMeasure,
    Discernment,
    GainReport,
    ItemFlag,
    ItemStats,
    Judgment,
    RatedAnswer,
    Response,
    StudentGain,
    analyse_items,
    measure_calibration,
    measure_discernment,
    measure_gain,
)
from .model import QuestionBank

# The order a class meets the rounds in, which is the order a report lists them.
TEACHING_ORDER = (DrillRound.PRE, DrillRound.MAIN, DrillRound.POST, DrillRound.RETEST)
DISCUSS_SHOWN = 5  # "what to discuss": enough for one lesson


@dataclass(frozen=True, slots=True, kw_only=True)
class QuestionResult:
    """How the class did on one question in one round, and which options it chose (authored order)."""

    position: int
    question_id: str
    answered: int
    correct: int
    chosen: tuple[int, ...] = ()  # answers per option
    answer: int = 0  # the right option's authored index

    @property
    def accuracy(self) -> float:
        return self.correct / self.answered if self.answered else 0.0

    @property
    def top_wrong(self) -> tuple[int, int] | None:
        """(authored option, how many chose it) of the wrong option chosen most; None when nobody chose wrong."""
        wrong = [(count, -option) for option, count in enumerate(self.chosen) if count and option != self.answer]
        if not wrong:
            return None
        count, option = max(wrong)
        return -option, count


@dataclass(frozen=True, slots=True, kw_only=True)
class RoundResult:
    """One round: who took part, how each question went, and discernment on its judge items."""

    round: DrillRound
    participants: int
    average_score: float  # mean over students of their share of right answers
    questions: tuple[QuestionResult, ...]  # in question order, every question of the drill
    discernment: Discernment

    @property
    def accuracy(self) -> float:
        answered = sum(q.answered for q in self.questions)
        return sum(q.correct for q in self.questions) / answered if answered else 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class StudentResult:
    """One student across the rounds: the second sheet of the report."""

    user_id: int
    nickname: str
    scores: dict[DrillRound, float]  # percent of the drill's questions, per round taken
    discernment: dict[DrillRound, Discernment]  # per round taken
    gain: StudentGain | None
    calibration: CalibrationMeasure


@dataclass(frozen=True, slots=True, kw_only=True)
class DiscussItem:
    """A question worth talking about in class, and why."""

    result: QuestionResult
    stats: ItemStats | None
    missed: bool  # among the most missed
    negative: bool  # the stronger students missed it more than the weaker ones


@dataclass(frozen=True, slots=True, kw_only=True)
class DrillReport:
    """The teacher's report: participation, accuracy, discernment, gain, retention, calibration, item analysis."""

    drill: Drill
    students: int
    rounds: dict[DrillRound, RoundResult]  # in teaching order
    calibration: CalibrationMeasure
    gain_report: GainReport
    items: dict[str, ItemStats]  # by question id, over every round's answers
    student_results: tuple[StudentResult, ...]  # by nickname

    @property
    def first(self) -> RoundResult | None:
        """The round the class took first (the pre-test, or main)."""
        return self.rounds.get(DrillRound.PRE) or self.rounds.get(DrillRound.MAIN)

    @property
    def judged(self) -> bool:
        """Whether any round had judge items answered."""
        return any(r.discernment.judged for r in self.rounds.values())

    def most_missed(self) -> list[QuestionResult]:
        """The first round's questions, worst first (what to talk about next)."""
        first = self.first
        if first is None:
            return []
        return sorted((q for q in first.questions if q.answered), key=lambda q: (q.accuracy, q.position))

    def discuss(self, limit: int = DISCUSS_SHOWN) -> list[DiscussItem]:
        """The most missed questions of the first round, then any with negative discrimination."""
        first = self.first
        if first is None:
            return []
        missed = [q for q in self.most_missed() if q.accuracy < 1][:limit]
        negative = [
            q
            for q in first.questions
            if q not in missed and ItemFlag.NEGATIVE_DISCRIMINATION in self._flags(q.question_id)
        ]
        return [
            DiscussItem(
                result=q,
                stats=self.items.get(q.question_id),
                missed=q in missed,
                negative=ItemFlag.NEGATIVE_DISCRIMINATION in self._flags(q.question_id),
            )
            for q in missed + negative
        ]

    def flagged(self) -> list[tuple[int, ItemStats]]:
        """(position, figures) of the questions whose item analysis raised a flag, in question order."""
        return [
            (n, stats)
            for n, item in enumerate(self.drill.items)
            if (stats := self.items.get(item.question_id)) is not None and stats.flags
        ]

    def _flags(self, question_id: str) -> frozenset[ItemFlag]:
        stats = self.items.get(question_id)
        return stats.flags if stats is not None else frozenset()

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


def _judgments(answers: Iterable[DrillAnswer], bank: QuestionBank) -> list[Judgment]:
    judgments = []
    for answer in answers:
        question = bank.get(answer.question_id)
        said_fake = question.says_manipulated(answer.chosen) if question is not None else None
        if question is not None and said_fake is not None:
            judgments.append(Judgment(said_fake=said_fake, is_fake=question.says_manipulated(question.answer) is True))
    return judgments


def _rated(answers: Iterable[DrillAnswer], bank: QuestionBank) -> list[RatedAnswer]:
    rated = []
    for answer in answers:
        question = bank.get(answer.question_id)
        if question is not None:
            rated.append(
                RatedAnswer(confidence=answer.confidence, correct=answer.correct, options=len(question.options))
            )
    return rated


def _round_result(drill: Drill, round_: DrillRound, given: Sequence[DrillAnswer], bank: QuestionBank) -> RoundResult:
    tallies: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    chosen: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    per_student: dict[int, int] = defaultdict(int)
    for answer in given:
        tallies[answer.position][0] += 1
        tallies[answer.position][1] += int(answer.correct)
        chosen[answer.position][answer.chosen] += 1
        per_student[answer.user_id] += int(answer.correct)
    questions = []
    for n, item in enumerate(drill.items):
        question = bank.get(item.question_id)
        options = len(question.options) if question is not None else max(chosen[n], default=-1) + 1
        questions.append(
            QuestionResult(
                position=n,
                question_id=item.question_id,
                answered=tallies[n][0],
                correct=tallies[n][1],
                chosen=tuple(chosen[n].get(option, 0) for option in range(options)),
                answer=question.answer if question is not None else 0,
            )
        )
    scores = [right / drill.total for right in per_student.values()]
    return RoundResult(
        round=round_,
        participants=len(per_student),
        average_score=sum(scores) / len(scores) if scores else 0.0,
        questions=tuple(questions),
        discernment=measure_discernment(_judgments(given, bank)),
    )


def build_report(drill: Drill, answers: Iterable[DrillAnswer], *, students: int, bank: QuestionBank) -> DrillReport:
    """Tally the answers per round and question; every measure the report shows."""
    answers = list(answers)
    by_round: dict[DrillRound, list[DrillAnswer]] = defaultdict(list)
    by_student: dict[int, list[DrillAnswer]] = defaultdict(list)
    for answer in answers:
        by_round[answer.round].append(answer)
        by_student[answer.user_id].append(answer)
    rounds = {r: _round_result(drill, r, by_round[r], bank) for r in TEACHING_ORDER if r in by_round}
    scores: dict[int, dict[DrillRound, float]] = {
        student: {
            r: 100 * sum(a.correct for a in given if a.round is r) / drill.total for r in {a.round for a in given}
        }
        for student, given in by_student.items()
    }
    gain_report = measure_gain(scores)
    gains = {g.student: g for g in gain_report.students}
    options: dict[str, int] = {item.question_id: _options(bank, item.question_id, answers) for item in drill.items}
    responses = [
        Response(
            respondent=f"{a.user_id}:{a.round.value}", question_id=a.question_id, chosen=a.chosen, correct=a.correct
        )
        for a in answers
    ]
    # Confidence is asked before the reveal; a re-test is rated too, but against a class that has seen the answers,
    # so the class's calibration is read from the rounds before it (as it always was).
    rated = [a for a in answers if a.round is not DrillRound.RETEST]
    student_results = tuple(
        sorted(
            (
                StudentResult(
                    user_id=student,
                    nickname=given[0].nickname,
                    scores={r: scores[student][r] for r in TEACHING_ORDER if r in scores[student]},
                    discernment={
                        r: measure_discernment(_judgments([a for a in given if a.round is r], bank))
                        for r in TEACHING_ORDER
                        if r in scores[student]
                    },
                    gain=gains.get(student),
                    calibration=measure_calibration(
                        _rated([a for a in given if a.round is not DrillRound.RETEST], bank)
                    ),
                )
                for student, given in by_student.items()
            ),
            key=lambda s: (s.nickname.casefold(), s.user_id),
        )
    )
    return DrillReport(
        drill=drill,
        students=students,
        rounds=rounds,
        calibration=measure_calibration(_rated(rated, bank)),
        gain_report=gain_report,
        items=analyse_items(responses, options),
        student_results=student_results,
    )


def _options(bank: QuestionBank, question_id: str, answers: Sequence[DrillAnswer]) -> int:
    """A question's number of options; for one since removed from the bank, enough to hold every answer given."""
    question = bank.get(question_id)
    given = max((a.chosen for a in answers if a.question_id == question_id), default=0) + 1
    return max(len(question.options), given) if question is not None else given
