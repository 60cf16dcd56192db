"""A drill report as files for a spreadsheet: one row per answer, and one row per student with their measures.

The chart is drawn in the teacher's language by `bot/i18n/report_chart.py`.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from ..core.drill import DrillAnswer, DrillRound
from ..core.drill_report import DrillReport, StudentResult
from ..core.echo import echo_safe
from ..core.lang import Lang
from ..core.model import QuestionBank

CSV_COLUMNS = (
    "drill_code",
    "round",
    "nickname",
    "question_number",
    "question_id",
    "topic",
    "question",
    "chosen",
    "right_answer",
    "correct",
    "confidence",
    "answered_at_utc",
)


def report_csv(report: DrillReport, answers: list[DrillAnswer], bank: QuestionBank, lang: Lang = Lang.EN) -> str:
    """One row per student per question per round, for a spreadsheet."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for answer in sorted(answers, key=lambda a: (list(DrillRound).index(a.round), a.nickname, a.position)):
        question = bank.get(answer.question_id)
        writer.writerow(
            (
                report.drill.code,
                answer.round.value,
                echo_safe(answer.nickname),  # cleaned when chosen; again here, as every echo is
                answer.position + 1,
                answer.question_id,
                question.topic if question else "",
                question.prompt.get(lang) if question else "",
                question.options[answer.chosen].get(lang) if question else answer.chosen,
                question.options[question.answer].get(lang) if question else "",
                int(answer.correct),
                answer.confidence.value if answer.confidence else "",
                datetime.fromtimestamp(answer.answered_at, UTC).isoformat(timespec="seconds"),
            )
        )
    return out.getvalue()


def _cell(value: float | None, digits: int = 3) -> str:
    # `+ 0.0` turns -0.0 into 0.0, so a zero never prints as "-0.000".
    return "" if value is None else f"{round(value, digits) + 0.0:.{digits}f}"


def students_csv(report: DrillReport) -> str:
    """One row per student: score per round, real-or-fake figures per round, gain, retention and calibration."""
    rounds = list(report.rounds)
    per_round = ("score_pct", "judged", "hit_rate", "false_alarm_rate", "d_prime", "c")
    header = ["drill_code", "nickname"]
    header += [f"{round_.value}_{name}" for round_ in rounds for name in per_round]
    header += [
        "raw_gain_points",
        "normalized_gain",
        "retention",
        "rated_answers",
        "stated_confidence_pct",
        "accuracy_when_rated_pct",
        "overconfidence_points",
        "brier",
    ]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for student in report.student_results:
        writer.writerow([report.drill.code, echo_safe(student.nickname), *_student_cells(student, rounds)])
    return out.getvalue()


def _student_cells(student: StudentResult, rounds: list[DrillRound]) -> list[str]:
    cells: list[str] = []
    for round_ in rounds:
        score = student.scores.get(round_)
        d = student.discernment.get(round_)
        cells += [
            _cell(score, 1),
            str(d.judged) if d is not None else "",
            _cell(d.hit_rate if d is not None else None),
            _cell(d.false_alarm_rate if d is not None else None),
            _cell(d.d_prime if d is not None else None),
            _cell(d.bias_c if d is not None else None),
        ]
    gain, c = student.gain, student.calibration
    over = c.overconfidence
    cells += [
        _cell(gain.raw_gain if gain is not None else None, 1),
        _cell(gain.normalized_gain if gain is not None else None),
        _cell(gain.retention if gain is not None else None),
        str(c.rated),
        _cell(100 * c.mean_stated if c.mean_stated is not None else None, 1),
        _cell(100 * c.accuracy if c.accuracy is not None else None, 1),
        _cell(100 * over if over is not None else None, 1),
        _cell(c.brier),
    ]
    return cells
