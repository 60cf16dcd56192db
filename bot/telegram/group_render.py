"""Group quiz messages: lobby, question (native quiz poll or buttons), reveal, pause, podium, /stats.

Every poll parameter is decided here, so a Bot API change to polls touches this one file.
"""

from __future__ import annotations

import html
import inspect
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import PollType

from ..core.echo import echo_safe
from ..core.group import GroupMember, GroupPhase, GroupSession
from ..core.lang import Lang
from ..core.limits import POLL_LIMITS
from ..core.model import QuestionBank
from ..i18n import Translator
from ..i18n.present import HTML, Presenter, percent, source_lines
from ..services.group import GroupLearning, GroupStats, Podium, QuestionStep, RevealStep
from . import callbacks as cb
from .render import LANGS_SHOWN, LETTERS, Rendered

MIN_OPEN_PERIOD = 5  # telegram.constants.PollLimit.MIN_OPEN_PERIOD
# Bot API 9.6 replaced correct_option_id with a list; PTB 22.8 warns on the old name. Use what this PTB offers.
CORRECT_OPTION_IDS = "correct_option_ids" in inspect.signature(Bot.send_poll).parameters
NAMES_SHOWN = 30  # lobby and podium list at most this many names; the rest are counted
MEDALS = ("🥇", "🥈", "🥉")


def esc(text: str) -> str:
    return html.escape(text, quote=False)


@dataclass(frozen=True, slots=True)
class PollMessage:
    """Keyword arguments for `Bot.send_poll`: a native quiz poll."""

    kwargs: dict[str, Any]


