"""Discernment, gain, calibration and item analysis, against figures worked out by hand in the comments.

z values come from a standard normal table with linear interpolation, e.g. z(0.7727): Φ(0.74) = 0.77035 and
Φ(0.75) = 0.77337, so z = 0.74 + (0.77273 − 0.77035)/(0.77337 − 0.77035) × 0.01 = 0.7479.
"""

from __future__ import annotations

import pytest

from bot.core.drill import DrillAnswer, DrillRound
from bot.core.engine import Confidence
from bot.core.measures import (
    CalibrationVerdict,
    DiscernmentReading,
    ItemFlag,
    ItemStats,
    Judgment,
    RatedAnswer,
    Response,
    analyse_items,
    measure_calibration,
    measure_discernment,
    measure_gain,
    percent_scores,
    stated_probability,
    suggest_difficulty,
)

PRE, POST, MAIN, RETEST = DrillRound.PRE, DrillRound.POST, DrillRound.MAIN, DrillRound.RETEST
GUESS, PROBABLY, SURE = Confidence.GUESS, Confidence.PROBABLY, Confidence.SURE

# --- discernment -----------------------------------------------------------------------------------------------


def judgments(hits: int, misses: int, false_alarms: int, correct_rejections: int) -> list[Judgment]:
    return (
        [Judgment(said_fake=True, is_fake=True)] * hits
        + [Judgment(said_fake=False, is_fake=True)] * misses
        + [Judgment(said_fake=True, is_fake=False)] * false_alarms
        + [Judgment(said_fake=False, is_fake=False)] * correct_rejections
    )


@pytest.mark.parametrize(
    ("counts", "h", "f", "d_prime", "c", "reading"),
    [
        # The issue's example: 8 of 10 fakes caught, 4 of 10 genuine doubted. H = .8, F = .4, H − F = .4.
        # H' = 8.5/11 = .7727 → z = .7479; F' = 4.5/11 = .4091 → z = −z(.5909) = −.2299
        # (Φ(.22) = .58706, Φ(.23) = .59095). d' = .7479 + .2299 = .9778; c = −(.7479 − .2299)/2 = −.2590.
        ((8, 2, 4, 6), 0.8, 0.4, 0.9778, -0.2590, DiscernmentReading.DOUBTS_EVERYTHING),
        # All-"fake" class, 5 fakes and 5 genuine: H = F = 1. H' = F' = 5.5/6 = .9167 → z = 1.383
        # (Φ(1.38) = .91621, Φ(1.39) = .91774). d' = 0; c = −1.383.
        ((5, 0, 5, 0), 1.0, 1.0, 0.0, -1.383, DiscernmentReading.DOUBTS_EVERYTHING),
        # All-"trust" class: H = F = 0. H' = F' = .5/6 = .0833 → z = −1.383. d' = 0; c = +1.383.
        ((0, 5, 0, 5), 0.0, 0.0, 0.0, 1.383, DiscernmentReading.TRUSTS_EVERYTHING),
        # All right: H = 1, F = 0. d' = 1.383 − (−1.383) = 2.766; c = −(1.383 − 1.383)/2 = 0.
        ((5, 0, 0, 5), 1.0, 0.0, 2.766, 0.0, DiscernmentReading.DISCERNING),
        # All wrong: H = 0, F = 1. d' = −2.766; c = 0. H − F = −1: far from discerning, no lean.
        ((0, 5, 5, 0), 0.0, 1.0, -2.766, 0.0, DiscernmentReading.GUESSING),
        # Lets fakes through: 3 of 10 caught, 1 of 10 doubted. H' = 3.5/11 = .3182 → z = −z(.6818) = −.4728
        # (Φ(.47) = .68082, Φ(.48) = .68439); F' = 1.5/11 = .1364 → z = −z(.8636) = −1.0968
        # (Φ(1.09) = .86214, Φ(1.10) = .86433). d' = −.4728 + 1.0968 = .6240; c = (.4728 + 1.0968)/2 = .7848.
        ((3, 7, 1, 9), 0.3, 0.1, 0.6240, 0.7848, DiscernmentReading.TRUSTS_EVERYTHING),
        # A coin-flipper's slight lean stays under 0.2: H = .6, F = .5. H' = 6.5/11 → z = .2299; F' = .5 → z = 0.
        # d' = .2299; c = −.1150.
        ((6, 4, 5, 5), 0.6, 0.5, 0.2299, -0.1150, DiscernmentReading.GUESSING),
        # Exactly at the discerning bar: 3 of 4 caught, 1 of 4 doubted, H − F = .75 − .25 = .5.
        # H' = 3.5/5 = .7 → z = .5244 (Φ(.52) = .69847, Φ(.53) = .70194); F' = 1.5/5 = .3 → z = −.5244.
        ((3, 1, 1, 3), 0.75, 0.25, 1.0488, 0.0, DiscernmentReading.DISCERNING),
    ],
)
def test_discernment_figures(
    counts: tuple[int, int, int, int], h: float, f: float, d_prime: float, c: float, reading: DiscernmentReading
) -> None:
    d = measure_discernment(judgments(*counts))
    assert (d.hits, d.misses, d.false_alarms, d.correct_rejections) == counts
    assert d.hit_rate == pytest.approx(h)
    assert d.false_alarm_rate == pytest.approx(f)
    assert d.discernment == pytest.approx(h - f)
    assert d.d_prime == pytest.approx(d_prime, abs=1e-3)
    assert d.bias_c == pytest.approx(c, abs=1e-3)
    assert d.reading is reading


