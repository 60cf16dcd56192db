"""Turn view models into text in a language. Shared by the terminal and Telegram so both explain alike.

Adapters differ only in markup: the terminal prints plain text, Telegram sends HTML. `Markup` carries the two
functions that differ (escape and bold); everything said is decided here once.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..core.lang import Lang
from ..core.measures import (
    MIN_RATED,
    CalibrationMeasure,
    CalibrationVerdict,
    Discernment,
    DiscernmentReading,
)
from ..core.model import Question, QuestionBank
from ..core.progress import Summary
from ..services.views import ProgressView, QuestionView, ResultView, RevealView
from . import Translator

CALIBRATION_KEYS = {
    CalibrationVerdict.OVERCONFIDENT: "calibration.over",
    CalibrationVerdict.UNDERCONFIDENT: "calibration.under",
    CalibrationVerdict.CALIBRATED: "calibration.good",
}


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

    def calibration(self, calibration: CalibrationMeasure, lang: Lang) -> list[str]:
        """What the stated confidence was worth, on how many rated answers; a verdict only from MIN_RATED up."""
        if not calibration.rated:
            return [self.t("calibration.none", lang)]
        line = self.t(
            "calibration.line",
            lang,
            rated=calibration.rated,
            count=calibration.rated,  # the plural form: "Of the 1 answer you rated" in English
            expected=percent(calibration.mean_stated or 0.0),
            actual=percent(calibration.accuracy or 0.0),
        )
        verdict = calibration.verdict
        if verdict is CalibrationVerdict.NOT_ENOUGH:
            return [line, self.t("calibration.too_few", lang, needed=MIN_RATED)]
        return [line, self.t(CALIBRATION_KEYS[verdict], lang)]

    def discernment(self, discernment: Discernment, lang: Lang, *, who: str = "you") -> list[str]:
        """Real-or-fake in plain words, once there are enough judge items; the habit to practise next for a learner."""
        if discernment.reading is DiscernmentReading.NOT_ENOUGH:
            return []
        lines = [
            self.t(
                f"measure.discern.{who}",
                lang,
                hits=discernment.hits,
                fakes=discernment.fakes,
                false_alarms=discernment.false_alarms,
                genuine=discernment.genuine,
            ),
            self.t(f"measure.reading.{discernment.reading.value}", lang),
        ]
        if who == "you":
            lines.append(self.t(f"measure.habit.{discernment.reading.value}", lang))
        return lines

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

    def result(
        self, result: ResultView, lang: Lang, *, stopped: bool = False, review_key: str = "result.review"
    ) -> str:
        """The result card: score, streak, per-topic results, calibration, and what review will bring back.
        `review_key` says how to review in this adapter (the terminal has no /review command)."""
        missed = result.summary.total.answered - result.summary.total.correct
        lines = [self.m.bold(self.m.escape(self.t("result.stopped" if stopped else "result.title", lang))), ""]
        lines += [self.m.escape(line) for line in self.summary(result.summary, lang)]
        lines.append("")
        lines += [self.m.escape(line) for line in self.calibration(result.summary.calibration, lang)]
        lines += [self.m.escape(line) for line in self.discernment(result.summary.discernment, lang)]
        lines.append("")
        if missed:
            lines.append(self.m.escape(self.t(review_key, lang, count=missed)))
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
        lines += [self.m.escape(line) for line in self.discernment(progress.summary.discernment, lang)]
        lines.append("")
        lines.append(
            self.m.escape(
                self.t(
                    "stats.review",
                    lang,
                    queued=len(progress.review_items),
                    due=progress.review_due,
                    count=len(progress.review_items),  # the plural form: "1 question" in English
                )
            )
        )
        return "\n".join(lines)
