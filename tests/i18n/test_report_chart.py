"""The report chart from hand-built data, in every language: a PNG of the promised size, a caption with the same
numbers, Chinese drawn only with fonts that have every glyph, and English (with one warning) when there is no CJK
font.

A missing CJK font fails these tests rather than skipping them: CI installs Debian's fonts-noto-cjk (.ci/run).
"""

from __future__ import annotations

import io
import itertools
import logging
import random
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fontTools.ttLib import TTFont
from matplotlib import font_manager
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.text import Text
from PIL import Image

from bot.config import PROJECT_ROOT
from bot.core.drill import DrillRound
from bot.core.lang import Lang
from bot.i18n import Translator, report_chart
from bot.i18n.report_chart import (
    CHART_SIZE,
    FONT_PACKAGE,
    ChartData,
    ChartRound,
    ReportChart,
    find_cjk_font,
    render_report_chart,
    report_caption,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
CHINESE = (Lang.ZH_HANT, Lang.ZH_HANS)
TOPICS = {
    Lang.ZH_HANT: ["無咬痕餅乾", "影片裡的手指", "查證新聞來源", "被裁掉的浮水印", "光影不一致", "聲音對不上嘴型"],
    Lang.ZH_HANS: ["无咬痕饼干", "视频里的手指", "查证新闻来源", "被裁掉的水印", "光影不一致", "声音对不上嘴型"],
    Lang.EN: ["cookie with no bite mark", "fingers in the video", "checking the source", "cropped watermark"],
}


@pytest.fixture(scope="module")
def t() -> Translator:
    return Translator.load()


def chart_data(lang: Lang, *, judged: bool, questions: int = 12, seed: int = 7) -> ChartData:
    """Pre-test, post-test and re-test; accuracies as k/25 with a 0%, a 100% and a question nobody answered."""
    rng = random.Random(seed)
    topics = TOPICS[lang]
    labels = tuple(f"Q{n + 1} · {topics[n % len(topics)]}" for n in range(questions))
    rounds = []
    for round_, participants in ((DrillRound.PRE, 25), (DrillRound.POST, 24), (DrillRound.RETEST, 21)):
        accuracy: list[float | None] = [rng.randrange(26) / 25 for _ in range(questions)]
        if round_ is DrillRound.PRE:
            accuracy[0], accuracy[1] = 0.0, 1.0
        if round_ is DrillRound.RETEST:
            accuracy[2] = None
        rounds.append(
            ChartRound(
                round=round_,
                accuracy=tuple(accuracy),
                participants=participants,
                hit_rate=rng.randrange(41) / 40 if judged else None,
                false_alarm_rate=rng.randrange(41) / 40 if judged else None,
                judged=participants * 4 if judged else 0,
            )
        )
    return ChartData(code="ABCD2345", questions=labels, rounds=tuple(rounds))


def require_cjk_font(lang: Lang) -> report_chart.FontChoice:
    font = find_cjk_font(lang)
    if font is None:
        pytest.fail(
            f"No CJK font was found for {lang.value}: install Debian's {FONT_PACKAGE} package "
            f"(apt-get install {FONT_PACKAGE}; .ci/run does this in CI) and delete ~/.cache/matplotlib"
        )
    return font


def pct(value: float) -> int:
    return round(value * 100)


@pytest.fixture
def figures(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Figure, list[str]]]:
    """Every figure drawn during a test, with the font families it was given."""
    drawn: list[tuple[Figure, list[str]]] = []
    build = report_chart._build_figure

    def keep(data: Any, words: Any, labels: Any, families: list[str], size: Any) -> Figure:
        fig = build(data, words, labels, families, size)
        drawn.append((fig, families))
        return fig

    monkeypatch.setattr(report_chart, "_build_figure", keep)
    return drawn


def font_file(family: str, prop: FontProperties) -> tuple[str, int]:
    """The file (and face of a collection) matplotlib resolves `family` at this weight and style to."""
    path = font_manager.fontManager.findfont(
        FontProperties(family=family, weight=prop.get_weight(), style=prop.get_style()), fallback_to_default=False
    )
    return str(getattr(path, "path", path)), int(getattr(path, "face_index", 0))


_CMAPS: dict[tuple[str, int], set[int]] = {}


def cmap(path: str, index: int) -> set[int]:
    """The font's own character map, read with fontTools (not through the module under test)."""
    if (path, index) not in _CMAPS:
        with TTFont(path, fontNumber=index, lazy=True) as font:
            _CMAPS[path, index] = set(font.getBestCmap())
    return _CMAPS[path, index]