def test_the_issue_example_reads_careful_not_discerning() -> None:
    d = measure_discernment(judgments(8, 2, 4, 6))
    assert (d.fakes, d.genuine, d.judged) == (10, 10, 20)
    assert d.discernment == pytest.approx(0.4)
    assert d.reading is DiscernmentReading.DOUBTS_EVERYTHING


@pytest.mark.parametrize(
    "counts",
    [
        (2, 0, 1, 0),  # three calls: under the minimum of four
        (4, 2, 0, 0),  # no genuine item: F and so d' and c are undefined
        (0, 0, 3, 3),  # no fake item
        (0, 0, 0, 0),
    ],
)
def test_too_few_or_one_sided_judgments_are_not_enough(counts: tuple[int, int, int, int]) -> None:
    d = measure_discernment(judgments(*counts))
    assert d.reading is DiscernmentReading.NOT_ENOUGH


def test_rates_and_z_figures_are_none_without_a_denominator() -> None:
    d = measure_discernment(judgments(4, 2, 0, 0))
    assert d.hit_rate == pytest.approx(4 / 6)
    assert d.false_alarm_rate is None
    assert d.discernment is None and d.d_prime is None and d.bias_c is None


# --- gain and retention ------------------------------------------------------------------------------------------


def test_gain_worked_example() -> None:
    report = measure_gain(
        {
            1: {PRE: 40, POST: 70, RETEST: 56},  # raw 30, g = 30/60 = .5, retention 56/70 = .8
            2: {PRE: 50, POST: 60, RETEST: 45},  # raw 10, g = 10/50 = .2, retention 45/60 = .75
            3: {PRE: 100, POST: 90},  # raw −10, g undefined (no room to improve), no re-test
            4: {PRE: 30},  # pre only: left out of gain
            5: {POST: 70, RETEST: 35},  # post only: left out of gain, kept for retention 35/70 = .5
        }
    )
    by_id = {s.student: s for s in report.students}
    assert [s.student for s in report.students] == [1, 2, 3, 4, 5]
    assert by_id[1].raw_gain == 30 and by_id[1].normalized_gain == pytest.approx(0.5)
    assert by_id[2].raw_gain == 10 and by_id[2].normalized_gain == pytest.approx(0.2)
    assert by_id[3].raw_gain == -10 and by_id[3].normalized_gain is None
    assert by_id[4].raw_gain is None and by_id[5].normalized_gain is None
    assert by_id[1].retention == pytest.approx(0.8)
    assert by_id[2].retention == pytest.approx(0.75)
    assert by_id[3].retention is None and by_id[4].retention is None
    assert by_id[5].retention == pytest.approx(0.5)
    assert (report.both, report.pre_only, report.post_only) == (3, 1, 1)
    # Over students 1–3: mean pre = 190/3 = 63.333, mean post = 220/3 = 73.333, raw gain 10,
    # class g = 10/(100 − 63.333) = 30/110 = .272727.
    assert report.mean_pre == pytest.approx(63.3333, abs=1e-4)
    assert report.mean_post == pytest.approx(73.3333, abs=1e-4)
    assert report.raw_gain == pytest.approx(10)
    assert report.normalized_gain == pytest.approx(0.272727, abs=1e-6)
    # Mean of the defined per-student g: (.5 + .2)/2 = .35 over two students.
    assert report.mean_student_gain == pytest.approx(0.35)
    assert report.student_gain_count == 2
    # Students 1, 2 and 5: mean re-test 136/3, mean post 200/3, retention 136/200 = .68.
    assert report.retention == pytest.approx(0.68)
    assert report.retention_count == 3


