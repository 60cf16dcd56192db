"""Report files from plain values: the CSV rows and a chart that opens, for every accuracy including 0 and 100%."""

from __future__ import annotations

import csv
import io
import random

from PIL import Image

from bot.core.drill import DrillAnswer, DrillId, DrillRound, DrillSpec, create_drill
from bot.core.drill_report import build_report
from bot.core.engine import Confidence
from bot.core.model import QuestionBank
from bot.services.report_files import CHART_SIZE, CSV_COLUMNS, report_chart, report_csv


def answers_for(drill, round_: DrillRound, rights: list[bool], students: int = 3) -> list[DrillAnswer]:
    return [
        DrillAnswer(
            round=round_,
            nickname=f"S{s}",
            user_id=s,
            position=p,
            question_id=item.question_id,
            chosen=0,
            correct=rights[p],
            confidence=Confidence.SURE if s else None,
            elapsed_ms=100,
            answered_at=1e9,
        )
        for s in range(students)
        for p, item in enumerate(drill.items)
    ]


def test_csv_and_chart_for_a_pre_post_pair(small_bank: QuestionBank) -> None:
    drill = create_drill(
        small_bank,
        DrillSpec(count=3, pair=True),
        drill_id=DrillId("d1"),
        code="ABCDEFGH",
        teacher_id=1,
        rng=random.Random(1),
        now=0,
    )
    answers = answers_for(drill, DrillRound.PRE, [False, False, True]) + answers_for(
        drill, DrillRound.POST, [True, False, True]
    )
    report = build_report(drill, answers, students=3)
    gain, rows = report.gain()
    assert round(gain, 3) == round(1 / 3, 3) and [r[0] for r in rows] == [0, 1, 2]
    assert [q.position for q in report.most_missed()] == [0, 1, 2]
    assert report.calibration.rated == 12  # student 0 skipped "how sure"
    table = list(csv.DictReader(io.StringIO(report_csv(report, answers, small_bank))))
    assert len(table) == 18 and tuple(table[0]) == CSV_COLUMNS and table[0]["drill_code"] == "ABCDEFGH"
    image = Image.open(io.BytesIO(report_chart(report)))
    assert image.format == "PNG" and image.size == CHART_SIZE


def test_a_chart_with_no_answers_still_draws(small_bank: QuestionBank) -> None:
    drill = create_drill(
        small_bank,
        DrillSpec(count=2),
        drill_id=DrillId("d2"),
        code="ABCDEFGH",
        teacher_id=1,
        rng=random.Random(1),
        now=0,
    )
    report = build_report(drill, [], students=0)
    assert report.rounds == {} and report.most_missed() == [] and report.gain() is None
    assert Image.open(io.BytesIO(report_chart(report))).size == CHART_SIZE
