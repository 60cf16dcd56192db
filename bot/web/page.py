"""The projector page's HTML: the document shell, and the screen inside it that the page swaps as the drill moves.

Everything is rendered here, on the server, and escaped here: the page's script only swaps in the screen it is sent
and runs the countdown, so it holds no text of its own and no logic that could drift from the bot's.
Colour never carries meaning alone: each option has a letter and a shape, and the right answer says so in words.
"""

from __future__ import annotations

import functools
import html
from datetime import UTC, datetime

import segno

from ..core.echo import echo_safe
from ..core.lang import Lang
from ..core.model import QuestionBank
from ..core.projector import Screen
from ..i18n import Translator
from ..i18n.present import HTML, percent, source_lines
from ..services.projector import ProjectorView

LETTERS = "ABCDEF"
SHAPES = "▲◆●■★✚"  # a shape per option, as well as a colour and a letter: telling them apart needs no colour
HTML_LANG = {Lang.ZH_HANT: "zh-Hant-TW", Lang.ZH_HANS: "zh-Hans-CN", Lang.EN: "en"}
DISCUSS_SHOWN = 2  # the most missed questions the summary names, to start the discussion
PROMPT_CLIPPED = 90  # characters of a prompt the summary shows
NAMES_SHOWN = 40  # nicknames on the join screen; more would not be readable from the back row


@functools.lru_cache(maxsize=256)
def qr_svg(link: str) -> str:
    """The QR code of a join link as inline SVG, black on white. Cached: a drill's link never changes, and drawing
    it takes a few milliseconds, on every page load and every change of the join screen."""
    return str(
        segno.make(link, error="m").svg_inline(scale=1, border=2, dark="#000000", light="#ffffff", omitsize=True)
    )