def drawn_texts(fig: Figure) -> list[Text]:
    return [text for text in fig.findobj(Text) if isinstance(text, Text) and text.get_visible() and text.get_text()]


def assert_valid_png(chart: ReportChart) -> None:
    assert chart.png.startswith(PNG_SIGNATURE)
    with Image.open(io.BytesIO(chart.png)) as image:
        image.verify()
    with Image.open(io.BytesIO(chart.png)) as image:
        assert image.size == CHART_SIZE
        image.load()
    assert (chart.width, chart.height) == CHART_SIZE


@pytest.mark.parametrize("judged", [True, False], ids=["judgments", "no-judgments"])
@pytest.mark.parametrize("lang", list(Lang), ids=[lang.value for lang in Lang])
def test_chart_in_every_language(t: Translator, lang: Lang, judged: bool, figures: list[Any]) -> None:
    if lang in CHINESE:
        require_cjk_font(lang)
    data = chart_data(lang, judged=judged)
    chart = render_report_chart(data, t, lang)
    assert_valid_png(chart)
    assert chart.lang_used is lang
    assert chart.font_ok
    assert chart.caption == report_caption(data, t, lang)
    assert chart.caption.splitlines()[0] == t("chart.title", lang, code="ABCD2345")
    (fig, _), *_ = figures
    # The rounds' legend, the bars, and the discernment panel only when some round had judgments.
    assert len(fig.axes) == (3 if judged else 2)
    texts = {text.get_text() for text in drawn_texts(fig)}
    assert t("chart.title", lang, code="ABCD2345") in texts
    assert t("chart.accuracy_axis", lang) in texts
    assert (t("chart.discern_title", lang) in texts) is judged
    assert (t("chart.hit", lang) in texts) is judged


@pytest.mark.parametrize("judged", [True, False], ids=["judgments", "no-judgments"])
@pytest.mark.parametrize("lang", list(Lang), ids=[lang.value for lang in Lang])
def test_twenty_questions_fit_the_canvas(t: Translator, lang: Lang, judged: bool, figures: list[Any]) -> None:
    """Every word inside the picture, the title clear of the legend, and the bars given most of the width (a
    legend wider than its panel once squeezed the bars into a third of it)."""
    if lang in CHINESE:
        require_cjk_font(lang)
    render_report_chart(chart_data(lang, judged=judged, questions=20), t, lang)
    (fig, _), *_ = figures
    renderer = fig.canvas.get_renderer()
    canvas = fig.bbox
    boxes = {id(text): text.get_window_extent(renderer) for text in drawn_texts(fig)}
    for text in drawn_texts(fig):
        box = boxes[id(text)]
        assert box.x0 >= -1 and box.y0 >= -1, text.get_text()
        assert box.x1 <= canvas.x1 + 1 and box.y1 <= canvas.y1 + 1, text.get_text()
    title = fig.get_suptitle()
    title_box = next(boxes[id(x)] for x in drawn_texts(fig) if x.get_text() == title)
    for legend_text in fig.axes[0].get_legend().get_texts():
        assert not title_box.overlaps(legend_text.get_window_extent(renderer)), legend_text.get_text()
    bars = fig.axes[1].get_window_extent(renderer)
    assert bars.width >= canvas.width * (0.6 if judged else 0.8)
    if judged:
        panel = fig.axes[2].get_window_extent(renderer)
        assert panel.width >= canvas.width * 0.15 and panel.x0 > bars.x1
        ticks = [label.get_window_extent(renderer) for label in fig.axes[2].get_xticklabels()]
        assert all(not a.overlaps(b) for a, b in itertools.pairwise(ticks))


