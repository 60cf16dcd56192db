"""The learning measures media-literacy studies report: discernment, gain, calibration and item analysis.

Every function takes plain answers and returns frozen figures; nothing here reads storage or renders text.
Undefined figures are None (a rate with no denominator, a correlation over too few people), never 0, so a
report can say "not enough answers yet" instead of showing a misleading zero.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from statistics import NormalDist
from typing import Protocol

from .drill import DrillAnswer, DrillRound
from .engine import Confidence

_Z = NormalDist()

# ---------------------------------------------------------------------------------------------------------------
# Discernment: signal detection on "is this genuine or manipulated?" items.
# ---------------------------------------------------------------------------------------------------------------

MIN_JUDGED = 4  # below this one answer moves H or F by more than 0.25: too coarse to read anything into
DISCERNING_AT = 0.5  # H − F: catches fakes at least half again as often as it doubts genuine items
# |c| in z units. c = ±0.2 with no discernment means saying "fake" (or "genuine") ~58% of the time: a lean a
# student can be told about, while a coin-flipper's sampling noise (|c| ~0.1 over 20 items) stays under it.
LEAN_AT = 0.2


@dataclass(frozen=True, slots=True)
class Judgment:
    """One "genuine or manipulated?" call: what the student said and what the item really is."""

    said_fake: bool
    is_fake: bool


class DiscernmentReading(StrEnum):
    """What the figures say, for a plain-words line."""

    NOT_ENOUGH = "not_enough"  # fewer than MIN_JUDGED calls, or no fake or no genuine item among them
    DISCERNING = "discerning"  # H − F ≥ DISCERNING_AT
    DOUBTS_EVERYTHING = "doubts_everything"  # "careful, not yet discerning": leans to "fake" (c ≤ −LEAN_AT)
    TRUSTS_EVERYTHING = "trusts_everything"  # leans to "genuine" (c ≥ LEAN_AT): lets fakes through
    GUESSING = "guessing"  # below the discerning bar with no clear lean: the calls are not yet reliable


@dataclass(frozen=True, slots=True, kw_only=True)
class Discernment:
    """Counts of the four outcomes and the signal-detection figures over them ("fake" is the signal)."""

    hits: int = 0  # fake, said fake
    misses: int = 0  # fake, said genuine
    false_alarms: int = 0  # genuine, said fake
    correct_rejections: int = 0  # genuine, said genuine

    @property
    def fakes(self) -> int:
        return self.hits + self.misses

    @property
    def genuine(self) -> int:
        return self.false_alarms + self.correct_rejections

    @property
    def judged(self) -> int:
        return self.fakes + self.genuine

    @property
    def hit_rate(self) -> float | None:
        """H: share of fakes caught."""
        return self.hits / self.fakes if self.fakes else None

    @property
    def false_alarm_rate(self) -> float | None:
        """F: share of genuine items called fake."""
        return self.false_alarms / self.genuine if self.genuine else None

    @property
    def discernment(self) -> float | None:
        """H − F: the measure most misinformation studies report; 0 is no better than chance."""
        h, f = self.hit_rate, self.false_alarm_rate
        return None if h is None or f is None else h - f

    def _z_rates(self) -> tuple[float, float] | None:
        # Log-linear correction (Hautus 1995): add 0.5 to each count and 1 to each total, for every student
        # rather than only those at 0 or 1, so a perfect or all-"fake" class gets finite z and every student's
        # figures are biased the same (slightly towards 0) instead of some corrected and some not.
        if not self.fakes or not self.genuine:
            return None
        h = (self.hits + 0.5) / (self.fakes + 1)
        f = (self.false_alarms + 0.5) / (self.genuine + 1)
        return _Z.inv_cdf(h), _Z.inv_cdf(f)

    @property
    def d_prime(self) -> float | None:
        """d′ = z(H′) − z(F′): sensitivity, independent of a lean to either answer."""
        z = self._z_rates()
        return None if z is None else z[0] - z[1]

    @property
    def bias_c(self) -> float | None:
        """c = −(z(H′) + z(F′))/2: below 0 leans to "fake", above 0 to "genuine"."""
        z = self._z_rates()
        return None if z is None else -(z[0] + z[1]) / 2

    @property
    def reading(self) -> DiscernmentReading:
        """Which plain-words line fits (see DiscernmentReading)."""
        discernment, c = self.discernment, self.bias_c
        if self.judged < MIN_JUDGED or discernment is None or c is None:
            return DiscernmentReading.NOT_ENOUGH
        if discernment >= DISCERNING_AT:
            return DiscernmentReading.DISCERNING
        # The lean is read from c, not from F ≥ 0.5 or H ≤ 0.5: a student who catches 8 of 10 fakes but doubts
        # 4 of 10 genuine items (F = 0.4) is the textbook over-sceptical reader, and c (≈ −0.26) says so.
        if c <= -LEAN_AT:
            return DiscernmentReading.DOUBTS_EVERYTHING
        if c >= LEAN_AT:
            return DiscernmentReading.TRUSTS_EVERYTHING
        return DiscernmentReading.GUESSING


def measure_discernment(judgments: Iterable[Judgment]) -> Discernment:
    """Count the four outcomes of a set of genuine-or-manipulated calls."""
    counts = Counter((j.is_fake, j.said_fake) for j in judgments)
    return Discernment(
        hits=counts[True, True],
        misses=counts[True, False],
        false_alarms=counts[False, True],
        correct_rejections=counts[False, False],
    )


# ---------------------------------------------------------------------------------------------------------------
# Gain and retention over a drill's rounds.
# ---------------------------------------------------------------------------------------------------------------


def percent_scores(answers: Iterable[DrillAnswer], *, questions: int) -> dict[int, dict[DrillRound, float]]:
    """Each student's score per round, in percent of the drill's questions (unanswered ones count as wrong)."""
    if questions < 1:
        raise ValueError("a drill has at least one question")
    right: dict[int, dict[DrillRound, int]] = defaultdict(lambda: defaultdict(int))
    for answer in answers:
        right[answer.user_id][answer.round] += int(answer.correct)
    return {student: {round_: 100 * n / questions for round_, n in rounds.items()} for student, rounds in right.items()}


@dataclass(frozen=True, slots=True, kw_only=True)
class StudentGain:
    """One student's percent scores per round and what follows from them."""

    student: int
    pre: float | None = None
    post: float | None = None
    main: float | None = None
    retest: float | None = None

    @property
    def paired(self) -> bool:
        return self.pre is not None and self.post is not None

    @property
    def raw_gain(self) -> float | None:
        """Post − pre, in points."""
        if self.pre is None or self.post is None:
            return None
        return self.post - self.pre

    @property
    def normalized_gain(self) -> float | None:
        """Hake's g = (post − pre)/(100 − pre): the share of the room to improve that was used."""
        if self.pre is None or self.post is None or self.pre >= 100:
            return None
        return (self.post - self.pre) / (100 - self.pre)

    @property
    def learned(self) -> float | None:
        """The score the re-test is compared with: the post-test, or the only round of an unpaired drill."""
        return self.post if self.post is not None else self.main

    @property
    def retention(self) -> float | None:
        """Re-test over the learned score: 1 kept everything."""
        if self.retest is None or not self.learned:
            return None
        return self.retest / self.learned