class GroupRenderer:
    """Group messages in one language at a time."""

    def __init__(self, t: Translator, bank: QuestionBank) -> None:
        self.t = t
        self.bank = bank
        self.present = Presenter(t, bank, HTML)

    def _topic(self, topic_id: str | None, lang: Lang) -> str:
        topic = self.bank.topic(topic_id) if topic_id else None
        return topic.title.get(lang) if topic else ""

    def intro(self, lang: Lang) -> Rendered:
        return Rendered(esc(self.t("group.intro", lang)))

    def text(self, key: str, lang: Lang, **values: object) -> Rendered:
        return Rendered(esc(self.t(key, lang, **values)))

    def unknown_topic(self, wanted: str, lang: Lang) -> Rendered:
        """A topic the bank does not have: say so and name the ones it has."""
        return self.text("quiz.unknown_topic", lang, topic=wanted, topics=", ".join(t.id for t in self.bank.topics))

    def lobby(
        self,
        session: GroupSession,
        members: list[GroupMember],
        starter: str,
        lang: Lang,
        now: float,
        *,
        started: bool = False,
    ) -> Rendered:
        """Who has joined; once the quiz has `started` the Start button goes and Join stays (latecomers may join).
        A lobby opened on behalf of a chat (a channel, an anonymous admin) names no starter: only admins may start it.

        Names are cleaned again as they are shown (also below): those stored before names were cleaned on the way in
        still reach a group's history."""
        names = [echo_safe(m.name) for m in members if not m.left]
        shown = ", ".join(esc(n) for n in names[:NAMES_SHOWN])
        if len(names) > NAMES_SHOWN:
            shown += " " + esc(self.t("group.podium_more", lang, count=len(names) - NAMES_SHOWN))
        topic = self.t("group.lobby_topic", lang, topic=self._topic(session.topic, lang)) if session.topic else ""
        text = self.t(
            "group.lobby_by_chat" if session.starter_is_chat else "group.lobby",
            lang,
            count=session.total,
            topic=esc(topic),
            pace=self._pace(session, lang),
            wait=max(0, round((session.deadline or now) - now)),
            starter=esc(echo_safe(starter)),
            players=len(names),
            names=shown or "—",
        )
        text += "".join("\n" + esc(line) for line in self._rule_lines(session, lang))
        buttons = [InlineKeyboardButton(self.t("group.join", lang), callback_data=cb.join(session.id))]
        if not started:
            buttons.append(InlineKeyboardButton(self.t("group.start", lang), callback_data=cb.begin(session.id)))
        return Rendered(text, InlineKeyboardMarkup([buttons]))

    def _pace(self, session: GroupSession, lang: Lang) -> str:
        """How long each question stays open, as the lobby says it."""
        if session.rules.no_clock:
            return self.t("group.pace_no_clock", lang)
        return self.t("group.pace_seconds", lang, seconds=round(session.rules.question_seconds))

    def _rule_lines(self, session: GroupSession, lang: Lang) -> list[str]:
        """The accessible-play options chosen for the session, each explained in a line (none by default)."""
        lines = []
        if session.rules.accuracy_only:
            lines.append(self.t("group.rule_accuracy", lang))
        if session.rules.no_clock:
            lines.append(self.t("group.rule_no_clock", lang))
        return lines

    def fits_poll(self, step: QuestionStep | RevealStep, lang: Lang) -> bool:
        """Whether the question goes out (or went out) as a native quiz poll rather than with buttons."""
        return step.question.fits_poll(lang) and len(self._poll_question(step, lang)) <= POLL_LIMITS.max_question_chars

    def _poll_question(self, step: QuestionStep | RevealStep, lang: Lang) -> str:
        prompt = step.question.prompt.get(lang)
        position = step.position if isinstance(step, RevealStep) else step.session.position
        numbered = f"{position + 1}/{step.session.total}. {prompt}"
        return numbered if len(numbered) <= POLL_LIMITS.max_question_chars else prompt

    def poll(self, step: QuestionStep, lang: Lang) -> PollMessage:
        """A native quiz poll: not anonymous (answers must reach the bot), results hidden until it closes."""
        options = [step.question.options[i].get(lang) for i in step.order]
        return PollMessage(
            {
                "question": self._poll_question(step, lang),
                "options": options,
                "type": PollType.QUIZ,
                "is_anonymous": False,
                "allows_multiple_answers": False,
                **(
                    {"correct_option_ids": [step.answer_shown]}
                    if CORRECT_OPTION_IDS
                    else {"correct_option_id": step.answer_shown}
                ),
                "explanation": step.question.explanation.get(lang),
                # With no clock the poll stays open until the reveal closes it.
                **(
                    {}
                    if step.session.rules.no_clock
                    else {"open_period": max(MIN_OPEN_PERIOD, math.ceil(step.session.rules.question_seconds))}
                ),
                "hide_results_until_closes": True,
            }
        )

    def buttons_question(self, step: QuestionStep, lang: Lang) -> Rendered:
        """For a question that does not fit a poll: text with lettered options and letter buttons."""
        session, question = step.session, step.question
        header = self.t(
            "group.question_header_no_clock" if session.rules.no_clock else "group.question_header",
            lang,
            number=session.position + 1,
            total=session.total,
            topic=self._topic(question.topic, lang),
            stars=self.t(f"difficulty.{question.difficulty}", lang),
            seconds=round(session.rules.question_seconds),
        )
        lines = [esc(header), "", f"<b>{esc(question.prompt.get(lang))}</b>", ""]
        lines += [f"<b>{LETTERS[n]}.</b> {esc(question.options[i].get(lang))}" for n, i in enumerate(step.order)]
        buttons = [
            InlineKeyboardButton(LETTERS[n], callback_data=cb.group_answer(session.id, session.position, n))
            for n in range(len(step.order))
        ]
        return Rendered("\n".join(lines), InlineKeyboardMarkup([buttons[i : i + 4] for i in range(0, len(buttons), 4)]))

    def reveal(self, step: RevealStep, lang: Lang) -> Rendered:
        """The answer, why, the article's words, how the group did, and the leaderboard: one message."""
        question = step.question
        right = question.options[question.answer].get(lang)
        lines = [
            f"<b>{esc(self.t('group.reveal_title', lang, number=step.position + 1, total=step.session.total))}</b>",
            f"<i>{esc(question.prompt.get(lang))}</i>",
            "",
            f"<b>{esc(self.t('group.reveal_answer', lang, letter=LETTERS[step.answer_shown], answer=right))}</b>",
            "",
            f"<b>{esc(self.t('quiz.why', lang))}</b>",
            esc(question.explanation.get(lang)),
        ]
        source = source_lines(question, lang, self.t, HTML)
        if source:
            lines += ["", *source]
        lines += ["", esc(self.t("group.reveal_tally", lang, answered=step.answered, correct=step.correct))]
        if step.leaderboard:
            board = "group.board_line_right" if step.session.rules.accuracy_only else "group.board_line"
            lines.append(esc(self.t("group.reveal_board", lang)))
            lines += [
                esc(self.t(board, lang, place=n, name=echo_safe(s.name), points=s.points, correct=s.correct))
                for n, s in enumerate(step.leaderboard, 1)
            ]
        if step.session.phase is GroupPhase.REVEALING and step.session.rules.no_clock:
            lines += ["", esc(self.t("group.next_by_skip", lang))]
        return Rendered("\n".join(lines))

    def paused(self, session: GroupSession, lang: Lang) -> Rendered:
        markup = InlineKeyboardMarkup(
            [[InlineKeyboardButton(self.t("group.resume", lang), callback_data=cb.resume(session.id))]]
        )
        return Rendered(esc(self.t("group.paused", lang)), markup)

    def podium(self, podium: Podium, lang: Lang, *, stopped_by: str | None = None) -> Rendered:
        lines: list[str] = []
        if stopped_by is not None:
            lines += [esc(self.t("group.stopped", lang, name=echo_safe(stopped_by))), ""]
        lines.append(f"<b>{esc(self.t('group.podium_title', lang))}</b>")
        total = podium.session.total
        line = "group.podium_line_right" if podium.session.rules.accuracy_only else "group.podium_line"
        for place, standing in enumerate(podium.standings[:NAMES_SHOWN]):
            medal = MEDALS[place] if place < len(MEDALS) else f"{place + 1}."
            lines.append(
                esc(
                    self.t(
                        line,
                        lang,
                        medal=medal,
                        name=echo_safe(standing.name),
                        points=standing.points,
                        correct=standing.correct,
                        total=total,
                    )
                )
            )
        if len(podium.standings) > NAMES_SHOWN:
            lines.append(esc(self.t("group.podium_more", lang, count=len(podium.standings) - NAMES_SHOWN)))
        lines.append("")
        if not podium.tallies:
            lines.append(esc(self.t("group.no_answers", lang)))
            return Rendered("\n".join(lines))
        learned = self.learning(podium.learning, lang)
        if learned:
            lines += [*learned, ""]
        lines.append(f"<b>{esc(self.t('group.accuracy_title', lang))}</b>")
        for tally in podium.tallies:
            question = self.bank.get(tally.question_id)
            prompt = question.prompt.get(lang) if question else tally.question_id
            short = prompt if len(prompt) <= 60 else prompt[:59] + "…"
            percent = round(100 * tally.correct / tally.answered) if tally.answered else 0
            lines.append(
                esc(
                    self.t(
                        "group.accuracy_line",
                        lang,
                        number=tally.position + 1,
                        percent=percent,
                        correct=tally.correct,
                        answered=tally.answered,
                        prompt=short,
                    )
                )
            )
        return Rendered("\n".join(lines))

    def learning(self, learning: GroupLearning, lang: Lang) -> list[str]:
        """The group's accuracy (right answers, not points: points also reward speed) and, once it has judged
        enough real-or-fake items, how well it tells them apart. Nothing when nobody answered."""
        if learning.accuracy is None:
            return []
        accuracy = self.t(
            "group.learning_accuracy",
            lang,
            right=learning.correct,
            answered=learning.answered,
            percent=percent(learning.accuracy),
        )
        return [
            esc(accuracy),
            *(esc(line) for line in self.present.discernment(learning.discernment, lang, who="group")),
        ]

    def stats(self, stats: GroupStats, lang: Lang) -> Rendered:
        """/stats in a group: its latest sessions, then what its answers show it learned."""
        if not stats.played:
            return self.text("group.stats_empty", lang)
        lines = [f"<b>{esc(self.t('group.stats_title', lang, count=stats.played))}</b>"]
        for record in stats.latest:
            winner = self.t("group.stats_winner", lang, name=echo_safe(record.winner)) if record.winner else ""
            right = round(100 * record.correct / record.answered) if record.answered else 0
            date = datetime.fromtimestamp(record.finished_at, UTC).strftime("%Y-%m-%d")
            lines.append(
                esc(self.t("group.stats_line", lang, date=date, count=record.players, percent=right, winner=winner))
            )
        learned = self.learning(stats.learning, lang)
        if learned:
            lines.append("")
            if stats.sessions < stats.played:
                lines.append(esc(self.t("group.learning_latest", lang, count=stats.sessions)))
            lines += learned
        return Rendered("\n".join(lines))

    def languages(self, lang: Lang) -> Rendered:
        row = [
            InlineKeyboardButton(self.t("lang.name", choice), callback_data=cb.group_language(choice))
            for choice in LANGS_SHOWN
        ]
        return Rendered(esc(self.t("lang.choose", lang)), InlineKeyboardMarkup([row]))
