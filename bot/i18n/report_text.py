"""The teacher's report in words, and the chart's figures: one place decides what a report says, in every language.

Shared by `/report CODE` and `python -m bot report CODE`. The learning measures come from `core/measures.py` via
`DrillReport`; this module only words them, with the number of answers each figure rests on.
"""

from __future__ import annotations

from ..core.drill_report import DrillReport, RoundResult
from ..core.engine import Confidence
from ..core.lang import Lang
from ..core.measures import MIN_RATED, CalibrationMeasure, Discernment
from ..core.model import QuestionBank
from . import Translator
from .present import PLAIN, Markup, percent
from .report_chart import ChartData, ChartRound

QUESTION_LABEL_CHARS = 14  # enough of a prompt to say which question it is under a bar


def _signed(value: float) -> str:
    return f"{value:+.0f}"


def _number(value: float | None, digits: int = 2) -> str:
    # `+ 0.0` turns -0.0 into 0.0, so a zero never prints as "-0.00".
    return "–" if value is None else f"{round(value, digits) + 0.0:.{digits}f}"


def discern_counts(discernment: Discernment) -> dict[str, int]:
    """The counts a real-or-fake line names."""
    return {
        "hits": discernment.hits,
        "fakes": discernment.fakes,
        "false_alarms": discernment.false_alarms,
        "genuine": discernment.genuine,
    }


def reading(discernment: Discernment, t: Translator, lang: Lang) -> str:
    return t(f"measure.reading.{discernment.reading.value}", lang)


def calibration_levels(calibration: CalibrationMeasure, t: Translator, lang: Lang) -> str:
    """ "Certain: 7 of 10 right · Fairly sure: ..." in the order the levels are offered, most sure first."""
    parts = [
        t(
            "report.calibration_level",
            lang,
            level=t(f"confidence.{level.confidence.value}", lang),
            right=level.right,
            n=level.n,
        )
        for confidence in reversed(Confidence)
        for level in calibration.levels
        if level.confidence is confidence and level.n
    ]
    return " · ".join(parts)


def _round_name(round_: RoundResult, t: Translator, lang: Lang) -> str:
    return t(f"drill.round.{round_.round.value}", lang)


def report_summary(report: DrillReport, bank: QuestionBank, t: Translator, lang: Lang, markup: Markup = PLAIN) -> str:
    """Participation per round, gain, retention, discernment, calibration and what to discuss, with their bases."""
    m = markup
    lines = [m.bold(m.escape(t("report.title", lang, code=report.drill.code))), ""]
    lines.append(m.escape(t("report.participants", lang, students=report.students)))
    if not report.rounds:
        lines.append(m.escape(t("report.empty", lang)))
        return "\n".join(lines)
    lines.append(m.escape(t("report.round_title", lang)))
    for result in report.rounds.values():
        lines.append(
            m.escape(
                t(
                    "report.round_line",
                    lang,
                    round=_round_name(result, t, lang),
                    participants=result.participants,
                    average=percent(result.average_score),
                )
            )
        )
    lines.append("")
    lines += [m.escape(line) for line in _gain_lines(report, t, lang)]
    if report.judged:
        lines += ["", m.bold(m.escape(t("report.discern_title", lang)))]
        for result in report.rounds.values():
            d = result.discernment
            if not d.judged:
                continue
            lines.append(
                m.escape(
                    t(
                        "report.discern_line",
                        lang,
                        round=_round_name(result, t, lang),
                        hit_rate=percent(d.hit_rate or 0.0),
                        false_alarm_rate=percent(d.false_alarm_rate or 0.0),
                        discernment=_signed(100 * (d.discernment or 0.0)),
                        d_prime=_number(d.d_prime),
                        bias=_number(d.bias_c),
                        reading=reading(d, t, lang),
                        **discern_counts(d),
                    )
                )
            )
        lines.append(m.escape(t("report.discern_note", lang)))
    lines += ["", *(m.escape(line) for line in _calibration_lines(report.calibration, t, lang))]
    lines += _discuss_lines(report, bank, t, lang, m)
    lines += _flag_lines(report, t, lang, m)
    return "\n".join(lines)


def _flag_lines(report: DrillReport, t: Translator, lang: Lang, m: Markup) -> list[str]:
    """Item analysis: every flag a question raised, so a teacher can drop or reword it next time."""
    flagged = report.flagged()
    if not flagged:
        return []
    lines = ["", m.bold(m.escape(t("report.items_title", lang)))]
    for position, stats in flagged:
        reasons = "; ".join(
            t(f"report.flag.{flag.value}", lang, r=_number(stats.discrimination)) for flag in sorted(stats.flags)
        )
        lines.append(
            m.escape(
                t(
                    "report.item_line",
                    lang,
                    position=position + 1,
                    percent=percent(stats.difficulty),
                    count=stats.n,
                    reasons=reasons,
                )
            )
        )
    return lines