@dataclass(frozen=True, slots=True, kw_only=True)
class GainReport:
    """Per-student and class gain and retention."""

    students: tuple[StudentGain, ...]  # every student, by id
    both: int  # students with a pre- and a post-test: the only ones gain is computed over
    pre_only: int
    post_only: int
    mean_pre: float | None
    mean_post: float | None
    mean_student_gain: float | None  # mean of per-student g, over `student_gain_count` students
    student_gain_count: int
    retention: float | None  # mean re-test / mean learned score, over `retention_count` students
    retention_count: int

    @property
    def raw_gain(self) -> float | None:
        if self.mean_pre is None or self.mean_post is None:
            return None
        return self.mean_post - self.mean_pre

    @property
    def normalized_gain(self) -> float | None:
        """Class g from the class means (Hake 1998); differs from the mean of per-student g, reported too."""
        if self.mean_pre is None or self.mean_post is None or self.mean_pre >= 100:
            return None
        return (self.mean_post - self.mean_pre) / (100 - self.mean_pre)


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def measure_gain(scores: Mapping[int, Mapping[DrillRound, float]]) -> GainReport:
    """Gain and retention from each student's percent score (0–100) per round."""
    students: list[StudentGain] = []
    for student, rounds in sorted(scores.items()):
        if any(not 0 <= score <= 100 for score in rounds.values()):
            raise ValueError(f"scores are percentages: {student} has {dict(rounds)}")
        students.append(
            StudentGain(
                student=student,
                pre=rounds.get(DrillRound.PRE),
                post=rounds.get(DrillRound.POST),
                main=rounds.get(DrillRound.MAIN),
                retest=rounds.get(DrillRound.RETEST),
            )
        )
    paired = [s for s in students if s.paired]
    gains = [g for s in paired if (g := s.normalized_gain) is not None]
    kept = [(s.learned, s.retest) for s in students if s.learned is not None and s.retest is not None]
    mean_learned = _mean([learned for learned, _ in kept])
    mean_retest = _mean([retest for _, retest in kept])
    return GainReport(
        students=tuple(students),
        both=len(paired),
        pre_only=sum(1 for s in students if s.pre is not None and s.post is None),
        post_only=sum(1 for s in students if s.post is not None and s.pre is None),
        mean_pre=_mean([s.pre for s in paired if s.pre is not None]),
        mean_post=_mean([s.post for s in paired if s.post is not None]),
        mean_student_gain=_mean(gains),
        student_gain_count=len(gains),
        retention=mean_retest / mean_learned if mean_retest is not None and mean_learned else None,
        retention_count=len(kept),
    )