def test_retention_of_an_unpaired_drill_is_against_its_main_round() -> None:
    # Main 80 → re-test 60 (.75), main 50 → re-test 50 (1.0); class (60 + 50)/(80 + 50) = 110/130 = .846154.
    report = measure_gain({7: {MAIN: 80, RETEST: 60}, 8: {MAIN: 50, RETEST: 50}})
    assert [s.retention for s in report.students] == [pytest.approx(0.75), pytest.approx(1.0)]
    assert report.retention == pytest.approx(0.846154, abs=1e-6)
    assert (report.both, report.mean_pre, report.raw_gain, report.normalized_gain) == (0, None, None, None)


def test_gain_edge_cases() -> None:
    # A post-test of 0 leaves nothing to retain; a class that all started at 100 has no class g.
    report = measure_gain({1: {PRE: 100, POST: 0, RETEST: 0}, 2: {PRE: 100, POST: 100}})
    assert report.students[0].retention is None
    assert report.retention is None and report.retention_count == 1
    assert report.mean_pre == 100 and report.normalized_gain is None
    assert report.mean_student_gain is None and report.student_gain_count == 0
    with pytest.raises(ValueError):
        measure_gain({1: {PRE: 120}})


def test_percent_scores_count_unanswered_questions_as_wrong() -> None:
    def answer(user: int, round_: DrillRound, position: int, correct: bool) -> DrillAnswer:
        return DrillAnswer(
            round=round_,
            nickname=str(user),
            user_id=user,
            position=position,
            question_id=f"q{position}",
            chosen=0,
            correct=correct,
            confidence=None,
            elapsed_ms=0,
            answered_at=0.0,
        )

    answers = [answer(1, PRE, 0, True), answer(1, PRE, 1, False), answer(1, POST, 0, True), answer(1, POST, 1, True)]
    answers += [answer(2, PRE, 0, True)]
    # Four questions: 1 of 4 = 25%, 2 of 4 = 50%; student 2 answered one question of four, right: 25%.
    assert percent_scores(answers, questions=4) == {1: {PRE: 25.0, POST: 50.0}, 2: {PRE: 25.0}}


# --- calibration ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("confidence", "options", "p"),
    [(GUESS, 2, 0.5), (GUESS, 4, 0.25), (GUESS, 3, 1 / 3), (PROBABLY, 4, 0.7), (SURE, 2, 0.95)],
)
def test_a_guess_states_chance_for_its_question(confidence: Confidence, options: int, p: float) -> None:
    assert stated_probability(confidence, options) == pytest.approx(p)


def test_calibration_worked_example_with_mixed_option_counts() -> None:
    answers = [
        RatedAnswer(confidence=GUESS, correct=True, options=2),  # p .5,  (.5 − 1)² = .25
        RatedAnswer(confidence=GUESS, correct=False, options=4),  # p .25, .25² = .0625
        RatedAnswer(confidence=PROBABLY, correct=True, options=4),  # p .7, .3² = .09
        RatedAnswer(confidence=PROBABLY, correct=False, options=4),  # p .7, .7² = .49
        RatedAnswer(confidence=SURE, correct=True, options=3),  # p .95, .05² = .0025
        RatedAnswer(confidence=SURE, correct=True, options=4),  # p .95, .0025
        RatedAnswer(confidence=None, correct=True, options=4),  # unrated: counted, not measured
    ]
    m = measure_calibration(answers)
    assert (m.rated, m.unrated) == (6, 1)
    # Mean stated (.5 + .25 + .7 + .7 + .95 + .95)/6 = 4.05/6 = .675; accuracy 4/6 = .666667;
    # overconfidence .008333; Brier (.25 + .0625 + .09 + .49 + .0025 + .0025)/6 = .8975/6 = .149583.
    assert m.mean_stated == pytest.approx(0.675)
    assert m.accuracy == pytest.approx(0.666667, abs=1e-6)
    assert m.overconfidence == pytest.approx(0.008333, abs=1e-6)
    assert m.brier == pytest.approx(0.149583, abs=1e-6)
    assert m.verdict is CalibrationVerdict.CALIBRATED
    rows = [(lv.confidence, lv.n, lv.right, lv.accuracy, lv.mean_stated) for lv in m.levels]
    assert rows == [
        (GUESS, 2, 1, 0.5, pytest.approx(0.375)),  # (.5 + .25)/2
        (PROBABLY, 2, 1, 0.5, pytest.approx(0.7)),
        (SURE, 2, 2, 1.0, pytest.approx(0.95)),
    ]