def _gain_lines(report: DrillReport, t: Translator, lang: Lang) -> list[str]:
    lines = []
    gain = report.gain_report
    if report.drill.spec.pair:
        if gain.both and gain.mean_pre is not None and gain.mean_post is not None:
            lines.append(
                t(
                    "report.gain",
                    lang,
                    before=round(gain.mean_pre),
                    after=round(gain.mean_post),
                    gain=_signed(gain.raw_gain or 0.0),
                    g=_number(gain.normalized_gain),
                    student_g=_number(gain.mean_student_gain),
                    count=gain.both,
                    per_student=gain.student_gain_count,
                )
            )
        else:
            lines.append(t("report.gain_none", lang, pre_only=gain.pre_only, post_only=gain.post_only))
    retention = report.retention()
    if retention is not None and gain.retention is not None:
        lines.append(
            t(
                "report.retention",
                lang,
                before=percent(retention[0]),
                after=percent(retention[1]),
                kept=percent(gain.retention),
                count=gain.retention_count,
            )
        )
    return lines


def _calibration_lines(calibration: CalibrationMeasure, t: Translator, lang: Lang) -> list[str]:
    if calibration.rated < MIN_RATED:
        return [t("report.calibration_too_few", lang, count=calibration.rated, needed=MIN_RATED)]
    return [
        t(
            "report.calibration",
            lang,
            count=calibration.rated,
            expected=percent(calibration.mean_stated or 0.0),
            actual=percent(calibration.accuracy or 0.0),
            brier=_number(calibration.brier),
        ),
        t("report.calibration_levels", lang, levels=calibration_levels(calibration, t, lang)),
    ]


def _discuss_lines(report: DrillReport, bank: QuestionBank, t: Translator, lang: Lang, m: Markup) -> list[str]:
    items = report.discuss()
    if not items:
        return []
    lines = ["", m.bold(m.escape(t("report.missed_title", lang)))]
    for number, item in enumerate(items, 1):
        result = item.result
        question = bank.get(result.question_id)
        prompt = question.prompt.get(lang) if question else result.question_id
        if item.missed:
            top = result.top_wrong
            wrong = question.options[top[0]].get(lang) if question is not None and top is not None else "–"
            lines.append(
                m.escape(
                    t(
                        "report.missed_line",
                        lang,
                        number=number,
                        position=result.position + 1,
                        percent=percent(result.accuracy),
                        wrong=wrong,
                        count=top[1] if top is not None else 0,
                        prompt=prompt,
                    )
                )
            )
            if question is not None:
                lines.append(m.escape(f"   💡 {question.explanation.get(lang)}"))
        else:
            r = item.stats.discrimination if item.stats is not None else None
            lines.append(
                m.escape(
                    t(
                        "report.negative_line",
                        lang,
                        number=number,
                        position=result.position + 1,
                        r=_number(r),
                        prompt=prompt,
                    )
                )
            )
    return lines


def question_label(report: DrillReport, bank: QuestionBank, position: int, lang: Lang) -> str:
    """ "Q3 · the start of its prompt": enough to say which question a bar is."""
    question = bank.get(report.drill.items[position].question_id)
    if question is None:
        return f"Q{position + 1}"
    prompt = " ".join(question.prompt.get(lang).split())
    short = prompt if len(prompt) <= QUESTION_LABEL_CHARS else prompt[: QUESTION_LABEL_CHARS - 1] + "…"
    return f"Q{position + 1} · {short}"


def chart_data(report: DrillReport, bank: QuestionBank, lang: Lang) -> ChartData:
    """The chart's figures, read off the report (so the chart and the text can't disagree)."""
    rounds = tuple(
        ChartRound(
            round=result.round,
            accuracy=tuple(q.accuracy if q.answered else None for q in result.questions),
            participants=result.participants,
            hit_rate=result.discernment.hit_rate if result.discernment.judged else None,
            false_alarm_rate=result.discernment.false_alarm_rate if result.discernment.judged else None,
            judged=result.discernment.judged,
        )
        for result in report.rounds.values()
    )
    labels = tuple(question_label(report, bank, n, lang) for n in range(report.drill.total))
    return ChartData(code=report.drill.code, questions=labels, rounds=rounds)