# ---------------------------------------------------------------------------------------------------------------
# Calibration: stated confidence against accuracy, with a guess worth chance on that question.
# ---------------------------------------------------------------------------------------------------------------

MIN_RATED = 5  # under five answers one answer moves accuracy by 20 points or more: no verdict
# Beyond ±10 points stated-minus-actual is a verdict. One answer in ten is 10 points, so a smaller gap is within
# a single answer of a class-sized sample; general-knowledge overconfidence is commonly reported at 10–20 points.
CALIBRATION_TOLERANCE = 0.10
_FLOAT_SLACK = 1e-9  # sums of 0.7s are not exact in binary: a gap of exactly 0.10 must not read as beyond it

_STATED = {Confidence.PROBABLY: 0.7, Confidence.SURE: 0.95}


class RatedChoice(Protocol):
    """An answer with a stated confidence and the number of options its question had."""

    @property
    def confidence(self) -> Confidence | None: ...

    @property
    def correct(self) -> bool: ...

    @property
    def options(self) -> int: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class RatedAnswer:
    """A plain RatedChoice, for callers that join answers with their questions' option counts."""

    confidence: Confidence | None
    correct: bool
    options: int


def stated_probability(confidence: Confidence, options: int) -> float:
    """The chance of being right a confidence level claims: a guess claims chance on that question."""
    if options < 2:
        raise ValueError(f"a question has at least two options, not {options}")
    # Confidence.expected fixes GUESS at 0.4, but a guess on a true/false item is worth 0.5 and on a
    # four-option item 0.25: holding a guesser to 0.4 would call them miscalibrated for guessing honestly.
    return 1 / options if confidence is Confidence.GUESS else _STATED[confidence]


class CalibrationVerdict(StrEnum):
    NOT_ENOUGH = "not_enough"  # fewer than MIN_RATED rated answers
    OVERCONFIDENT = "overconfident"  # stated exceeds actual by more than CALIBRATION_TOLERANCE
    UNDERCONFIDENT = "underconfident"  # actual exceeds stated by more than CALIBRATION_TOLERANCE
    CALIBRATED = "calibrated"


@dataclass(frozen=True, slots=True, kw_only=True)
class ConfidenceLevel:
    """The answers given at one confidence level."""

    confidence: Confidence
    n: int
    right: int
    mean_stated: float

    @property
    def accuracy(self) -> float:
        return self.right / self.n


