"""A drill report as files: a CSV with one row per student per question, and a chart of accuracy per question."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from PIL import Image, ImageDraw, ImageFont

from ..core.drill import DrillAnswer, DrillRound
from ..core.drill_report import DrillReport
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
CHART_SIZE = (1000, 560)
ROUND_COLOURS = {
    DrillRound.MAIN: (52, 101, 164),
    DrillRound.PRE: (150, 150, 150),
    DrillRound.POST: (52, 101, 164),
    DrillRound.RETEST: (230, 145, 56),
}


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
                answer.nickname,
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


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow without FreeType: the fixed bitmap font
        return ImageFont.load_default()


def report_chart(report: DrillReport) -> bytes:
    """A PNG bar chart of accuracy per question; each round taken (pre and post, re-test) side by side."""
    width, height = CHART_SIZE
    image = Image.new("RGB", CHART_SIZE, "white")
    draw = ImageDraw.Draw(image)
    title_font, font, small = _font(24), _font(16), _font(13)
    rounds = [r for r in DrillRound if r in report.rounds]
    title = f"Drill {report.drill.code}: share of the class right, per question"
    gain = report.gain()
    if gain is not None:
        title += f"  (gain {gain[0] * 100:+.0f} points)"
    draw.text((30, 18), title, fill="black", font=title_font)
    left, right, top, bottom = 70, width - 30, 80, height - 70
    for percent in range(0, 101, 25):
        y = bottom - (bottom - top) * percent / 100
        draw.line([(left, y), (right, y)], fill=(225, 225, 225))
        draw.text((20, y - 8), f"{percent}%", fill=(90, 90, 90), font=small)
    draw.line([(left, top), (left, bottom), (right, bottom)], fill="black", width=2)
    total = report.drill.total
    slot = (right - left) / max(total, 1)
    bar = slot * 0.8 / max(len(rounds), 1)
    for position in range(total):
        x0 = left + slot * position + slot * 0.1
        for index, round_ in enumerate(rounds):
            result = report.rounds[round_].questions[position]
            if result.answered:
                # A question nobody got right still shows a sliver, so "0%" reads as answered, not missing.
                y = min(bottom - 3, bottom - (bottom - top) * result.accuracy)
                draw.rectangle(
                    [x0 + bar * index, y, x0 + bar * (index + 1) - 2, bottom - 1], fill=ROUND_COLOURS[round_]
                )
        draw.text((x0 + slot * 0.25, bottom + 8), f"Q{position + 1}", fill="black", font=small)
    for index, round_ in enumerate(rounds):
        x = left + 160 * index
        draw.rectangle([x, height - 32, x + 18, height - 14], fill=ROUND_COLOURS[round_])
        label = f"{round_.value} ({report.rounds[round_].accuracy * 100:.0f}%)"
        draw.text((x + 26, height - 33), label, fill="black", font=font)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