def clipped(text: str, limit: int = PROMPT_CLIPPED) -> str:
    """A prompt short enough for one line of the summary: the question is named, not read again."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def esc(text: str) -> str:
    return html.escape(text, quote=True)


class ProjectorPage:
    """Renders projector views in the drill's language."""

    def __init__(self, t: Translator, bank: QuestionBank) -> None:
        self.t = t
        self.bank = bank

    def document(self, view: ProjectorView, *, join_link: str, static: str) -> str:
        """The whole page: the shell (styles, script, the texts the script shows) around the current screen.
        `static` is the relative path to the static files, so the page works under any reverse-proxy prefix."""
        lang = view.lang
        t = self.t
        return (
            "<!doctype html>\n"
            f'<html lang="{HTML_LANG[lang]}">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            '<meta name="robots" content="noindex, nofollow">\n'
            '<meta name="referrer" content="no-referrer">\n'
            f"<title>{esc(t('projector.page_title', lang, code=view.drill.code))}</title>\n"
            f'<link rel="stylesheet" href="{static}/projector.css">\n'
            f'<script src="{static}/projector.js" defer></script>\n'
            "</head>\n"
            f'<body data-key="{esc(view.key)}" data-ended="{esc(t("projector.ended", lang))}" '
            f'data-reconnecting="{esc(t("projector.reconnecting", lang))}">\n'
            f'<main id="screen" class="screen" aria-live="polite">{self.screen(view, join_link=join_link)}</main>\n'
            '<p id="status" class="status" role="status" hidden></p>\n'
            "</body>\n</html>\n"
        )

    def screen(self, view: ProjectorView, *, join_link: str) -> str:
        """The part of the page that changes: one screen per phase of the drill."""
        screen = view.screen
        if screen is Screen.QUESTION:
            return self._question(view)
        if screen is Screen.REVEAL:
            return self._reveal(view)
        if screen is Screen.SUMMARY:
            return self._summary(view)
        if screen is Screen.BETWEEN:
            return self._between(view)
        return self._join(view, join_link)

    # ---------------------------------------------------------------- screens

    def _join(self, view: ProjectorView, join_link: str) -> str:
        t, lang, drill = self.t, view.lang, view.drill
        code = f"{drill.code[:4]} {drill.code[4:]}"  # read aloud in two halves
        qr = qr_svg(join_link)
        shown_link = join_link.removeprefix("https://")
        bot = "@" + join_link.split("t.me/", 1)[-1].split("?", 1)[0] if "t.me/" in join_link else ""
        homework = view.screen is Screen.HOMEWORK
        title = t("projector.homework_title" if homework else "projector.join_title", lang)
        if homework:
            deadline = datetime.fromtimestamp(drill.deadline or 0, UTC).strftime("%Y-%m-%d %H:%M")
            status = t("projector.homework_open", lang, deadline=deadline, finished=view.answered, students=view.joined)
        else:
            status = t("projector.waiting", lang)
        names = ""
        if view.nicknames:
            shown = view.nicknames[:NAMES_SHOWN]
            items = "".join(f"<li>{esc(echo_safe(n))}</li>" for n in shown)
            more = "<li>…</li>" if len(view.nicknames) > NAMES_SHOWN else ""
            names = f'<ul class="names">{items}{more}</ul>'
        return (
            '<section class="join">'
            f"<h1>{esc(title)}</h1>"
            '<div class="join-grid">'
            f'<figure class="qr" role="img" aria-label="{esc(t("projector.qr_alt", lang, link=join_link))}">'
            f"{qr}</figure>"
            '<div class="join-text">'
            f'<p class="label">{esc(t("projector.code_label", lang))}</p>'
            f'<p class="code">{esc(code)}</p>'
            f'<p class="link">{esc(shown_link)}</p>'
            f'<p class="how">{esc(t("projector.join_how", lang, code=drill.code, bot=bot))}</p>'
            "</div></div>"
            f'<p class="count">{esc(t("projector.joined", lang, count=view.joined))}</p>'
            f"{names}"
            f'<p class="hint">{esc(status)}</p>'
            "</section>"
        )

    def _header(self, view: ProjectorView) -> str:
        t, lang = self.t, view.lang
        assert view.item is not None
        number = t("projector.question_of", lang, number=view.item.position + 1, total=view.item.total)
        if view.remaining is not None:
            clock = (
                f'<span class="timer"><span id="timer" role="timer" data-remaining="{view.remaining:.1f}">'
                f"{int(view.remaining + 0.999)}</span> {esc(t('projector.seconds_left', lang))}</span>"
            )
        elif view.screen is Screen.QUESTION:
            clock = f'<span class="untimed">{esc(t("projector.untimed", lang))}</span>'
        else:
            clock = ""
        answered = t("projector.answered", lang, answered=view.answered, students=view.joined)
        return (
            '<header class="bar">'
            f'<span class="number">{esc(number)}</span>'
            f'<span class="answered">{esc(answered)}</span>'
            f"{clock}"
            "</header>"
        )

    def _question(self, view: ProjectorView) -> str:
        item = view.item
        assert item is not None
        lang = view.lang
        options = "".join(
            f'<li class="option o{n}">{self._badge(n)}'
            f'<span class="text">{esc(item.question.options[i].get(lang))}</span></li>'
            for n, i in enumerate(item.order)
        )
        return (
            '<section class="question">'
            f"{self._header(view)}"
            f'<h1 class="prompt">{esc(item.question.prompt.get(lang))}</h1>'
            f'<ol class="options">{options}</ol>'
            "</section>"
        )

    def _reveal(self, view: ProjectorView) -> str:
        t, lang = self.t, view.lang
        item = view.item
        assert item is not None
        question = item.question
        total = sum(view.split) or 1
        rows = []
        for n, i in enumerate(item.order):
            count = view.split[n] if n < len(view.split) else 0
            share = count / total
            right = i == question.answer
            mark = f'<span class="right-label">{esc(t("projector.right_answer", lang))}</span>' if right else ""
            rows.append(
                f'<li class="option o{n}{" right" if right else " wrong"}">'
                f"{self._badge(n)}"
                f'<span class="text">{esc(question.options[i].get(lang))}{mark}</span>'
                f'<span class="tally">{esc(t("projector.answers", lang, count=count))} · {percent(share)}%</span>'
                f'<svg class="share" viewBox="0 0 100 4" preserveAspectRatio="none" aria-hidden="true">'
                f'<rect class="track" width="100" height="4"></rect>'
                f'<rect class="fill f{n}" width="{100 * share:.1f}" height="4"></rect></svg>'
                "</li>"
            )
        sources = "".join(f"<p>{line}</p>" for line in source_lines(question, lang, self.t, HTML))
        return (
            '<section class="reveal">'
            f"{self._header(view)}"
            f'<h1 class="prompt small">{esc(question.prompt.get(lang))}</h1>'
            '<div class="reveal-grid">'
            f'<ol class="options split">{"".join(rows)}</ol>'
            '<aside class="why">'
            f"<h2>{esc(t('projector.why', lang))}</h2>"
            f"<p>{esc(question.explanation.get(lang))}</p>"
            + (f'<div class="source"><h3>{esc(t("projector.source", lang))}</h3>{sources}</div>' if sources else "")
            + "</aside></div></section>"
        )

    def _between(self, view: ProjectorView) -> str:
        return f'<section class="message"><h1>{esc(self.t("projector.between", view.lang))}</h1></section>'

    def _summary(self, view: ProjectorView) -> str:
        t, lang = self.t, view.lang
        report = view.report
        parts = [f"<h1>{esc(t('projector.summary_title', lang, code=view.drill.code))}</h1>"]
        if report is None or not report.rounds:
            parts.append(f'<p class="lead">{esc(t("projector.no_answers", lang))}</p>')
            return f'<section class="summary">{"".join(parts)}</section>'
        lines = []
        for result in report.rounds.values():
            if not result.participants:
                continue
            line = t(
                "projector.round_line",
                lang,
                round=t(f"drill.round.{result.round.value}", lang),
                percent=percent(result.accuracy),
                participants=result.participants,
            )
            lines.append(f"<li>{esc(line)}</li>")
        parts.append(f'<ul class="figures">{"".join(lines)}</ul>')
        missed = [q for q in report.most_missed() if q.accuracy < 1][:DISCUSS_SHOWN]
        if missed:
            items = "".join(
                "<li>"
                + esc(
                    t(
                        "projector.discuss_line",
                        lang,
                        number=q.position + 1,
                        percent=percent(q.accuracy),
                        prompt=clipped(self._prompt(q.question_id, lang)),
                    )
                )
                + "</li>"
                for q in missed
            )
            parts.append(
                f'<div class="discuss"><h2>{esc(t("projector.discuss_title", lang))}</h2><ul>{items}</ul></div>'
            )
        gain = report.gain_report
        if report.drill.spec.pair and gain.both and gain.mean_pre is not None and gain.mean_post is not None:
            line = t("projector.gain_line", lang, before=round(gain.mean_pre), after=round(gain.mean_post))
            parts.append(f'<p class="lead">{esc(line)}</p>')
        # Discernment needs both kinds of item: with only fakes (or only genuine ones) there is nothing to tell apart.
        judged = [r for r in report.rounds.values() if r.discernment.fakes and r.discernment.genuine]
        if judged:
            d = judged[-1].discernment  # the latest round: what the class can do now
            counts = {"hits": d.hits, "fakes": d.fakes, "false_alarms": d.false_alarms, "genuine": d.genuine}
            parts.append(
                '<div class="discern">'
                f"<h2>{esc(t('projector.discern_title', lang))}</h2>"
                f"<p>{esc(t('projector.discern_line', lang, **counts))}</p>"
                f'<p class="reading">{esc(t(f"measure.reading.{d.reading.value}", lang))}</p>'
                "</div>"
            )
        if view.podium:
            places = "".join(
                f'<li class="place p{n}"><span class="rank">{n + 1}</span>'
                + esc(
                    t(
                        "projector.podium_line",
                        lang,
                        nickname=echo_safe(p.nickname),
                        correct=p.correct,
                        answered=p.answered,
                    )
                )
                + "</li>"
                for n, p in enumerate(view.podium)
            )
            parts.append(
                f'<div class="podium"><h2>{esc(t("projector.podium_title", lang))}</h2><ol>{places}</ol></div>'
            )
        return f'<section class="summary">{"".join(parts)}</section>'

    def _prompt(self, question_id: str, lang: Lang) -> str:
        question = self.bank.get(question_id)
        return question.prompt.get(lang) if question is not None else ""

    @staticmethod
    def _badge(n: int) -> str:
        return f'<span class="badge b{n}" aria-hidden="true">{SHAPES[n]} {LETTERS[n]}</span>'
