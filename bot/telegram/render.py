"""What the bot sends: view models to HTML text and inline keyboards. Every Telegram rendering decision is here.

Options are lettered in the message text and the buttons carry the letters: long options stay readable (a
button label is cut to one line on phones) and the keyboard stays small.
"""

from __future__ import annotations

from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from ..core.engine import Confidence
from ..core.lang import Lang
from ..core.model import QuestionBank
from ..i18n import Translator
from ..i18n.present import HTML, Presenter
from ..services.views import ProgressView, QuestionView, ResultView, RevealView
from . import callbacks as cb
from .callbacks import MenuItem

LETTERS = "ABCDEFGHIJKL"  # 12: the most options a question may have
LANGS_SHOWN = (Lang.ZH_HANT, Lang.ZH_HANS, Lang.EN)


@dataclass(frozen=True, slots=True)
class Rendered:
    """A message to send or edit to: HTML text and an optional keyboard."""

    text: str
    markup: InlineKeyboardMarkup | None = None


class Renderer:
    """Turns service views into Telegram messages in one language at a time."""

    def __init__(self, t: Translator, bank: QuestionBank) -> None:
        self.t = t
        self.bank = bank
        self.present = Presenter(t, bank, HTML)

    def _markers(self, view: QuestionView, chosen: int | None = None) -> list[str]:
        return [f"{'👉 ' if n == chosen else ''}<b>{LETTERS[n]}.</b>" for n in range(len(view.order))]

    def question(self, view: QuestionView, lang: Lang) -> Rendered:
        buttons = [
            InlineKeyboardButton(LETTERS[n], callback_data=cb.answer(view.session_id, view.position, n))
            for n in range(len(view.order))
        ]
        rows = [buttons[i : i + 4] for i in range(0, len(buttons), 4)]
        return Rendered(self.present.question(view, lang, markers=self._markers(view)), InlineKeyboardMarkup(rows))

    def rating(self, view: QuestionView, lang: Lang) -> Rendered:
        """The question with the choice marked, asking how sure the person is."""
        text = self.present.question(view, lang, markers=self._markers(view, view.pending_shown))
        text += "\n\n" + self.present.m.bold(self.present.m.escape(self.t("quiz.confidence_question", lang)))

        def button(level: Confidence | None, key: str) -> InlineKeyboardButton:
            return InlineKeyboardButton(
                self.t(key, lang), callback_data=cb.confidence(view.session_id, view.position, level)
            )

        rows = [
            [
                button(Confidence.GUESS, "confidence.guess"),
                button(Confidence.PROBABLY, "confidence.probably"),
                button(Confidence.SURE, "confidence.sure"),
            ],
            [button(None, "confidence.skip")],
        ]
        return Rendered(text, InlineKeyboardMarkup(rows))

    def reveal(self, reveal: RevealView, lang: Lang) -> Rendered:
        view = reveal.view
        key = "quiz.finish" if reveal.is_last else "quiz.next"
        markup = InlineKeyboardMarkup(
            [[InlineKeyboardButton(self.t(key, lang), callback_data=cb.next_step(view.session_id, view.position))]]
        )
        return Rendered(self.present.reveal(reveal, lang), markup)

    def step(self, step: QuestionView | RevealView, lang: Lang) -> Rendered:
        """Whatever the current step of a quiz looks like."""
        if isinstance(step, RevealView):
            return self.reveal(step, lang)
        return self.rating(step, lang) if step.pending_shown is not None else self.question(step, lang)

    def result(self, result: ResultView, lang: Lang, *, stopped: bool = False) -> Rendered:
        rows = [
            [InlineKeyboardButton(self.t("quiz.again", lang), callback_data=cb.menu(MenuItem.QUICK))],
            [
                InlineKeyboardButton(self.t("menu.review", lang), callback_data=cb.menu(MenuItem.REVIEW)),
                InlineKeyboardButton(self.t("menu.stats", lang), callback_data=cb.menu(MenuItem.STATS)),
            ],
        ]
        return Rendered(self.present.result(result, lang, stopped=stopped), InlineKeyboardMarkup(rows))

    def progress(self, progress: ProgressView, lang: Lang) -> Rendered:
        rows = [[InlineKeyboardButton(self.t("menu.quick", lang), callback_data=cb.menu(MenuItem.QUICK))]]
        if progress.review_items:
            rows[0].append(InlineKeyboardButton(self.t("menu.review", lang), callback_data=cb.menu(MenuItem.REVIEW)))
        return Rendered(self.present.progress(progress, lang), InlineKeyboardMarkup(rows))

    def menu(self, lang: Lang) -> InlineKeyboardMarkup:
        def button(item: MenuItem) -> InlineKeyboardButton:
            return InlineKeyboardButton(self.t(f"menu.{item.value}", lang), callback_data=cb.menu(item))

        return InlineKeyboardMarkup(
            [
                [button(MenuItem.QUICK), button(MenuItem.TOPICS)],
                [button(MenuItem.REVIEW), button(MenuItem.STATS)],
                [button(MenuItem.LANG)],
            ]
        )

    def greeting(self, name: str, lang: Lang) -> Rendered:
        text = self.t("start.greeting", lang, name=self.present.m.escape(name), tagline=self.t("app.tagline", lang))
        return Rendered(text, self.menu(lang))

    def _topic_keyboard(self, lang: Lang) -> InlineKeyboardMarkup:
        rows = [
            [
                InlineKeyboardButton(
                    self.t("topics.button", lang, title=topic.title.get(lang), count=len(self.bank.in_topic(topic.id))),
                    callback_data=cb.topic(topic.id),
                )
            ]
            for topic in self.bank.topics
        ]
        return InlineKeyboardMarkup(rows)

    def topics(self, lang: Lang) -> Rendered:
        return Rendered(self.present.m.escape(self.t("topics.choose", lang)), self._topic_keyboard(lang))

    def unknown_topic(self, wanted: str, lang: Lang) -> Rendered:
        """A topic the bank does not have: say so, name the ones it has, and offer them as buttons."""
        names = ", ".join(topic.id for topic in self.bank.topics)
        text = self.present.m.escape(self.t("quiz.unknown_topic", lang, topic=wanted, topics=names))
        return Rendered(text, self._topic_keyboard(lang))

    def languages(self, lang: Lang) -> Rendered:
        row = [
            InlineKeyboardButton(self.t("lang.name", choice), callback_data=cb.language(choice))
            for choice in LANGS_SHOWN
        ]
        return Rendered(self.t("lang.choose", lang), InlineKeyboardMarkup([row]))

    def forget_confirm(self, lang: Lang) -> Rendered:
        row = [
            InlineKeyboardButton(self.t("forget.yes", lang), callback_data=cb.forget(True)),
            InlineKeyboardButton(self.t("forget.no", lang), callback_data=cb.forget(False)),
        ]
        return Rendered(self.present.m.escape(self.t("forget.confirm", lang)), InlineKeyboardMarkup([row]))

    def text(self, key: str, lang: Lang, **values: object) -> Rendered:
        return Rendered(self.present.m.escape(self.t(key, lang, **values)))

    def text_with_menu(self, key: str, lang: Lang, **values: object) -> Rendered:
        """A line with the main menu under it (/help, an empty review queue)."""
        return Rendered(self.present.m.escape(self.t(key, lang, **values)), self.menu(lang))
