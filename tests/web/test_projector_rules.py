"""The projector's rules without a browser or a bot: who may see a link, which screen a phase shows, the rate limits,
and the page's colours checked against WCAG AA from the stylesheet itself (the browser test checks the rendered
page too)."""

from __future__ import annotations

import re
from dataclasses import replace
from importlib import resources

import pytest

from bot.core.drill import Drill, DrillId, DrillMode, DrillPhase, DrillRound, DrillSpec
from bot.core.lang import Lang
from bot.core.projector import AFTER_CLOSE_SECONDS, TOKEN_BYTES, Screen, may_view, new_token, screen_of
from bot.web.contrast import AA_LARGE, AA_NORMAL, contrast_ratio, parse_colour
from bot.web.server import RateLimit

NOW = 1_700_000_000.0


def a_drill(**changes: object) -> Drill:
    drill = Drill(
        id=DrillId("d1"),
        code="ABCD2345",
        teacher_id=1,
        spec=DrillSpec(mode=DrillMode.LIVE),
        items=(),
        phase=DrillPhase.WAITING,
        round=DrillRound.MAIN,
        projector_token=new_token(),
    )
    return replace(drill, **changes)  # type: ignore[arg-type]


def test_tokens_are_long_random_and_url_safe() -> None:
    tokens = {new_token() for _ in range(200)}
    assert len(tokens) == 200
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{32}", token) for token in tokens)  # 32 characters of 6 bits: 192 bits
    assert TOKEN_BYTES * 8 >= 128


def test_only_the_drills_own_token_opens_it_and_only_while_it_lasts() -> None:
    drill = a_drill()
    token = drill.projector_token
    assert token is not None
    assert may_view(drill, token, now=NOW)
    assert not may_view(drill, token[:-1], now=NOW)
    assert not may_view(drill, token + "x", now=NOW)
    assert not may_view(drill, "", now=NOW)
    assert not may_view(None, token, now=NOW)
    assert not may_view(replace(drill, projector_token=None), "", now=NOW)  # a drill from before the projector
    closed = replace(drill, phase=DrillPhase.CLOSED, closed_at=NOW)
    assert may_view(closed, token, now=NOW + AFTER_CLOSE_SECONDS - 1)  # the summary stays up a while
    assert not may_view(closed, token, now=NOW + AFTER_CLOSE_SECONDS)


@pytest.mark.parametrize(
    ("phase", "screen"),
    [
        (DrillPhase.WAITING, Screen.JOIN),
        (DrillPhase.ASKING, Screen.QUESTION),
        (DrillPhase.REVEALED, Screen.REVEAL),
        (DrillPhase.OPEN, Screen.HOMEWORK),
        (DrillPhase.BETWEEN, Screen.BETWEEN),
        (DrillPhase.CLOSED, Screen.SUMMARY),
    ],
)
def test_each_phase_has_its_screen(phase: DrillPhase, screen: Screen) -> None:
    assert screen_of(a_drill(phase=phase)) is screen


def test_the_rate_limit_allows_a_burst_then_the_rate_per_client() -> None:
    clock = [0.0]
    limit = RateLimit(rate=2.0, burst=5.0, clock=lambda: clock[0])
    assert [limit.allow("a") for _ in range(6)] == [True] * 5 + [False]
    assert limit.allow("b")  # another client has its own bucket
    assert limit.spent("a") and not limit.spent("b")
    clock[0] += 1.0  # two more a second
    assert [limit.allow("a") for _ in range(3)] == [True, True, False]


def stylesheet_colours() -> dict[str, str]:
    css = (resources.files("bot.web") / "static" / "projector.css").read_text(encoding="utf-8")
    return dict(re.findall(r"--([a-z0-9]+):\s*(#[0-9a-fA-F]{6})", css))


def test_the_page_colours_meet_wcag_aa() -> None:
    """Every text colour on every ground it is used on; the option colours as graphics (3:1, WCAG 1.4.11) against
    the ground, the cards and the bars' track, so the bars and stripes stand out for everyone."""
    colours = stylesheet_colours()
    options = [colours[f"o{n}"] for n in range(6)]
    text_pairs = [(colours[fore], colours[back]) for fore in ("text", "muted") for back in ("ground", "card")] + [
        ("#000000", back) for back in [*options, colours["highlight"]]
    ]  # badges, the right answer's label
    for fore, back in text_pairs:
        assert contrast_ratio(parse_colour(fore), parse_colour(back)) >= AA_NORMAL, (fore, back)
    for colour in options:
        for back in ("ground", "track"):
            assert contrast_ratio(parse_colour(colour), parse_colour(colours[back])) >= AA_LARGE, (colour, back)


def test_the_option_colours_are_the_okabe_ito_palette() -> None:
    """Okabe & Ito's palette: told apart with any common colour-vision deficiency (the charts use it too)."""
    okabe_ito = {"#e69f00", "#56b4e9", "#009e73", "#f0e442", "#0072b2", "#d55e00", "#cc79a7"}
    assert {stylesheet_colours()[f"o{n}"].lower() for n in range(6)} <= okabe_ito


def test_the_summary_shows_discernment_when_the_drill_judged_both_kinds() -> None:
    """A drill with real-or-fake items: the summary says how many fakes the class caught and how many genuine items it
    doubted, with the plain-words reading; without both kinds of item it says nothing of discernment."""
    from bot.core.drill import DrillAnswer
    from bot.core.drill_report import build_report
    from bot.core.engine import QuizItem
    from bot.core.model import QuestionType, Verdict
    from bot.i18n import translator
    from bot.services.projector import ProjectorView
    from bot.web.page import ProjectorPage
    from tests.telegram.conftest import BANK

    judge = [q for q in BANK.questions if q.type is QuestionType.JUDGE]
    fakes = [q for q in judge if q.verdict is Verdict.MANIPULATED][:3]
    genuine = [q for q in judge if q.verdict is Verdict.GENUINE][:3]
    questions = fakes + genuine
    drill = a_drill(
        phase=DrillPhase.CLOSED,
        closed_at=NOW,
        items=tuple(QuizItem(question_id=q.id, order=tuple(range(len(q.options)))) for q in questions),
        spec=DrillSpec(mode=DrillMode.LIVE, lang=None),
    )
    answers = []
    for student in range(4):
        for position, question in enumerate(questions):
            right = student < 3  # three students right on everything, one wrong on everything
            chosen = question.answer if right else next(i for i in range(len(question.options)) if i != question.answer)
            answers.append(
                DrillAnswer(
                    round=DrillRound.MAIN,
                    nickname=f"Owl {student}",
                    user_id=student,
                    position=position,
                    question_id=question.id,
                    chosen=chosen,
                    correct=right,
                    confidence=None,
                    elapsed_ms=1000,
                    answered_at=NOW,
                )
            )
    report = build_report(drill, answers, students=4, bank=BANK)
    page = ProjectorPage(translator(), BANK)
    view = ProjectorView(drill=drill, screen=Screen.SUMMARY, lang=Lang.EN, joined=4, report=report)
    summary = page.screen(view, join_link="https://t.me/b?start=X")
    assert "Telling genuine from fake" in summary
    assert "Fakes caught: 9 of 12. Genuine items doubted: 3 of 12." in summary
    assert "75% of answers right in the drill, from 4 students" in summary
    only_fakes = build_report(drill, [a for a in answers if a.position < 3], students=4, bank=BANK)
    view = ProjectorView(drill=drill, screen=Screen.SUMMARY, lang=Lang.EN, joined=4, report=only_fakes)
    assert "Telling genuine from fake" not in page.screen(view, join_link="https://t.me/b?start=X")