@pytest.mark.parametrize("judged", [True, False], ids=["judgments", "no-judgments"])
@pytest.mark.parametrize("lang", list(Lang), ids=[lang.value for lang in Lang])
def test_the_caption_has_the_inputs_numbers(t: Translator, lang: Lang, judged: bool) -> None:
    data = chart_data(lang, judged=judged)
    lines = report_caption(data, t, lang).splitlines()
    rounds = data.rounds
    per_round, rest = lines[1 : 1 + len(rounds)], lines[1 + len(rounds) :]
    for line, r in zip(per_round, rounds, strict=True):
        assert line.startswith(t(f"chart.round.{r.round.value}", lang))
        answered = [a for a in r.accuracy if a is not None]
        assert [int(n) for n in re.findall(r"\d+", line)] == [r.participants, pct(sum(answered) / len(answered))]
    if judged:
        discern, questions = rest[: len(rounds)], rest[len(rounds) :]
        for line, r in zip(discern, rounds, strict=True):
            assert r.hit_rate is not None and r.false_alarm_rate is not None
            assert [int(n) for n in re.findall(r"\d+", line)] == [pct(r.hit_rate), pct(r.false_alarm_rate), r.judged]
            assert f"(H) {pct(r.hit_rate)}%" in line.replace("（H）", "(H) ")
    else:
        assert rest[0] == t("chart.caption_no_discern", lang)
        questions = rest[1:]
    assert len(questions) == len(data.questions)
    nobody = t("chart.not_answered", lang)
    for position, (line, label) in enumerate(zip(questions, data.questions, strict=True)):
        assert line.startswith(label)
        results = line[len(label) :]
        values = [r.accuracy[position] for r in rounds]
        assert [int(n) for n in re.findall(r"(\d+)%", results)] == [pct(v) for v in values if v is not None]
        assert results.count(nobody) == values.count(None)
        for r in rounds:  # each value named with its round, in teaching order
            assert t(f"chart.round.{r.round.value}", lang) in results


@pytest.mark.parametrize("lang", CHINESE, ids=[lang.value for lang in CHINESE])
def test_chinese_is_drawn_with_fonts_that_have_every_glyph(t: Translator, lang: Lang, figures: list[Any]) -> None:
    font = require_cjk_font(lang)
    families = {e.name for e in font_manager.fontManager.ttflist}
    preferred = "Noto Sans CJK TC" if lang is Lang.ZH_HANT else "Noto Sans CJK SC"
    if preferred in families:  # the region's face: Taiwan's character forms for Traditional, China's for Simplified
        assert font.family == preferred
    chart = render_report_chart(chart_data(lang, judged=True), t, lang)
    assert chart.font_ok and chart.lang_used is lang
    (fig, given), *_ = figures
    assert given[0] == font.family  # Chinese first, the Latin font only behind it
    checked = 0
    for text in drawn_texts(fig):
        prop = text.get_fontproperties()
        files = [font_file(family, prop) for family in prop.get_family()]
        first = cmap(*files[0])
        for ch in set(text.get_text()) - {" ", "\n"}:
            assert any(ord(ch) in cmap(*f) for f in files), (ch, text.get_text(), files)
            if ord(ch) >= 0x2E80:  # CJK: from the chosen font itself, not a fallback
                assert ord(ch) in first, (ch, text.get_text(), files[0])
        checked += 1
    assert checked > 50  # title, axes, legends, ticks, value labels
    # Every chart word, through the file matplotlib resolved for the family, regular and bold.
    words = [t(key, lang) for key in t.keys(lang) if key.startswith("chart.")]
    for weight in ("normal", "bold"):
        path = font_file(font.family, FontProperties(weight=weight))
        missing = {ch for ch in "".join(words) if not ch.isspace() and ord(ch) not in cmap(*path)}
        assert missing == set(), (weight, path)