@pytest.mark.parametrize(
    ("answers", "brier", "verdict"),
    [
        # All right and sure: stated .95, accuracy 1, −.05 is within ±.10. Brier .05² = .0025.
        ([(SURE, True, 4)] * 5, 0.0025, CalibrationVerdict.CALIBRATED),
        # All wrong at "probably": stated .7, accuracy 0, +.7. Brier .7² = .49.
        ([(PROBABLY, False, 4)] * 5, 0.49, CalibrationVerdict.OVERCONFIDENT),
        # Sure on 5, right on 2: +.55. Brier (2 × .0025 + 3 × .9025)/5 = 2.7125/5 = .5425.
        ([(SURE, True, 4)] * 2 + [(SURE, False, 4)] * 3, 0.5425, CalibrationVerdict.OVERCONFIDENT),
        # Guessing on four-option items and right every time: stated .25, −.75. Brier .75² = .5625.
        ([(GUESS, True, 4)] * 5, 0.5625, CalibrationVerdict.UNDERCONFIDENT),
        # Ten "probably", six right: stated .7, accuracy .6, exactly +.10 is not beyond the tolerance.
        # Brier (6 × .09 + 4 × .49)/10 = 2.5/10 = .25.
        ([(PROBABLY, True, 4)] * 6 + [(PROBABLY, False, 4)] * 4, 0.25, CalibrationVerdict.CALIBRATED),
        # Ten "probably", five right: +.20. Brier (5 × .09 + 5 × .49)/10 = .29.
        ([(PROBABLY, True, 4)] * 5 + [(PROBABLY, False, 4)] * 5, 0.29, CalibrationVerdict.OVERCONFIDENT),
        # Four rated answers, however wrong, are not enough; eight unrated ones do not count towards five.
        ([(SURE, False, 4)] * 4 + [(None, False, 4)] * 8, 0.9025, CalibrationVerdict.NOT_ENOUGH),
    ],
)
def test_calibration_verdicts(
    answers: list[tuple[Confidence | None, bool, int]], brier: float, verdict: CalibrationVerdict
) -> None:
    m = measure_calibration(RatedAnswer(confidence=c, correct=ok, options=n) for c, ok, n in answers)
    assert m.brier == pytest.approx(brier)
    assert m.verdict is verdict


def test_no_rated_answers_leave_every_figure_undefined() -> None:
    m = measure_calibration([RatedAnswer(confidence=None, correct=True, options=2)])
    assert (m.rated, m.unrated, m.levels) == (0, 1, ())
    assert m.mean_stated is None and m.accuracy is None and m.brier is None and m.overconfidence is None
    assert m.verdict is CalibrationVerdict.NOT_ENOUGH


def test_a_one_option_question_is_refused() -> None:
    with pytest.raises(ValueError):
        measure_calibration([RatedAnswer(confidence=GUESS, correct=True, options=1)])


# --- item analysis -------------------------------------------------------------------------------------------------


def matrix(rows: dict[str, str], questions: str) -> list[Response]:
    """Responses from a right/wrong matrix: rows["A"] = "101" is A right on the 1st and 3rd question.

    A right answer chooses option 0, a wrong one option 1.
    """
    return [
        Response(respondent=who, question_id=q, chosen=0 if mark == "1" else 1, correct=mark == "1")
        for who, marks in rows.items()
        for q, mark in zip(questions, marks, strict=True)
    ]


