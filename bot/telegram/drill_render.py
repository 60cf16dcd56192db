"""Drill messages: the set-up wizard, the teacher's control panel, live questions and reveals for students.

Every message is made from a view the drill service returns (services/drill_views.py), never by editing text
already sent: a student's live question looks the same whether it asks, waits for a rating or shows the answer.
"""

from __future__ import annotations

import html
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from ..core.drill import JUDGMENT_CHECK, Drill, DrillMode, DrillPhase, DrillRound
from ..core.echo import echo_safe
from ..core.engine import AnswerRecord, Confidence
from ..core.lang import Lang
from ..core.model import QuestionBank
from ..i18n import Translator
from ..i18n.present import HTML, Presenter
from ..services.drill_views import DrillSummary, LiveItem, Panel, RoundOpened
from . import callbacks as cb
from .callbacks import TeacherMove, WizardState
from .render import LETTERS, Rendered

COUNTS = (5, 10, 15, 20)
SECONDS = (20, 30, 60, 0)
OPEN_DAYS = (1, 3, 7, 14)
RETEST_DAYS = (0, 3, 7, 14, 30)
NAMES_SHOWN = 40
SCREEN_CHOICES = {0: "count", 1: "names", 2: "podium", 3: "both"}  # WizardState.screen -> its summary wording
REPORT_BUTTONS = 5  # the /drill list offers a report button for the latest few drills


def esc(text: str) -> str:
    return html.escape(text, quote=False)


