"""The teacher's report from plain values, figures worked by hand: accuracy, discernment per round, gain,
retention, calibration, what to discuss, both CSV files, and the chart's figures (the same numbers as the text)."""

from __future__ import annotations

import csv
import io
import random

import pytest

from bot.core.drill import Drill, DrillAnswer, DrillId, DrillRound, DrillSpec, create_drill
from bot.core.drill_report import DrillReport, build_report
from bot.core.engine import Confidence
from bot.core.lang import Lang
from bot.core.measures import DiscernmentReading
from bot.core.model import QuestionBank, Verdict
from bot.i18n import translator
from bot.i18n.report_text import chart_data, report_summary
from bot.services.report_files import CSV_COLUMNS, report_csv, students_csv
from tests.core.test_drill_questions import mixed_bank  # noqa: F401  (a fixture)


def judgment_drill(bank: QuestionBank, *, retest: bool = True) -> Drill:
    """A judgment check: 4 judge items (2 genuine, 2 fake), as a pre/post pair with a re-test."""
    drill = create_drill(
        bank,
        DrillSpec(topics=("judgment",), count=4, pair=True, retest_days=7 if retest else None),
        drill_id=DrillId("d1"),
        code="ABCDEFGH",
        teacher_id=1,
        rng=random.Random(3),
        now=0,
    )
    assert drill is not None
    assert (
        sorted(bank.get(i.question_id).verdict for i in drill.items)
        == [Verdict.GENUINE] * 2 + [Verdict.MANIPULATED] * 2
    )
    return drill


def say(bank: QuestionBank, drill: Drill, round_: DrillRound, student: int, says_fake: list[bool], sure=None):
    """One student's answers to every item: True = "manipulated"."""
    answers = []
    for position, (item, fake) in enumerate(zip(drill.items, says_fake, strict=True)):
        question = bank.get(item.question_id)
        chosen = 1 if fake else 0
        answers.append(
            DrillAnswer(
                round=round_,
                nickname=f"S{student}",
                user_id=student,
                position=position,
                question_id=item.question_id,
                chosen=chosen,
                correct=chosen == question.answer,
                confidence=sure,
                elapsed_ms=100,
                answered_at=1e9,
            )
        )
    return answers


def truth(bank: QuestionBank, drill: Drill) -> list[bool]:
    return [bank.get(i.question_id).verdict is Verdict.MANIPULATED for i in drill.items]


@pytest.mark.parametrize(
    ("policy", "accuracy", "hit_rate", "false_alarm_rate", "reading"),
    [
        ("right", 1.0, 1.0, 0.0, DiscernmentReading.DISCERNING),
        ("wrong", 0.0, 0.0, 1.0, DiscernmentReading.GUESSING),
        ("all fake", 0.5, 1.0, 1.0, DiscernmentReading.DOUBTS_EVERYTHING),
        ("all trust", 0.5, 0.0, 0.0, DiscernmentReading.TRUSTS_EVERYTHING),
    ],
)
def test_four_classes_worked_by_hand(
    mixed_bank: QuestionBank,  # noqa: F811
    policy: str,
    accuracy: float,
    hit_rate: float,
    false_alarm_rate: float,
    reading: DiscernmentReading,
) -> None:
    # 5 students x 4 items (2 fakes, 2 genuine): 10 fakes, 10 genuine judged per round.
    drill = judgment_drill(mixed_bank)
    real = truth(mixed_bank, drill)
    says = {
        "right": real,
        "wrong": [not f for f in real],
        "all fake": [True] * 4,
        "all trust": [False] * 4,
    }[policy]
    answers = [a for s in range(5) for a in say(mixed_bank, drill, DrillRound.PRE, s, says)]
    report = build_report(drill, answers, students=5, bank=mixed_bank)
    pre = report.rounds[DrillRound.PRE]
    assert pre.accuracy == accuracy
    d = pre.discernment
    assert (d.fakes, d.genuine) == (10, 10)
    assert (d.hit_rate, d.false_alarm_rate) == (hit_rate, false_alarm_rate)
    # Log-linear: H' = (hits + .5) / 11; all fake: H' = F' = 10.5/11, z = 1.6906, c = -1.690, d' = 0; all wrong:
    # H' = .5/11, F' = 10.5/11: d' = -2 x 1.6906 = -3.381.
    if policy == "all fake":
        assert d.d_prime == pytest.approx(0.0) and d.bias_c == pytest.approx(-1.690, abs=1e-3)
    if policy == "all trust":
        assert d.d_prime == pytest.approx(0.0) and d.bias_c == pytest.approx(1.690, abs=1e-3)
    if policy == "wrong":
        assert d.discernment == -1.0 and d.d_prime == pytest.approx(-3.381, abs=1e-3)
    assert d.reading is reading


