"""Turn view models into text in a language. Shared by the terminal and Telegram so both explain alike.

Adapters differ only in markup: the terminal prints plain text, Telegram sends HTML. `Markup` carries the two
functions that differ (escape and bold); everything said is decided here once.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..core.drill import DrillRound
from ..core.drill_report import DrillReport
from ..core.lang import Lang
from ..core.model import Question, QuestionBank
from ..core.progress import Calibration, Summary
from ..services.views import ProgressView, QuestionView, ResultView, RevealView
from . import Translator

# Below this many points of gap between stated and actual accuracy, calibration counts as good.
CALIBRATION_TOLERANCE = 0.1


@dataclass(frozen=True, slots=True, kw_only=True)
class Markup:
    """How an adapter escapes text, makes it bold and links it."""

    escape: Callable[[str], str]
    bold: Callable[[str], str]
    link: Callable[[str, str], str]  # (escaped text, address)


PLAIN = Markup(escape=lambda s: s, bold=lambda s: s, link=lambda text, url: f"{text} <{url}>")
HTML = Markup(
    escape=lambda s: html.escape(s, quote=False),
    bold=lambda s: f"<b>{s}</b>",
    link=lambda text, url: f'<a href="{html.escape(url, quote=True)}">{text}</a>',
)


_SLOT = "\x00"  # a character no locale string contains


def source_lines(question: Question, lang: Lang, t: Translator, markup: Markup) -> list[str]:
    """Where the answer comes from: the article's words (with the original beside an English rendering) and each
    named source by its name, linked. Shared by every reveal, private and group alike."""
    source = question.source
    lines: list[str] = []
    if source.quote is not None and source.paragraph is not None:
        lines.append(markup.escape(t("quiz.source_article", lang, paragraph=source.paragraph)))
        lines.append(markup.escape(f"“{source.quote.get(lang)}”"))
        if lang is Lang.EN:
            lines.append(markup.escape(f"({source.quote.zh_hant})"))
    for ref in source.refs:
        name = markup.link(markup.escape(ref.name.get(lang)), ref.link)
        # The template is escaped on its own and the already-marked-up name put in after, so a link survives.
        lines.append(markup.escape(t("quiz.source_named", lang, name=_SLOT)).replace(_SLOT, name))
    return lines


def percent(share: float) -> int:
    return round(share * 100)


class Presenter:
    """Text for each step of a quiz, in one language at a time."""

    def __init__(self, t: Translator, bank: QuestionBank, markup: Markup = PLAIN) -> None:
        self.t = t
        self.bank = bank
        self.m = markup

    def topic_title(self, topic_id: str, lang: Lang) -> str:
        topic = self.bank.topic(topic_id)
        return topic.title.get(lang) if topic else topic_id

    def header(self, view: QuestionView, lang: Lang) -> str:
        return self.t(
            "quiz.header",
            lang,
            number=view.position + 1,
            total=view.total,
            topic=self.topic_title(view.question.topic, lang),
            stars=self.t(f"difficulty.{view.question.difficulty}", lang),
        )

    def question(self, view: QuestionView, lang: Lang, *, markers: Sequence[str] | None = None) -> str:
        """Header, prompt and the options as shown, each after its marker (1), 2)... or A, B...)."""
        markers = markers or [f"{n})" for n in range(1, len(view.order) + 1)]
        lines = [self.m.escape(self.header(view, lang)), "", self.m.bold(self.m.escape(view.question.prompt.get(lang)))]
        lines.append("")
        lines += [
            f"  {marker} {self.m.escape(text)}" for marker, text in zip(markers, view.options(lang), strict=False)
        ]
        return "\n".join(lines)

    def source(self, question: Question, lang: Lang) -> list[str]:
        """The article quote and the named sources, as `source_lines` gives them."""
        return source_lines(question, lang, self.t, self.m)

    def reveal(self, reveal: RevealView, lang: Lang, *, with_prompt: bool = True) -> str:
        """Right or wrong, the right answer, the explanation and the article's words."""
        view = reveal.view
        question = view.question
        options = view.options(lang)
        lines: list[str] = []
        if with_prompt:
            lines += [
                self.m.escape(self.header(view, lang)),
                "",
                self.m.bold(self.m.escape(question.prompt.get(lang))),
                "",
            ]
        if reveal.record.correct:
            lines.append(self.m.bold(self.m.escape(self.t("quiz.right", lang))))
            lines.append(self.m.escape(self.t("quiz.right_answer", lang, answer=options[view.answer_shown])))
        else:
            lines.append(self.m.bold(self.m.escape(self.t("quiz.wrong", lang))))
            lines.append(self.m.escape(self.t("quiz.your_choice", lang, answer=options[reveal.chosen_shown])))
            lines.append(
                self.m.bold(self.m.escape(self.t("quiz.right_answer", lang, answer=options[view.answer_shown])))
            )
        if reveal.streak >= 2:
            lines.append(self.m.escape(self.t("quiz.streak", lang, count=reveal.streak)))
        lines += [
            "",
            self.m.bold(self.m.escape(self.t("quiz.why", lang))),
            self.m.escape(question.explanation.get(lang)),
        ]
        source = self.source(question, lang)
        if source:
            lines += ["", *source]
        return "\n".join(lines)

    def calibration(self, calibration: Calibration, lang: Lang) -> list[str]:
        if not calibration.rated:
            return [self.t("calibration.none", lang)]
        line = self.t(
            "calibration.line", lang, expected=percent(calibration.expected), actual=percent(calibration.actual)
        )
        if calibration.overconfidence > CALIBRATION_TOLERANCE:
            verdict = "calibration.over"
        elif calibration.overconfidence < -CALIBRATION_TOLERANCE:
            verdict = "calibration.under"
        else:
            verdict = "calibration.good"
        return [line, self.t(verdict, lang)]

    def summary(self, summary: Summary, lang: Lang) -> list[str]:
        total = summary.total
        lines = [
            self.t(
                "result.score", lang, correct=total.correct, answered=total.answered, percent=percent(total.accuracy)
            ),
            self.t("result.best_streak", lang, count=summary.best_streak),
        ]
        if summary.by_topic:
            lines.append(self.t("result.by_topic", lang))
            lines += [
                self.t(
                    "result.topic_line",
                    lang,
                    topic=self.topic_title(topic, lang),
                    correct=tally.correct,
                    answered=tally.answered,
                )
                for topic, tally in summary.by_topic
            ]
        return lines

    def result(self, result: ResultView, lang: Lang, *, stopped: bool = False) -> str:
        """The result card: score, streak, per-topic results, calibration, and what review will bring back."""
        missed = result.summary.total.answered - result.summary.total.correct
        lines = [self.m.bold(self.m.escape(self.t("result.stopped" if stopped else "result.title", lang))), ""]
        lines += [self.m.escape(line) for line in self.summary(result.summary, lang)]
        lines.append("")
        lines += [self.m.escape(line) for line in self.calibration(result.summary.calibration, lang)]
        lines.append("")
        if missed:
            lines.append(self.m.escape(self.t("result.review", lang, count=missed)))
        else:
            lines.append(self.m.escape(self.t("result.review_none", lang)))
        return "\n".join(lines)

    def progress(self, progress: ProgressView, lang: Lang) -> str:
        """A person's progress over every quiz."""
        lines = [self.m.bold(self.m.escape(self.t("stats.title", lang))), ""]
        if not progress.summary.total.answered:
            lines.append(self.m.escape(self.t("stats.empty", lang)))
            return "\n".join(lines)
        lines.append(self.m.escape(self.t("stats.quizzes", lang, count=progress.quizzes_finished)))
        lines += [self.m.escape(line) for line in self.summary(progress.summary, lang)]
        lines.append("")
        lines += [self.m.escape(line) for line in self.calibration(progress.summary.calibration, lang)]
        lines.append("")
        lines.append(
            self.m.escape(self.t("stats.review", lang, queued=len(progress.review_items), due=progress.review_due))
        )
        return "\n".join(lines)