@dataclass(frozen=True, slots=True, kw_only=True)
class CalibrationMeasure:
    """Stated confidence against accuracy over rated answers; unrated ones are only counted."""

    rated: int
    unrated: int
    mean_stated: float | None
    accuracy: float | None
    brier: float | None  # mean (stated − outcome)²: 0 is perfect, 0.25 is always saying 50%
    levels: tuple[ConfidenceLevel, ...]  # levels used, GUESS to SURE

    @property
    def overconfidence(self) -> float | None:
        """Mean stated minus accuracy: 0.2 is 20 points too sure."""
        if self.mean_stated is None or self.accuracy is None:
            return None
        return self.mean_stated - self.accuracy

    @property
    def verdict(self) -> CalibrationVerdict:
        over = self.overconfidence
        if self.rated < MIN_RATED or over is None:
            return CalibrationVerdict.NOT_ENOUGH
        if over > CALIBRATION_TOLERANCE + _FLOAT_SLACK:
            return CalibrationVerdict.OVERCONFIDENT
        if over < -CALIBRATION_TOLERANCE - _FLOAT_SLACK:
            return CalibrationVerdict.UNDERCONFIDENT
        return CalibrationVerdict.CALIBRATED


def measure_calibration(answers: Iterable[RatedChoice]) -> CalibrationMeasure:
    """Calibration and Brier score over rated answers."""
    unrated = 0
    stated: dict[Confidence, list[tuple[float, bool]]] = defaultdict(list)
    for answer in answers:
        if answer.confidence is None:
            unrated += 1
        else:
            stated[answer.confidence].append((stated_probability(answer.confidence, answer.options), answer.correct))
    pairs = [pair for c in Confidence for pair in stated[c]]
    levels = tuple(
        ConfidenceLevel(
            confidence=c,
            n=len(stated[c]),
            right=sum(1 for _, ok in stated[c] if ok),
            mean_stated=sum(p for p, _ in stated[c]) / len(stated[c]),
        )
        for c in Confidence
        if stated[c]
    )
    return CalibrationMeasure(
        rated=len(pairs),
        unrated=unrated,
        mean_stated=_mean([p for p, _ in pairs]),
        accuracy=_mean([float(ok) for _, ok in pairs]),
        brier=_mean([(p - ok) ** 2 for p, ok in pairs]),
        levels=levels,
    )


# ---------------------------------------------------------------------------------------------------------------
# Item analysis: classical test theory per question.
# ---------------------------------------------------------------------------------------------------------------

MIN_CORRELATED = 5  # a correlation over fewer people swings on one answer
MIN_UPPER_LOWER = 10  # 27% of fewer than 10 is under 3 people per group
UPPER_LOWER_SHARE = 27  # percent per group: Kelley's (1939) split, the most sensitive for normal scores
MIN_FLAGGED = 10  # difficulty flags need 10 answers: at fewer, one answer moves p by over 10 points
TOO_EASY_AT = 0.95  # nearly everyone right: the item tells the teacher nothing about who understood
MIN_SUGGESTED = 30  # at 30 answers p's 95% margin is under ±0.18, well inside a difficulty band's width
# Bank difficulty 1 (easy), 2, 3 (hard) by p, the usual classroom bands: ≥ 0.75 most get it, < 0.45 most miss it.
EASY_AT = 0.75
MEDIUM_AT = 0.45


@dataclass(frozen=True, slots=True)
class Response:
    """One respondent's answer to one question (`chosen` is the authored option index)."""

    respondent: str
    question_id: str
    chosen: int
    correct: bool


class ItemFlag(StrEnum):
    NEGATIVE_DISCRIMINATION = "negative_discrimination"  # strong students miss it more than weak ones
    TOO_EASY = "too_easy"  # p ≥ TOO_EASY_AT with at least MIN_FLAGGED answers
    BELOW_CHANCE = "below_chance"  # p under 1/options with at least MIN_FLAGGED answers: a wrong option pulls