class DrillRenderer:
    def __init__(self, t: Translator, bank: QuestionBank, *, projector_base: str | None = None) -> None:
        self.t = t
        self.bank = bank
        self.present = Presenter(t, bank, HTML)
        self.projector_base = projector_base  # where projector links start; None: the projector page is off

    def projector_link(self, drill: Drill) -> str | None:
        """The drill's projector page, or None (the page is off, or the drill predates it)."""
        if self.projector_base is None or drill.projector_token is None:
            return None
        return f"{self.projector_base}/projector/{drill.id}/{drill.projector_token}/"

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
            and state.judgment in (0, JUDGMENT_CHECK)
            and 0 <= state.screen <= cb.SCREEN_NAMES | cb.SCREEN_PODIUM
            and 1 <= state.step <= 8
        )

    def chosen_topics(self, state: WizardState) -> list[str]:
        return [t.id for n, t in enumerate(self.bank.topics) if state.topics & (1 << n)]

    def wizard(self, state: WizardState, lang: Lang) -> Rendered:
        """The set-up step `state.step`; every button carries the whole draft."""
        t = self.t

        def button(label: str, **changes: Any) -> InlineKeyboardButton:
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
            # A toggle that stays on this step: the judgment block is added to whichever count comes next.
            mark = "✅ " if state.judgment else "▫️ "
            block = button(
                mark + t("wizard.judgment", lang, count=JUDGMENT_CHECK), judgment=JUDGMENT_CHECK - state.judgment
            )
            return Rendered(esc(t("wizard.count", lang)), InlineKeyboardMarkup([row, [block]]))
        if state.step == 3:
            rows = [
                [button(t("wizard.live", lang), mode=DrillMode.LIVE, step=4)],
                [button(t("wizard.self", lang), mode=DrillMode.SELF_PACED, step=4)],
            ]
            return Rendered(esc(t("wizard.mode", lang)), InlineKeyboardMarkup(rows))
        if state.step == 4 and state.mode is DrillMode.LIVE:
            row = [
                button(t("wizard.secs", lang, seconds=s) if s else t("wizard.untimed", lang), seconds=s, step=5)
                for s in SECONDS
            ]
            return Rendered(esc(t("wizard.seconds", lang)), InlineKeyboardMarkup([row]))
        if state.step == 4:
            row = [button(t("wizard.days", lang, count=d), days=d, step=5) for d in OPEN_DAYS]
            return Rendered(esc(t("wizard.open_days", lang)), InlineKeyboardMarkup([row]))
        if state.step == 5:
            row = [button(t("wizard.yes", lang), pair=True, step=6), button(t("wizard.no", lang), pair=False, step=6)]
            return Rendered(esc(t("wizard.pair", lang)), InlineKeyboardMarkup([row]))
        if state.step == 6:
            row = [
                button(t("wizard.days", lang, count=d) if d else t("wizard.no_retest", lang), retest=d, step=7)
                for d in RETEST_DAYS
            ]
            return Rendered(esc(t("wizard.retest", lang)), InlineKeyboardMarkup([row[:3], row[3:]]))
        topics = self.chosen_topics(state)
        names = ", ".join(self.present.topic_title(x, lang) for x in topics) if topics else t("wizard.all_topics", lang)
        live = state.mode is DrillMode.LIVE
        summary = t(
            "wizard.summary",
            lang,
            topics=names,
            count=state.count,
            # Drills are always accessible play in the issue's sense: no speed points (a drill counts right answers
            # only), and "no clock" is Untimed in a live drill (the teacher reveals) and a self-paced drill's nature.
            seconds=(
                t("wizard.secs", lang, seconds=state.seconds) if state.seconds else t("wizard.no_clock_live", lang)
            )
            if live
            else t("wizard.no_clock_self", lang),
            scoring=t("wizard.scoring", lang),
            mode=t("wizard.live", lang)
            if live
            else f"{t('wizard.self', lang)} · {t('wizard.days', lang, count=state.days)}",
            pair=t("wizard.yes" if state.pair else "wizard.no", lang),
            retest=t("wizard.days", lang, count=state.retest) if state.retest else t("wizard.no_retest", lang),
            judgment=t("wizard.judgment_summary", lang, count=state.judgment)
            if state.judgment
            else t("wizard.no", lang),
            screen=t(f"wizard.screen.{SCREEN_CHOICES[state.screen]}", lang),
        )
        # Two toggles that stay on this step, like the judgment block's: what the projector view may show.
        names = ("✅ " if state.names_on_screen else "▫️ ") + t("wizard.names_on_screen", lang)
        podium = ("✅ " if state.podium else "▫️ ") + t("wizard.podium", lang)
        rows = [
            [button(names, screen=state.screen ^ cb.SCREEN_NAMES)],
            [button(podium, screen=state.screen ^ cb.SCREEN_PODIUM)],
            [button(t("wizard.create", lang), step=8)],
        ]
        return Rendered(esc(summary), InlineKeyboardMarkup(rows))

    # ---------------------------------------------------------------- teacher

    def overview(self, drills: list[DrillSummary], lang: Lang) -> Rendered:
        t = self.t
        lines = [f"<b>{esc(t('drill.menu_title', lang))}</b>", ""]
        if not drills:
            lines.append(esc(t("drill.none", lang)))
        for summary in drills:
            drill = summary.drill
            lines.append(
                esc(
                    t(
                        "drill.line",
                        lang,
                        code=drill.code,
                        mode=t(f"drill.mode.{drill.spec.mode.value}", lang),
                        status=t(f"drill.status.{drill.phase.value}", lang),
                        count=summary.students,
                    )
                )
            )
        rows = [[InlineKeyboardButton(t("drill.new", lang), callback_data=WizardState().encode())]]
        rows += [
            [
                InlineKeyboardButton(
                    f"{s.drill.code} · {t('drill.btn.report', lang)}",
                    callback_data=cb.teacher(s.drill.id, TeacherMove.REPORT),
                )
            ]
            for s in drills[:REPORT_BUTTONS]
        ]
        return Rendered("\n".join(lines), InlineKeyboardMarkup(rows))

    def created(self, drill: Drill, link: str, lang: Lang) -> Rendered:
        return Rendered(esc(self.t("drill.created", lang, code=drill.code, link=link)))

    def control(self, panel: Panel, lang: Lang) -> Rendered:
        """The teacher's panel: who joined, where the drill stands, and the buttons that move it on."""
        t = self.t
        drill = panel.drill
        named = [echo_safe(n) for n in panel.nicknames]  # cleaned when chosen; again here, as every echo is
        names = (": " + ", ".join(named[:NAMES_SHOWN]) + (" …" if len(named) > NAMES_SHOWN else "")) if named else ""
        number, total = drill.position + 1, drill.total
        answered, correct = panel.answered, panel.correct
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
        link = self.projector_link(drill)
        if link is not None and phase is not DrillPhase.CLOSED:
            text += "\n\n" + t("drill.projector_link", lang, link=link)

        def button(key: str, move: TeacherMove) -> InlineKeyboardButton:
            return InlineKeyboardButton(t(key, lang), callback_data=cb.teacher(drill.id, move))

        rows: list[list[InlineKeyboardButton]] = []
        if phase is DrillPhase.WAITING:
            rows.append([button("drill.btn.start", TeacherMove.NEXT)])
        elif phase is DrillPhase.ASKING:
            rows.append([button("drill.btn.reveal", TeacherMove.REVEAL)])
        elif phase is DrillPhase.REVEALED:
            last = drill.position + 1 >= drill.total
            rows.append(
                [
                    button("drill.btn.finish", TeacherMove.FINISH_ROUND)
                    if last
                    else button("drill.btn.next", TeacherMove.NEXT)
                ]
            )
        elif phase is DrillPhase.OPEN:
            rows.append([button("drill.btn.finish", TeacherMove.FINISH_ROUND)])
        elif phase is DrillPhase.BETWEEN:
            rows.append([button("drill.btn.post", TeacherMove.POST_TEST)])
        if phase is not DrillPhase.CLOSED:
            rows.append([button("drill.btn.report", TeacherMove.REPORT), button("drill.btn.close", TeacherMove.CLOSE)])
        else:
            rows.append([button("drill.btn.report", TeacherMove.REPORT)])
        return Rendered(esc(text), InlineKeyboardMarkup(rows))

    def report_files_caption(self, lang: Lang) -> str:
        return esc(self.t("report.files", lang))

    def qr_caption(self, drill: Drill, lang: Lang) -> str:
        return esc(self.t("drill.qr_caption", lang, code=drill.code))

    # ---------------------------------------------------------------- students

    def _question_text(self, item: LiveItem, lang: Lang) -> str:
        question = item.question
        header = self.t(
            "quiz.header",
            lang,
            number=item.position + 1,
            total=item.total,
            topic=self.present.topic_title(question.topic, lang),
            stars=self.t(f"difficulty.{question.difficulty}", lang),
        )
        lines = [esc(header), "", f"<b>{esc(question.prompt.get(lang))}</b>", ""]
        lines += [f"<b>{LETTERS[n]}.</b> {esc(question.options[i].get(lang))}" for n, i in enumerate(item.order)]
        return "\n".join(lines)

    def live_question(self, item: LiveItem, lang: Lang) -> Rendered:
        """The open question with a button per option."""
        buttons = [
            InlineKeyboardButton(LETTERS[n], callback_data=cb.live_choice(item.drill_id, item.round, item.position, n))
            for n in range(len(item.order))
        ]
        return Rendered(
            self._question_text(item, lang),
            InlineKeyboardMarkup([buttons[i : i + 4] for i in range(0, len(buttons), 4)]),
        )

    def live_rating(self, item: LiveItem, shown: int, lang: Lang) -> Rendered:
        """The question with the student's choice marked, asking how sure they are."""

        def button(level: Confidence | None, key: str) -> InlineKeyboardButton:
            return InlineKeyboardButton(
                self.t(key, lang),
                callback_data=cb.live_rating(item.drill_id, item.round, item.position, shown, level),
            )

        rows = [
            [
                button(Confidence.GUESS, "confidence.guess"),
                button(Confidence.PROBABLY, "confidence.probably"),
                button(Confidence.SURE, "confidence.sure"),
            ],
            [button(None, "confidence.skip")],
        ]
        text = (
            self._question_text(item, lang)
            + f"\n\n👉 <b>{LETTERS[shown]}</b>\n<b>{esc(self.t('quiz.confidence_question', lang))}</b>"
        )
        return Rendered(text, InlineKeyboardMarkup(rows))

    def live_received(self, item: LiveItem, shown: int, lang: Lang) -> Rendered:
        """The question once answered: the choice is in, the reveal comes from the teacher."""
        received = esc(self.t("drill.answer_received", lang, letter=LETTERS[shown]))
        return Rendered(f"{self._question_text(item, lang)}\n\n{received}")

    def live_reveal(self, item: LiveItem, answer: AnswerRecord | None, lang: Lang) -> Rendered:
        """A student's question message after the teacher reveals it: their answer, the right one, and why."""
        question = item.question
        order = item.order
        options = [question.options[i].get(lang) for i in order]
        right = item.answer_shown
        lines = [f"<b>{esc(question.prompt.get(lang))}</b>", ""]
        if answer is None:
            lines.append(esc(self.t("drill.unanswered", lang)))
        elif answer.correct:
            lines.append(f"<b>{esc(self.t('quiz.right', lang))}</b>")
        else:
            chosen = order.index(answer.chosen)
            lines.append(f"<b>{esc(self.t('quiz.wrong', lang))}</b>")
            lines.append(esc(self.t("quiz.your_choice", lang, answer=f"{LETTERS[chosen]}. {options[chosen]}")))
        lines.append(f"<b>{esc(self.t('quiz.right_answer', lang, answer=f'{LETTERS[right]}. {options[right]}'))}</b>")
        lines += ["", f"<b>{esc(self.t('quiz.why', lang))}</b>", esc(question.explanation.get(lang))]
        source = self.present.source(question, lang)
        if source:
            lines += ["", *source]
        return Rendered("\n".join(lines))

    def round_done(self, correct: int, answered: int, total: int, lang: Lang) -> Rendered:
        """A student's score after a live round, and what went to their review list."""
        text = self.t("drill.round_done", lang, correct=correct, total=total)
        missed = answered - correct
        if missed:
            text += "\n" + self.t("drill.round_review", lang, count=missed)
        return Rendered(esc(text))

    def round_opened(self, opened: RoundOpened, lang: Lang) -> Rendered:
        """A student's button to start a round of their own: the post-test, or the re-test."""
        key = "drill.retest_open" if opened.round is DrillRound.RETEST else "drill.post_open"
        start = cb.self_start(opened.drill.id, opened.round)
        markup = InlineKeyboardMarkup([[InlineKeyboardButton(self.t("drill.start_round", lang), callback_data=start)]])
        return Rendered(esc(self.t(key, lang, code=opened.drill.code)), markup)