def lesson(bank: QuestionBank) -> tuple[Drill, list[DrillAnswer], DrillReport]:
    """4 students. Pre-test: everyone says "fake" to everything (50%). Post-test: S0-S2 all right (100%), S3 still
    says fake to everything (50%). Re-test: S0 and S1 take it, one slip each (75%). S0 rates SURE throughout."""
    drill = judgment_drill(bank)
    real = truth(bank, drill)
    answers: list[DrillAnswer] = []
    for s in range(4):
        answers += say(bank, drill, DrillRound.PRE, s, [True] * 4, Confidence.SURE if s == 0 else None)
    for s in range(3):
        answers += say(bank, drill, DrillRound.POST, s, real, Confidence.SURE if s == 0 else None)
    answers += say(bank, drill, DrillRound.POST, 3, [True] * 4)
    slip = [not real[0], *real[1:]]
    for s in range(2):
        answers += say(bank, drill, DrillRound.RETEST, s, slip)
    return drill, answers, build_report(drill, answers, students=4, bank=bank)


def test_gain_retention_and_calibration_worked_by_hand(mixed_bank: QuestionBank) -> None:  # noqa: F811
    _drill, _answers, report = lesson(mixed_bank)
    assert list(report.rounds) == [DrillRound.PRE, DrillRound.POST, DrillRound.RETEST]  # teaching order
    gain = report.gain_report
    # Pre 50 for all four; post 100, 100, 100, 50: mean 87.5; g = 37.5 / 50 = 0.75; per student 1, 1, 1, 0 -> 0.75.
    assert gain.both == 4 and gain.mean_pre == 50 and gain.mean_post == 87.5
    assert gain.normalized_gain == pytest.approx(0.75) and gain.mean_student_gain == pytest.approx(0.75)
    # Re-test 75 and 75 against post 100 and 100: 0.75 kept, over 2 students.
    assert gain.retention == pytest.approx(0.75) and gain.retention_count == 2
    # Discernment: pre H 1, F 1 (8 fakes and 8 genuine judged); post 8 fakes all caught, 2 of 8 genuine doubted (S3).
    post = report.rounds[DrillRound.POST].discernment
    assert (post.hits, post.fakes, post.false_alarms, post.genuine) == (8, 8, 2, 8)
    # Calibration: S0's 8 rated answers (the re-test is not counted): pre 2 of 4 right, post 4 of 4; stated 0.95.
    assert report.calibration.rated == 8 and report.calibration.accuracy == pytest.approx(0.75)
    assert report.calibration.overconfidence == pytest.approx(0.20)
    # Brier: 6 right (0.05^2) and 2 wrong (0.95^2): (6 * 0.0025 + 2 * 0.9025) / 8 = 1.82 / 8 = 0.2275.
    assert report.calibration.brier == pytest.approx(0.2275)


def test_the_text_names_every_measure_in_each_language(mixed_bank: QuestionBank) -> None:  # noqa: F811
    _, _, report = lesson(mixed_bank)
    t = translator()
    text = report_summary(report, mixed_bank, t, Lang.EN)
    assert text.index("pre-test: 4 answered") < text.index("post-test: 4 answered") < text.index("re-test: 2")
    assert "Pre-test 50% → post-test 88% for the 4 students who took both: +38 points" in text
    assert "normalized gain g = 0.75 for the class, 0.75 on average per student (over 4 of them)" in text
    # The class's post-test: 14 of 16 right (88%); the two re-tested students kept 75 of their 100.
    assert (
        "Re-test 75% (the class's post-test: 88%); the 2 students who took both kept 75% of their post-test score"
        in text
    )
    assert "pre-test: fakes caught 8 of 8 (100%), genuine items doubted 8 of 8 (100%): discernment +0 points" in text
    assert "post-test: fakes caught 8 of 8 (100%), genuine items doubted 2 of 8 (25%): discernment +75 points" in text
    assert "over 8 rated answers: the class expected 95% right and got 75%; Brier score 0.23" in text
    assert "Certain: 6 of 8 right" in text
    assert "What to discuss:" in text and "the wrong answer chosen most: “Fake or unsupported” (4)" in text
    for lang in (Lang.ZH_HANT, Lang.ZH_HANS):
        words = report_summary(report, mixed_bank, t, lang)
        assert "前测" in words or "前測" in words
        assert "d′" in words and "0.75" in words


