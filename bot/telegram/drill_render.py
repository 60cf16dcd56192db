"""Drill messages: the set-up wizard, the teacher's control panel, live questions and reveals for students."""

from __future__ import annotations

import html
from dataclasses import replace
from datetime import UTC, datetime

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from ..core.drill import Drill, DrillMode, DrillPhase, DrillStudent
from ..core.engine import AnswerRecord, Confidence
from ..core.lang import Lang
from ..core.model import QuestionBank
from ..i18n import Translator
from ..i18n.present import HTML, Presenter
from ..services.drill import LiveQuestion
from . import callbacks as cb
from .callbacks import LETTER_OF_ROUND, WizardState
from .render import LETTERS, Rendered

COUNTS = (5, 10, 15, 20)
SECONDS = (20, 30, 60, 0)
OPEN_DAYS = (1, 3, 7, 14)
RETEST_DAYS = (0, 3, 7, 14, 30)
NAMES_SHOWN = 40


def esc(text: str) -> str:
    return html.escape(text, quote=False)


class DrillRenderer:
    def __init__(self, t: Translator, bank: QuestionBank) -> None:
        self.t = t
        self.bank = bank
        self.present = Presenter(t, bank, HTML)

    def text(self, key: str, lang: Lang, **values: object) -> Rendered:
        return Rendered(esc(self.t(key, lang, **values)))

    # ---------------------------------------------------------------- wizard

    def offered(self, state: WizardState) -> bool:
        """Whether the draft holds only choices the wizard offers (it rides in a button, so it can be forged)."""
        return (
            state.topics < (1 << len(self.bank.topics))
            and state.count in COUNTS
            and state.seconds in SECONDS
            and state.days in OPEN_DAYS
            and state.retest in RETEST_DAYS
            and 1 <= state.step <= 8
        )

    def chosen_topics(self, state: WizardState) -> list[str]:
        return [t.id for n, t in enumerate(self.bank.topics) if state.topics & (1 << n)]

    def wizard(self, state: WizardState, lang: Lang) -> Rendered:
        """The set-up step `state.step`; every button carries the whole draft."""
        t = self.t

        def button(label: str, **changes: object) -> InlineKeyboardButton:
            return InlineKeyboardButton(label, callback_data=replace(state, **changes).encode())

        if state.step == 1:
            rows = []
            for n, topic in enumerate(self.bank.topics):
                on = bool(state.topics & (1 << n))
                rows.append([button(("✅ " if on else "▫️ ") + topic.title.get(lang), topics=state.topics ^ (1 << n))])
            rows.append([button(("✅ " if not state.topics else "▫️ ") + t("wizard.all_topics", lang), topics=0)])
            rows.append([button(t("wizard.next", lang), step=2)])
            return Rendered(esc(t("wizard.topics", lang)), InlineKeyboardMarkup(rows))
        if state.step == 2:
            row = [button(str(n), count=n, step=3) for n in COUNTS]
            return Rendered(esc(t("wizard.count", lang)), InlineKeyboardMarkup([row]))
        if state.step == 3:
            rows = [
                [button(t("wizard.live", lang), mode="l", step=4)],
                [button(t("wizard.self", lang), mode="s", step=4)],
            ]
            return Rendered(esc(t("wizard.mode", lang)), InlineKeyboardMarkup(rows))
        if state.step == 4 and state.mode == "l":
            row = [
                button(t("wizard.secs", lang, seconds=s) if s else t("wizard.untimed", lang), seconds=s, step=5)
                for s in SECONDS
            ]
            return Rendered(esc(t("wizard.seconds", lang)), InlineKeyboardMarkup([row]))
        if state.step == 4:
            row = [button(t("wizard.days", lang, days=d), days=d, step=5) for d in OPEN_DAYS]
            return Rendered(esc(t("wizard.open_days", lang)), InlineKeyboardMarkup([row]))
        if state.step == 5:
            row = [button(t("wizard.yes", lang), pair=True, step=6), button(t("wizard.no", lang), pair=False, step=6)]
            return Rendered(esc(t("wizard.pair", lang)), InlineKeyboardMarkup([row]))
        if state.step == 6:
            row = [
                button(t("wizard.days", lang, days=d) if d else t("wizard.no_retest", lang), retest=d, step=7)
                for d in RETEST_DAYS
            ]
            return Rendered(esc(t("wizard.retest", lang)), InlineKeyboardMarkup([row[:3], row[3:]]))
        topics = self.chosen_topics(state)
        names = (
            ", ".join(self.bank.topic(x).title.get(lang) for x in topics) if topics else t("wizard.all_topics", lang)
        )
        live = state.mode == "l"
        summary = t(
            "wizard.summary",
            lang,
            topics=names,
            count=state.count,
            seconds=(t("wizard.secs", lang, seconds=state.seconds) if state.seconds else t("wizard.untimed", lang))
            if live
            else "—",
            mode=t("wizard.live", lang)
            if live
            else f"{t('wizard.self', lang)} · {t('wizard.days', lang, days=state.days)}",
            pair=t("wizard.yes" if state.pair else "wizard.no", lang),
            retest=t("wizard.days", lang, days=state.retest) if state.retest else t("wizard.no_retest", lang),
        )
        row = [button(t("wizard.create", lang), step=8)]
        return Rendered(esc(summary), InlineKeyboardMarkup([row]))

    # ---------------------------------------------------------------- teacher

    def overview(self, drills: list[Drill], counts: dict[str, int], lang: Lang) -> Rendered:
        t = self.t
        lines = [f"<b>{esc(t('drill.menu_title', lang))}</b>", ""]
        if not drills:
            lines.append(esc(t("drill.none", lang)))
        for drill in drills[:20]:
            lines.append(
                esc(
                    t(
                        "drill.line",
                        lang,
                        code=drill.code,
                        mode=t(f"drill.mode.{drill.spec.mode.value}", lang),
                        status=t(f"drill.status.{drill.phase.value}", lang),
                        students=counts.get(drill.id, 0),
                    )
                )
            )
        rows = [[InlineKeyboardButton(t("drill.new", lang), callback_data=WizardState().encode())]]
        rows += [
            [InlineKeyboardButton(f"{d.code} · {t('drill.btn.report', lang)}", callback_data=cb.teacher(d.id, "r"))]
            for d in drills[:5]
        ]
        return Rendered("\n".join(lines), InlineKeyboardMarkup(rows))

    def created(self, drill: Drill, link: str, lang: Lang) -> Rendered:
        return Rendered(esc(self.t("drill.created", lang, code=drill.code, link=link)))

    def control(
        self, drill: Drill, students: list[DrillStudent], lang: Lang, *, answered: int = 0, correct: int = 0
    ) -> Rendered:
        """The teacher's panel: who joined, where the drill stands, and the buttons that move it on."""
        t = self.t
        named = [s.nickname for s in students if s.nickname]
        names = (": " + ", ".join(named[:NAMES_SHOWN]) + (" …" if len(named) > NAMES_SHOWN else "")) if named else ""
        number, total = drill.position + 1, drill.total
        phase = drill.phase
        if phase is DrillPhase.ASKING:
            state = t("drill.state.asking", lang, number=number, total=total, answered=answered, students=len(named))
        elif phase is DrillPhase.REVEALED:
            state = t("drill.state.revealed", lang, number=number, total=total, answered=answered, correct=correct)
        elif phase is DrillPhase.OPEN:
            deadline = datetime.fromtimestamp(drill.deadline or 0, UTC).strftime("%Y-%m-%d %H:%M")
            state = t("drill.state.open", lang, deadline=deadline, answered=answered, students=len(named))
        elif phase is DrillPhase.BETWEEN:
            state = t("drill.state.between", lang)
        elif phase is DrillPhase.CLOSED:
            state = t("drill.state.closed", lang, code=drill.code)
        else:
            state = t("drill.state.waiting", lang)
        text = t(
            "drill.control",
            lang,
            code=drill.code,
            mode=t(f"drill.mode.{drill.spec.mode.value}", lang),
            round=t(f"drill.round.{drill.round.value}", lang),
            state=state,
            students=len(named),
            names=names,
        )

        def button(key: str, action: str) -> InlineKeyboardButton:
            return InlineKeyboardButton(t(key, lang), callback_data=cb.teacher(drill.id, action))

        rows: list[list[InlineKeyboardButton]] = []
        if phase is DrillPhase.WAITING:
            rows.append([button("drill.btn.start", "n")])
        elif phase is DrillPhase.ASKING:
            rows.append([button("drill.btn.reveal", "v")])
        elif phase is DrillPhase.REVEALED:
            last = drill.position + 1 >= drill.total
            rows.append([button("drill.btn.finish", "f") if last else button("drill.btn.next", "n")])
        elif phase is DrillPhase.OPEN:
            rows.append([button("drill.btn.finish", "f")])
        elif phase is DrillPhase.BETWEEN:
            rows.append([button("drill.btn.post", "p")])
        if phase is not DrillPhase.CLOSED:
            rows.append([button("drill.btn.report", "r"), button("drill.btn.close", "c")])
        else:
            rows.append([button("drill.btn.report", "r")])
        return Rendered(esc(text), InlineKeyboardMarkup(rows))

    # ---------------------------------------------------------------- students

    def live_question(self, live: LiveQuestion, lang: Lang) -> Rendered:
        drill, question = live.drill, live.question
        letter = LETTER_OF_ROUND[drill.round.value]
        header = self.t(
            "quiz.header",
            lang,
            number=drill.position + 1,
            total=drill.total,
            topic=self.present.topic_title(question.topic, lang),
            stars=self.t(f"difficulty.{question.difficulty}", lang),
        )
        lines = [esc(header), "", f"<b>{esc(question.prompt.get(lang))}</b>", ""]
        lines += [f"<b>{LETTERS[n]}.</b> {esc(question.options[i].get(lang))}" for n, i in enumerate(live.order)]
        buttons = [
            InlineKeyboardButton(LETTERS[n], callback_data=cb.live_choice(drill.id, letter, drill.position, n))
            for n in range(len(live.order))
        ]
        return Rendered("\n".join(lines), InlineKeyboardMarkup([buttons[i : i + 4] for i in range(0, len(buttons), 4)]))

    def live_rating(
        self, drill_id: str, letter: str, position: int, shown: int, base_text: str, lang: Lang
    ) -> Rendered:
        def button(level: Confidence | None, key: str) -> InlineKeyboardButton:
            return InlineKeyboardButton(
                self.t(key, lang), callback_data=cb.live_rating(drill_id, letter, position, shown, level)
            )

        rows = [
            [
                button(Confidence.GUESS, "confidence.guess"),
                button(Confidence.PROBABLY, "confidence.probably"),
                button(Confidence.SURE, "confidence.sure"),
            ],
            [button(None, "confidence.skip")],
        ]
        text = base_text + f"\n\n👉 <b>{LETTERS[shown]}</b>\n<b>{esc(self.t('quiz.confidence_question', lang))}</b>"
        return Rendered(text, InlineKeyboardMarkup(rows))

    def live_reveal(self, live: LiveQuestion, answer: AnswerRecord | None, lang: Lang) -> Rendered:
        """A student's question message after the teacher reveals it: their answer, the right one, and why."""
        question = live.question
        order = live.order
        options = [question.options[i].get(lang) for i in order]
        right = order.index(question.answer)
        lines = [f"<b>{esc(question.prompt.get(lang))}</b>", ""]
        if answer is None:
            lines.append(esc(self.t("drill.unanswered", lang)))
        elif answer.correct:
            lines.append(f"<b>{esc(self.t('quiz.right', lang))}</b>")
        else:
            lines.append(f"<b>{esc(self.t('quiz.wrong', lang))}</b>")
            lines.append(
                esc(
                    self.t(
                        "quiz.your_choice",
                        lang,
                        answer=f"{LETTERS[order.index(answer.chosen)]}. {options[order.index(answer.chosen)]}",
                    )
                )
            )
        lines.append(f"<b>{esc(self.t('quiz.right_answer', lang, answer=f'{LETTERS[right]}. {options[right]}'))}</b>")
        lines += ["", f"<b>{esc(self.t('quiz.why', lang))}</b>", esc(question.explanation.get(lang))]
        source = self.present.source(question, lang)
        if source:
            lines += ["", *source]
        return Rendered("\n".join(lines))

    def start_round(self, drill: Drill, key: str, lang: Lang) -> Rendered:
        letter = LETTER_OF_ROUND[drill.round.value] if key == "drill.post_open" else "r"
        markup = InlineKeyboardMarkup(
            [[InlineKeyboardButton(self.t("drill.start_round", lang), callback_data=cb.self_start(drill.id, letter))]]
        )
        return Rendered(esc(self.t(key, lang, code=drill.code)), markup)

    def is_live(self, drill: Drill) -> bool:
        return drill.spec.mode is DrillMode.LIVE
