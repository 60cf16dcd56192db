"""The longest questions of the bank fit a 1280x720 projector, asked and revealed, in every language: the page's
script shrinks the type until nothing needs scrolling (nobody scrolls a projector), and never below a readable size.
The end-to-end browser test draws its questions at random; this one takes the worst cases on purpose."""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

import pytest

from bot.core.drill import Drill, DrillId, DrillMode, DrillPhase, DrillRound, DrillSpec
from bot.core.engine import QuizItem
from bot.core.lang import Lang
from bot.core.model import Question
from bot.core.projector import screen_of
from bot.i18n import translator
from bot.services.drill_views import LiveItem
from bot.services.projector import ProjectorView
from bot.web.page import ProjectorPage
from tests.telegram.conftest import BANK
from tests.web.browser import open_browser, require_browser, screenshot, text_contrast_failures

WORST = 3  # the longest questions per language
SMALLEST_SCALE = 0.6  # of the design size: still readable from the back of a classroom


def reveal_length(question: Question, lang: Lang) -> int:
    parts = [question.prompt.get(lang), question.explanation.get(lang), *(o.get(lang) for o in question.options)]
    return sum(len(part) for part in parts) * (2 if lang is not Lang.EN else 1)  # a CJK character is twice as wide


def view_of(question: Question, lang: Lang, phase: DrillPhase) -> ProjectorView:
    item = QuizItem(question_id=question.id, order=tuple(range(len(question.options))))
    drill = Drill(
        id=DrillId("d1"),
        code="ABCD2345",
        teacher_id=1,
        spec=DrillSpec(mode=DrillMode.LIVE, lang=lang, seconds=30),
        items=(item,) * 12,
        phase=phase,
        round=DrillRound.MAIN,
        position=11,
        projector_token="t",
    )
    live = LiveItem(drill_id=drill.id, round=drill.round, position=11, total=12, question=question, order=item.order)
    split = tuple(9 + n for n in range(len(question.options)))
    return ProjectorView(
        drill=drill,
        screen=screen_of(drill),
        lang=lang,
        joined=38,
        item=live,
        answered=37,
        remaining=25.0 if phase is DrillPhase.ASKING else None,
        split=split if phase is DrillPhase.REVEALED else (),
    )


@pytest.mark.slow
def test_the_longest_questions_fit_the_screen(tmp_path: Path) -> None:
    require_browser()
    static = tmp_path / "static"
    static.mkdir()
    for name in ("projector.css", "projector.js"):
        with resources.as_file(resources.files("bot.web") / "static" / name) as source:
            shutil.copy(source, static / name)
    page = ProjectorPage(translator(), BANK)
    with open_browser(1280, 720) as driver:
        for lang in Lang:
            worst = sorted(BANK.questions, key=lambda q: reveal_length(q, lang), reverse=True)[:WORST]
            for rank, question in enumerate(worst):
                for phase in (DrillPhase.ASKING, DrillPhase.REVEALED):
                    document = tmp_path / f"{lang.value}-{rank}-{phase.value}.html"
                    html = page.document(
                        view_of(question, lang, phase), join_link="https://t.me/b?start=X", static="static"
                    )
                    document.write_text(html, encoding="utf-8")
                    driver.get(document.as_uri())
                    fits = driver.execute_script(
                        "const r = document.documentElement;"
                        "return [r.scrollHeight, window.innerHeight, r.scrollWidth, window.innerWidth]"
                    )
                    assert fits[0] <= fits[1] and fits[2] <= fits[3], (lang, question.id, phase, fits)
                    scale = driver.execute_script(
                        "const r = document.documentElement, now = parseFloat(getComputedStyle(r).fontSize);"
                        "r.style.fontSize = ''; const design = parseFloat(getComputedStyle(r).fontSize);"
                        "return now / design"
                    )
                    assert scale >= SMALLEST_SCALE, (lang, question.id, phase, scale)
                    driver.execute_script("location.reload()")  # undo the probe before looking at contrast
                    assert not text_contrast_failures(driver), (lang, question.id, phase)
                    if rank == 0:
                        screenshot(driver, f"{lang.value}-longest-{phase.value}-1280x720")