def test_both_csv_files(mixed_bank: QuestionBank) -> None:  # noqa: F811
    _drill, answers, report = lesson(mixed_bank)
    rows = list(csv.DictReader(io.StringIO(report_csv(report, answers, mixed_bank))))
    assert len(rows) == 4 * 4 + 4 * 4 + 2 * 4 and tuple(rows[0]) == CSV_COLUMNS
    assert [r["round"] for r in rows[:1] + rows[-1:]] == ["pre", "retest"]
    students = {r["nickname"]: r for r in csv.DictReader(io.StringIO(students_csv(report)))}
    assert set(students) == {"S0", "S1", "S2", "S3"}
    s0, s3 = students["S0"], students["S3"]
    assert (s0["pre_score_pct"], s0["post_score_pct"], s0["retest_score_pct"]) == ("50.0", "100.0", "75.0")
    assert (s0["raw_gain_points"], s0["normalized_gain"], s0["retention"]) == ("50.0", "1.000", "0.750")
    assert (s3["post_hit_rate"], s3["post_false_alarm_rate"], s3["normalized_gain"]) == ("1.000", "1.000", "0.000")
    assert s3["retest_score_pct"] == "" and s3["rated_answers"] == "0"
    # S0 post: H' = 2.5/3, F' = 0.5/3: d' = z(.8333) - z(.1667) = 0.967 + 0.967 = 1.935.
    assert float(s0["post_d_prime"]) == pytest.approx(1.935, abs=1e-3) and s0["post_c"] == "0.000"
    assert (s0["rated_answers"], s0["overconfidence_points"]) == ("8", "20.0")


def test_the_chart_shows_the_reports_figures(mixed_bank: QuestionBank) -> None:  # noqa: F811
    _, _, report = lesson(mixed_bank)
    data = chart_data(report, mixed_bank, Lang.EN)
    assert [r.round for r in data.rounds] == [DrillRound.PRE, DrillRound.POST, DrillRound.RETEST]
    post = data.rounds[1]
    assert (post.hit_rate, post.false_alarm_rate, post.judged, post.participants) == (1.0, 0.25, 16, 4)
    assert post.accuracy == tuple(q.accuracy for q in report.rounds[DrillRound.POST].questions)
    assert all(label.startswith(f"Q{n + 1} · ") for n, label in enumerate(data.questions))


def test_no_answers_yet(mixed_bank: QuestionBank) -> None:  # noqa: F811
    drill = judgment_drill(mixed_bank, retest=False)
    report = build_report(drill, [], students=0, bank=mixed_bank)
    assert report.rounds == {} and report.discuss() == [] and report.gain() is None
    assert "Nobody has answered yet." in report_summary(report, mixed_bank, translator(), Lang.EN)
    assert students_csv(report).count("\n") == 1


def test_item_flags_are_named_in_the_report(mixed_bank: QuestionBank) -> None:  # noqa: F811
    # Ten students, all right on the four items: p = 1 with n = 10 flags every item too easy (p >= 0.95, n >= 10).
    # Ten students all saying "fake": the genuine items get 0 right, under chance (1 in 2) -> below chance.
    drill = judgment_drill(mixed_bank)
    real = truth(mixed_bank, drill)
    easy = [a for s in range(10) for a in say(mixed_bank, drill, DrillRound.PRE, s, real)]
    text = report_summary(build_report(drill, easy, students=10, bank=mixed_bank), mixed_bank, translator(), Lang.EN)
    assert "🧪 Item check" in text
    assert text.count("100% right of 10 answers — almost everyone got it right, so it tells you little") == 4
    doubting = [a for s in range(10) for a in say(mixed_bank, drill, DrillRound.PRE, s, [True] * 4)]
    report = build_report(drill, doubting, students=10, bank=mixed_bank)
    text = report_summary(report, mixed_bank, translator(), Lang.EN)
    assert text.count("0% right of 10 answers — fewer right than by chance") == 2
    assert text.count("100% right of 10 answers — almost everyone") == 2
    assert [n for n, _ in report.flagged()] == [0, 1, 2, 3]