def test_without_a_cjk_font_chinese_falls_back_to_english_and_warns_once(
    t: Translator, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, figures: list[Any]
) -> None:
    monkeypatch.setattr(report_chart, "find_cjk_font", lambda lang: None)
    monkeypatch.setattr(report_chart, "_NO_FONT_WARNING", report_chart._Once())
    caplog.set_level(logging.WARNING, logger=report_chart.__name__)
    charts = [
        render_report_chart(chart_data(Lang.ZH_HANT, judged=True), t, Lang.ZH_HANT),
        render_report_chart(chart_data(Lang.ZH_HANS, judged=False), t, Lang.ZH_HANS),
    ]
    for chart in charts:
        assert_valid_png(chart)
        assert chart.lang_used is Lang.EN and not chart.font_ok
    warnings = [r for r in caplog.records if r.name == report_chart.__name__ and r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert FONT_PACKAGE in warnings[0].getMessage()
    # The caption is text, read in the teacher's own language; the drawing is English only.
    assert charts[0].caption.splitlines()[0] == t("chart.title", Lang.ZH_HANT, code="ABCD2345")
    latin = font_file("DejaVu Sans", FontProperties())
    for fig, families in figures:
        assert families == ["DejaVu Sans"]
        texts = [text.get_text() for text in drawn_texts(fig)]
        assert t("chart.title", Lang.EN, code="ABCD2345") in texts
        assert "Q3" in texts  # a Chinese question label drawn by its number alone
        for text in texts:
            assert all(ord(ch) in cmap(*latin) for ch in text if not ch.isspace()), text


def test_a_font_installed_after_matplotlib_cached_its_font_list_is_found(monkeypatch: pytest.MonkeyPatch) -> None:
    """matplotlib keeps its font list in a cache file; a CJK font installed since is looked for on the system."""
    expected = require_cjk_font(Lang.ZH_HANT)
    manager = font_manager.fontManager
    stale = [e for e in manager.ttflist if not report_chart._CJK_FILE_NAME.search(e.fname.rsplit("/", 1)[-1])]
    assert report_chart._best_font(stale, report_chart.FONT_PREFERENCE[Lang.ZH_HANT]) is None
    monkeypatch.setattr(manager, "ttflist", stale)
    report_chart._find_font.cache_clear()
    try:
        font = find_cjk_font(Lang.ZH_HANT)
    finally:
        report_chart._find_font.cache_clear()
        manager._findfont_cached.cache_clear()
    assert font is not None and font.family == expected.family


def test_an_english_chart_needs_no_cjk_font(t: Translator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(report_chart, "find_cjk_font", lambda lang: None)
    chart = render_report_chart(chart_data(Lang.EN, judged=True), t, Lang.EN)
    assert_valid_png(chart)
    assert chart.font_ok and chart.lang_used is Lang.EN


def test_twenty_questions_and_odd_rounds(t: Translator, figures: list[Any]) -> None:
    """20 questions with long labels, a round without judgments beside two with, and a round nobody finished."""
    require_cjk_font(Lang.ZH_HANT)
    base = chart_data(Lang.ZH_HANT, judged=True, questions=20)
    pre, post, retest = base.rounds
    post = ChartRound(round=DrillRound.POST, accuracy=post.accuracy, participants=post.participants)
    retest = ChartRound(
        round=DrillRound.RETEST, accuracy=(None,) * 20, participants=0, hit_rate=None, false_alarm_rate=0.5, judged=2
    )
    data = ChartData(
        code="ABCD2345",
        questions=tuple(f"{label}，而且這個標籤寫得特別長，長到一行放不下" for label in base.questions),
        rounds=(pre, post, retest),
    )
    chart = render_report_chart(data, t, Lang.ZH_HANT)
    assert_valid_png(chart)
    lines = chart.caption.splitlines()
    assert t("chart.caption_discern_none", Lang.ZH_HANT, round="後測") in lines
    assert any(line.startswith("重測") and "無人作答" in line for line in lines[1:4])
    (fig, _), *_ = figures
    ticks = [label.get_text() for label in fig.axes[1].get_xticklabels()]
    assert len(ticks) == 20
    assert all(tick.endswith("…") and tick.startswith(f"Q{n + 1} ") for n, tick in enumerate(ticks))


def test_a_drill_nobody_answered(t: Translator) -> None:
    data = ChartData(code="ABCD2345", questions=("Q1 · a",), rounds=())
    chart = render_report_chart(data, t, Lang.EN)
    assert_valid_png(chart)
    assert chart.caption.splitlines() == [t("chart.title", Lang.EN, code="ABCD2345"), t("chart.no_rounds", Lang.EN)]


def test_chart_data_is_checked() -> None:
    with pytest.raises(ValueError, match="2 accuracies for 1 questions"):
        ChartData(
            code="X",
            questions=("Q1",),
            rounds=(ChartRound(round=DrillRound.MAIN, accuracy=(0.5, 0.5), participants=1),),
        )
    with pytest.raises(ValueError, match="outside"):
        ChartData(
            code="X", questions=("Q1",), rounds=(ChartRound(round=DrillRound.MAIN, accuracy=(1.5,), participants=1),)
        )


@pytest.mark.slow
def test_charts_drawn_in_threads_equal_those_drawn_one_by_one(t: Translator) -> None:
    jobs = [
        (chart_data(lang, judged=judged, seed=n), lang)
        for n, (lang, judged) in enumerate(
            [(Lang.EN, True), (Lang.EN, False), (Lang.ZH_HANT, True), (Lang.ZH_HANS, False)]
        )
    ]
    alone = [render_report_chart(data, t, lang).png for data, lang in jobs]
    with ThreadPoolExecutor(max_workers=4) as pool:
        together = list(pool.map(lambda job: render_report_chart(job[0], t, job[1]).png, jobs * 2))
    assert together == alone * 2


def test_matplotlib_is_imported_only_when_a_chart_is_drawn() -> None:
    code = (
        "import sys, bot.i18n.report_chart; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('matplotlib', 'fontTools')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=PROJECT_ROOT, check=True)
    assert result.stdout.strip() == "[]"