def test_point_biserial_on_a_hand_worked_matrix() -> None:
    rows = {"A": "111", "B": "110", "C": "101", "D": "010", "E": "000"}
    stats = analyse_items(matrix(rows, "xyz"), {"x": 4, "y": 4, "z": 4})
    # x: right 1,1,1,0,0; rest (y, z) 1, .5, .5, .5, 0. Means .6 and .5; deviations .4,.4,.4,−.6,−.6 and
    # .5,0,0,0,−.5. Σdxdy = .2 + .3 = .5; Σdx² = 1.2; Σdy² = .5; r = .5/√.6 = .645497.
    assert stats["x"].discrimination == pytest.approx(0.645497, abs=1e-6)
    # y: right 1,1,0,1,0; rest (x, z) 1, .5, 1, 0, 0. Deviations .4,.4,−.6,.4,−.6 and .5,0,.5,−.5,−.5.
    # Σdxdy = .2 + 0 − .3 − .2 + .3 = 0: uncorrelated, which is 0 and not "unknown".
    assert stats["y"].discrimination == pytest.approx(0.0, abs=1e-12)
    # z: right 1,0,1,0,0; rest (x, y) 1, 1, .5, .5, 0. Means .4 and .6; deviations .6,−.4,.6,−.4,−.4 and
    # .4,.4,−.1,−.1,−.6. Σdxdy = .24 − .16 − .06 + .04 + .24 = .30; Σdx² = 1.2; Σdy² = .70; r = .3/√.84 = .327327.
    assert stats["z"].discrimination == pytest.approx(0.327327, abs=1e-6)
    assert [s.n for s in stats.values()] == [5, 5, 5]
    assert [s.difficulty for s in stats.values()] == [0.6, 0.6, 0.4]
    assert stats["x"].upper_lower is None  # five respondents: under ten
    assert stats["x"].flags == frozenset()


def test_an_item_the_strong_students_miss_is_flagged() -> None:
    rows = {"A": "110", "B": "110", "C": "101", "D": "001", "E": "001"}
    stats = analyse_items(matrix(rows, "xyb"), {"x": 2, "y": 2, "b": 2})
    # b: right 0,0,1,1,1; rest (x, y) 1, 1, .5, 0, 0. Means .6 and .5; deviations −.6,−.6,.4,.4,.4 and
    # .5,.5,0,−.5,−.5. Σdxdy = −.3 − .3 + 0 − .2 − .2 = −1; Σdx² = 1.2; Σdy² = 1; r = −1/√1.2 = −.912871.
    assert stats["b"].discrimination == pytest.approx(-0.912871, abs=1e-6)
    assert stats["b"].flags == frozenset({ItemFlag.NEGATIVE_DISCRIMINATION})


def test_discrimination_needs_five_respondents_with_a_rest_score_and_variance() -> None:
    four = analyse_items(matrix({"A": "11", "B": "10", "C": "01", "D": "00"}, "xy"), {"x": 2, "y": 2})
    assert four["x"].discrimination is None
    everyone_right = analyse_items(
        matrix({"A": "11", "B": "10", "C": "11", "D": "10", "E": "10"}, "xy"), {"x": 2, "y": 2}
    )
    assert everyone_right["x"].discrimination is None  # x is constant
    # F answered only x: no rest score, so only A–D count and that is under five.
    alone = matrix({"A": "11", "B": "10", "C": "01", "D": "00"}, "xy") + matrix({"F": "1"}, "x")
    assert analyse_items(alone, {"x": 2, "y": 2})["x"].discrimination is None