@dataclass(frozen=True, slots=True, kw_only=True)
class ItemStats:
    """One question's figures."""

    question_id: str
    n: int
    right: int
    options: int
    discrimination: float | None  # point-biserial against the rest score
    upper_lower: float | None  # p in the top 27% by rest score minus p in the bottom 27%
    chosen: tuple[int, ...]  # answers per option index, 0..options−1
    most_chosen_wrong: int | None  # lowest index on a tie; None when nobody was wrong

    @property
    def difficulty(self) -> float:
        """p: the share right (higher is easier, as the field defines it)."""
        return self.right / self.n

    @property
    def flags(self) -> frozenset[ItemFlag]:
        flags: set[ItemFlag] = set()
        if self.discrimination is not None and self.discrimination < 0:
            flags.add(ItemFlag.NEGATIVE_DISCRIMINATION)
        if self.n >= MIN_FLAGGED and self.difficulty >= TOO_EASY_AT:
            flags.add(ItemFlag.TOO_EASY)
        if self.n >= MIN_FLAGGED and self.difficulty < 1 / self.options:
            flags.add(ItemFlag.BELOW_CHANCE)
        return frozenset(flags)


def _pearson(xs: list[float], ys: list[float]) -> float | None:
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    if sxx == 0 or syy == 0:
        return None
    return sxy / math.sqrt(sxx * syy)


def analyse_items(responses: Iterable[Response], options_count: Mapping[str, int]) -> dict[str, ItemStats]:
    """Per question (in order of first answer): difficulty, discrimination and how the options were chosen.

    Pass one round's answers: a respondent answering a question twice is an error, not a second data point.
    """
    answers: dict[str, dict[str, Response]] = defaultdict(dict)  # question -> respondent -> response
    by_respondent: dict[str, dict[str, bool]] = defaultdict(dict)
    for r in responses:
        options = options_count[r.question_id]
        if not 0 <= r.chosen < options:
            raise ValueError(f"{r.question_id} has {options} options; {r.respondent} chose {r.chosen}")
        if r.respondent in answers[r.question_id]:
            raise ValueError(f"{r.respondent} answered {r.question_id} twice")
        answers[r.question_id][r.respondent] = r
        by_respondent[r.respondent][r.question_id] = r.correct
    return {qid: _item(qid, given, by_respondent, options_count[qid]) for qid, given in answers.items()}


def _item(qid: str, given: dict[str, Response], by_respondent: dict[str, dict[str, bool]], options: int) -> ItemStats:
    # Rest score: share right on the respondent's other answers. Leaving the item out keeps its own
    # correctness from inflating the correlation, which matters on the short sets a drill has.
    scored: list[tuple[float, str, bool]] = []
    for who, response in given.items():
        rest = [ok for other, ok in by_respondent[who].items() if other != qid]
        if rest:
            scored.append((sum(rest) / len(rest), who, response.correct))
    discrimination = None
    if len(scored) >= MIN_CORRELATED:
        discrimination = _pearson([float(ok) for _, _, ok in scored], [rest for rest, _, _ in scored])
    upper_lower = None
    if len(scored) >= MIN_UPPER_LOWER:
        # Ties at the cut are broken by respondent id: arbitrary but repeatable.
        ranked = sorted(scored)
        k = (UPPER_LOWER_SHARE * len(ranked) + 50) // 100  # rounded half up, unlike round()'s half-to-even
        lower = sum(ok for _, _, ok in ranked[:k]) / k
        upper = sum(ok for _, _, ok in ranked[-k:]) / k
        upper_lower = upper - lower
    chosen = [0] * options
    wrong = [0] * options
    for response in given.values():
        chosen[response.chosen] += 1
        if not response.correct:
            wrong[response.chosen] += 1
    most_wrong = max(wrong)
    return ItemStats(
        question_id=qid,
        n=len(given),
        right=sum(1 for r in given.values() if r.correct),
        options=options,
        discrimination=discrimination,
        upper_lower=upper_lower,
        chosen=tuple(chosen),
        most_chosen_wrong=wrong.index(most_wrong) if most_wrong else None,
    )


def suggest_difficulty(stats: ItemStats, min_answers: int = MIN_SUGGESTED) -> int | None:
    """The bank difficulty (1 easy to 3 hard) the answers suggest, or None under `min_answers` answers."""
    if stats.n < min_answers:
        return None
    if stats.difficulty >= EASY_AT:
        return 1
    if stats.difficulty >= MEDIUM_AT:
        return 2
    return 3