MISSED_SHOWN = 5


def report_summary(report: DrillReport, bank: QuestionBank, t: Translator, lang: Lang, markup: Markup = PLAIN) -> str:
    """The teacher's report in words: participants, rounds, most missed with why, calibration, gain, retention."""
    m = markup
    lines = [m.bold(m.escape(t("report.title", lang, code=report.drill.code))), ""]
    lines.append(m.escape(t("report.participants", lang, students=report.students)))
    if not report.rounds:
        lines.append(m.escape(t("report.empty", lang)))
        return "\n".join(lines)
    for round_, result in report.rounds.items():
        lines.append(
            m.escape(
                t(
                    "report.round_line",
                    lang,
                    round=t(f"drill.round.{round_.value}", lang),
                    participants=result.participants,
                    average=percent(result.average_score),
                )
            )
        )
    gain = report.gain()
    if gain is not None:
        pre, post = report.rounds[DrillRound.PRE], report.rounds[DrillRound.POST]
        lines.append(
            m.escape(
                t(
                    "report.gain",
                    lang,
                    before=percent(pre.accuracy),
                    after=percent(post.accuracy),
                    gain=f"{gain[0] * 100:+.0f}",
                )
            )
        )
    retention = report.retention()
    if retention is not None:
        lines.append(m.escape(t("report.retention", lang, before=percent(retention[0]), after=percent(retention[1]))))
    if report.calibration.rated:
        lines.append(
            m.escape(
                t(
                    "report.calibration",
                    lang,
                    expected=percent(report.calibration.expected),
                    actual=percent(report.calibration.actual),
                )
            )
        )
    missed = report.most_missed()[:MISSED_SHOWN]
    if missed:
        lines += ["", m.bold(m.escape(t("report.missed_title", lang)))]
        for item in missed:
            question = bank.get(item.question_id)
            prompt = question.prompt.get(lang) if question else item.question_id
            lines.append(
                m.escape(
                    t(
                        "report.missed_line",
                        lang,
                        number=item.position + 1,
                        percent=percent(item.accuracy),
                        prompt=prompt,
                    )
                )
            )
            if question is not None:
                lines.append(m.escape(f"   💡 {question.explanation.get(lang)}"))
    return "\n".join(lines)