def test_upper_lower_index_and_point_biserial_over_ten_respondents() -> None:
    # Respondent r (0–9) is right on the first r of nine other items, so their rest score is r/9, all distinct.
    # The target t is right for r in {1, 3, 5, 8, 9}. k = 27% of 10 rounded = 3: upper r = 7, 8, 9 → 2/3 right;
    # lower r = 0, 1, 2 → 1/3; index 1/3.
    # Point-biserial against r (scale-free): x deviations ±.5, r deviations from 4.5; Σdxdr = .5 × (−3.5 − 1.5 +
    # .5 + 3.5 + 4.5) − .5 × (−4.5 − 2.5 − .5 + 1.5 + 2.5) = 1.75 + 1.75 = 3.5; Σdx² = 2.5;
    # Σdr² = 2 × (.25 + 2.25 + 6.25 + 12.25 + 20.25) = 82.5; r = 3.5/√206.25 = 3.5/14.3614 = .243709.
    right_on_t = {1, 3, 5, 8, 9}
    rows = {f"r{r}": "1" * r + "0" * (9 - r) + ("1" if r in right_on_t else "0") for r in range(10)}
    questions = "abcdefghit"
    stats = analyse_items(matrix(rows, questions), dict.fromkeys(questions, 4))
    assert stats["t"].upper_lower == pytest.approx(1 / 3)
    assert stats["t"].discrimination == pytest.approx(0.243709, abs=1e-6)
    assert stats["t"].difficulty == 0.5
    assert stats["t"].flags == frozenset()


def answers_to(question: str, chosen: list[int], right: int = 0) -> list[Response]:
    return [
        Response(respondent=f"s{n}", question_id=question, chosen=c, correct=c == right) for n, c in enumerate(chosen)
    ]


def test_option_counts_include_never_chosen_options() -> None:
    # Four options, the right one is 0: chosen twice; option 2 eight times; 1 and 3 never.
    stats = analyse_items(answers_to("q", [0, 0] + [2] * 8), {"q": 4})["q"]
    assert stats.chosen == (2, 0, 8, 0)
    assert stats.most_chosen_wrong == 2
    # p = 2/10 = .2 under chance 1/4 with ten answers: a wrong option pulls.
    assert stats.difficulty == 0.2
    assert stats.flags == frozenset({ItemFlag.BELOW_CHANCE})


@pytest.mark.parametrize(
    ("chosen", "flags", "most_wrong"),
    [
        ([0] * 19 + [3], {ItemFlag.TOO_EASY}, 3),  # p = 19/20 = .95, at the bar
        ([0] * 18 + [3, 3], set(), 3),  # p = .9
        ([0] * 9, set(), None),  # all right but only nine answers; nobody wrong
        ([0] * 5 + [1] * 5 + [2] * 5 + [3] * 5, set(), 1),  # p = .25 is chance, not below it; a tie picks 1
        ([1] * 9, set(), 1),  # p = 0 on nine answers: too few to flag
        ([1] * 10, {ItemFlag.BELOW_CHANCE}, 1),
    ],
)
def test_difficulty_flags(chosen: list[int], flags: set[ItemFlag], most_wrong: int | None) -> None:
    stats = analyse_items(answers_to("q", chosen), {"q": 4})["q"]
    assert stats.flags == flags
    assert stats.most_chosen_wrong == most_wrong
    assert stats.discrimination is None  # nobody answered anything else


def test_bad_responses_are_refused() -> None:
    with pytest.raises(ValueError):
        analyse_items(answers_to("q", [4]), {"q": 4})
    with pytest.raises(ValueError):
        analyse_items(answers_to("q", [0]) + answers_to("q", [1]), {"q": 4})
    with pytest.raises(KeyError):
        analyse_items(answers_to("q", [0]), {"other": 4})


def item(n: int, right: int) -> ItemStats:
    return analyse_items(answers_to("q", [0] * right + [1] * (n - right)), {"q": 2})["q"]


@pytest.mark.parametrize(
    ("n", "right", "min_answers", "expected"),
    [
        (30, 30, 30, 1),
        (40, 30, 30, 1),  # p = .75
        (40, 29, 30, 2),  # p = .725
        (40, 18, 30, 2),  # p = .45
        (40, 17, 30, 3),  # p = .425
        (30, 0, 30, 3),
        (29, 29, 30, None),  # under thirty answers
        (10, 5, 10, 2),  # a caller may lower the bar
    ],
)
def test_suggest_difficulty(n: int, right: int, min_answers: int, expected: int | None) -> None:
    assert suggest_difficulty(item(n, right), min_answers=min_answers) == expected


def test_suggest_difficulty_defaults_to_thirty_answers() -> None:
    assert suggest_difficulty(item(29, 0)) is None
    assert suggest_difficulty(item(30, 0)) == 3
