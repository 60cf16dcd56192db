"""The drill report's chart: how the class did on each question in each round, and how well it told fakes from
genuine, in the teacher's language.

Drawn with matplotlib, imported only when a chart is drawn (the bot starts without paying for it), on a `Figure` of
its own with an Agg canvas: no pyplot and no change to matplotlib's global settings, so charts may be drawn from
several threads at once. Each round has a colour from Okabe and Ito's colour-blind-safe palette *and* a hatch
pattern, and every bar carries its value, so nothing is told by colour alone.

Chinese needs a CJK font on the machine (Debian's `fonts-noto-cjk`). Without one, a Chinese chart is drawn in
English and one warning is logged for the process: a chart never shows tofu boxes. Every string is checked against
the character map of the fonts it is drawn with before it is drawn.
"""

from __future__ import annotations

import io
import logging
import re
import struct
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING

from ..core.drill import DrillRound
from ..core.lang import Lang
from . import Translator

if TYPE_CHECKING:
    from collections.abc import Callable

    from matplotlib.axes import Axes
    from matplotlib.container import BarContainer
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties

    _FontMaker = Callable[..., FontProperties]

log = logging.getLogger(__name__)

CHART_SIZE = (1600, 900)  # px: a projector's 16:9
DPI = 100
FONT_PACKAGE = "fonts-noto-cjk"  # Debian's package with the fonts preferred below
LATIN_FAMILY = "DejaVu Sans"  # ships with matplotlib, so it is always there

# Okabe & Ito (2008), "Color Universal Design": told apart by people with any common colour-vision deficiency.
# Each round also has its own hatch, and the legend and the value labels say the rest in words and numbers.
ROUND_STYLE: dict[DrillRound, tuple[str, str]] = {
    DrillRound.PRE: ("#E69F00", "//"),  # orange, diagonal lines
    DrillRound.MAIN: ("#56B4E9", ".."),  # sky blue, dots
    DrillRound.POST: ("#0072B2", ""),  # blue, solid
    DrillRound.RETEST: ("#CC79A7", "xx"),  # reddish purple, crosses
}
HIT_STYLE = ("#009E73", "")  # bluish green, solid: caught fakes
FALSE_ALARM_STYLE = ("#D55E00", "\\\\")  # vermillion, back-slashes: doubted genuine
EDGE = "#1a1a1a"  # bar outlines and hatches

# CJK font families in order of preference. Noto Sans CJK (one .ttc with a face per region) is Debian's
# fonts-noto-cjk; the TC face draws Traditional characters in Taiwan's forms, the SC face Simplified in China's.
_TC_FAMILIES = (
    "Noto Sans CJK TC",
    "Noto Sans TC",
    "Source Han Sans TC",
    "Source Han Sans TW",
    "Noto Sans CJK HK",
    "Noto Sans HK",
    "Source Han Sans HK",
)
_SC_FAMILIES = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN")
_OTHER_FAMILIES = (
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Droid Sans Fallback",
    "Noto Sans CJK JP",
    "Source Han Sans",
    "Source Han Sans JP",
    "Noto Sans CJK KR",
    "AR PL UMing TW",
    "AR PL UMing CN",
    "Noto Serif CJK TC",
    "Noto Serif CJK SC",
)
FONT_PREFERENCE: dict[Lang, tuple[str, ...]] = {
    Lang.ZH_HANT: _TC_FAMILIES + _SC_FAMILIES + _OTHER_FAMILIES,
    Lang.ZH_HANS: _SC_FAMILIES + _TC_FAMILIES + _OTHER_FAMILIES,
    Lang.EN: _TC_FAMILIES + _SC_FAMILIES + _OTHER_FAMILIES,  # English charts need one only for CJK question labels
}
# Font files worth adding to matplotlib's font list when its cache predates the font's installation.
_CJK_FILE_NAME = re.compile(r"cjk|sourcehan|wqy|wenquanyi|droidsansfallback|notosans(tc|sc|hk)|uming|ukai", re.I)

_ROUND_KEYS = {
    DrillRound.MAIN: "chart.round.main",
    DrillRound.PRE: "chart.round.pre",
    DrillRound.POST: "chart.round.post",
    DrillRound.RETEST: "chart.round.retest",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class ChartRound:
    """One round as the chart shows it."""

    round: DrillRound
    accuracy: tuple[float | None, ...]  # per question, share right in 0..1; None: nobody answered it
    participants: int
    hit_rate: float | None = None  # judgment items: share of the fakes judged fake; None: none in this round
    false_alarm_rate: float | None = None  # share of the genuine items judged fake
    judged: int = 0  # judgment answers the two rates are taken over

    @property
    def has_judgments(self) -> bool:
        return self.hit_rate is not None or self.false_alarm_rate is not None

    @property
    def mean_accuracy(self) -> float | None:
        """The mean over the questions somebody answered (each question counts once)."""
        answered = [a for a in self.accuracy if a is not None]
        return sum(answered) / len(answered) if answered else None


@dataclass(frozen=True, slots=True, kw_only=True)
class ChartData:
    """What the chart shows, independent of storage: the caller builds it from a report."""

    code: str
    questions: tuple[str, ...]  # short labels, e.g. "Q3 · cookie with no bite mark"
    rounds: tuple[ChartRound, ...]  # in teaching order (pre, main, post, re-test)

    def __post_init__(self) -> None:
        for r in self.rounds:
            if len(r.accuracy) != len(self.questions):
                raise ValueError(f"round {r.round}: {len(r.accuracy)} accuracies for {len(self.questions)} questions")
            rates = [*r.accuracy, r.hit_rate, r.false_alarm_rate]
            if any(v is not None and not 0.0 <= v <= 1.0 for v in rates):
                raise ValueError(f"round {r.round}: a share outside 0..1")
            if r.participants < 0 or r.judged < 0:
                raise ValueError(f"round {r.round}: a negative count")

    @property
    def has_judgments(self) -> bool:
        return any(r.has_judgments for r in self.rounds)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportChart:
    """A drawn chart and the same numbers as text."""

    png: bytes
    caption: str  # for screen readers, in the requested language (may be longer than Telegram's 1,024-char caption)
    width: int  # px, read back from the PNG
    height: int
    font_ok: bool  # False: something was drawn in a fallback (English for lack of a CJK font, or a shortened label)
    lang_used: Lang  # the language the chart's own words are drawn in


@dataclass(frozen=True, slots=True)
class FontChoice:
    """A font family as matplotlib knows it, and the face its regular weight resolves to."""

    family: str
    path: str
    index: int = 0  # the face in a collection (.ttc)


class _Once:
    """True the first time only, across threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._done = False

    def first(self) -> bool:
        with self._lock:
            done, self._done = self._done, True
            return not done


_NO_FONT_WARNING = _Once()
_FONT_LOCK = threading.Lock()


def find_cjk_font(lang: Lang) -> FontChoice | None:
    """The preferred CJK font on this machine for `lang`, or None when there is none."""
    return _find_font(FONT_PREFERENCE[lang])


@cache
def _find_font(preference: tuple[str, ...]) -> FontChoice | None:
    from matplotlib import font_manager

    with _FONT_LOCK:
        found = _best_font(font_manager.fontManager.ttflist, preference)
        if found is None and _add_system_cjk_fonts():
            found = _best_font(font_manager.fontManager.ttflist, preference)
    return found


def _best_font(entries: Iterable[object], preference: tuple[str, ...]) -> FontChoice | None:
    rank = {name: n for n, name in enumerate(preference)}
    best: tuple[tuple[int, int, int], FontChoice] | None = None
    for entry in entries:
        name = str(getattr(entry, "name", ""))
        if name not in rank:
            continue
        weight = getattr(entry, "weight", 400)
        weight = weight if isinstance(weight, int) else 400
        key = (rank[name], abs(weight - 400), int(getattr(entry, "style", "normal") != "normal"))
        choice = FontChoice(name, str(getattr(entry, "fname", "")), int(getattr(entry, "index", 0)))
        if best is None or key < best[0]:
            best = (key, choice)
    return best[1] if best else None


def _add_system_cjk_fonts() -> bool:
    """matplotlib caches the font list on first use: a font installed since is unknown to it. Add such files."""
    from matplotlib import font_manager

    known = {str(getattr(entry, "fname", "")) for entry in font_manager.fontManager.ttflist}
    added = False
    for path in font_manager.findSystemFonts():
        if path in known or not _CJK_FILE_NAME.search(path.rsplit("/", 1)[-1]):
            continue
        try:
            font_manager.fontManager.addfont(path)
            added = True
        except (OSError, RuntimeError, ValueError):  # an unreadable file: skip it
            continue
    return added


@cache
def _resolve(family: str) -> FontChoice:
    """The file matplotlib draws `family` (regular weight) from; DejaVu Sans, matplotlib's own, when unknown."""
    from matplotlib import font_manager

    path = font_manager.fontManager.findfont(font_manager.FontProperties(family=family))
    return FontChoice(family, str(getattr(path, "path", path)), int(getattr(path, "face_index", 0)))


@cache
def charmap(path: str, index: int = 0) -> frozenset[int]:
    """Every code point a font file (the face `index` of a collection) has a glyph for."""
    from fontTools.ttLib import TTFont

    with TTFont(path, fontNumber=index, lazy=True) as font:
        return frozenset(font.getBestCmap() or {})


def missing_glyphs(text: str, fonts: Sequence[FontChoice]) -> set[str]:
    """The characters of `text` (other than white space) that none of `fonts` can draw."""
    maps = [charmap(f.path, f.index) for f in fonts]
    return {ch for ch in set(text) if not ch.isspace() and not any(ord(ch) in m for m in maps)}


def round_name(t: Translator, lang: Lang, round_: DrillRound) -> str:
    return t(_ROUND_KEYS[round_], lang)


def percent(value: float | None) -> str | None:
    """A share as a whole percentage ("52%"), or None for no value."""
    return None if value is None else f"{round(value * 100)}%"


@dataclass(frozen=True, slots=True, kw_only=True)
class _Words:
    """Every word the chart draws (question labels apart), in one language."""

    title: str
    accuracy_axis: str
    question_axis: str
    legend: tuple[str, ...]  # per round
    not_answered: str
    dash_note: str
    no_rounds: str
    discern_title: str
    rate_axis: str
    hit: str
    false_alarm: str
    round_ticks: tuple[str, ...]  # per round, under the discernment panel
    extra: tuple[str, ...] = field(default=())

    def all(self) -> list[str]:
        return [
            self.title,
            self.accuracy_axis,
            self.question_axis,
            *self.legend,
            self.not_answered,
            self.dash_note,
            self.no_rounds,
            self.discern_title,
            self.rate_axis,
            self.hit,
            self.false_alarm,
            *self.round_ticks,
            *self.extra,
        ]


def _words(data: ChartData, t: Translator, lang: Lang) -> _Words:
    not_answered = t("chart.not_answered", lang)
    legend = tuple(
        t(
            "chart.legend_round",
            lang,
            round=round_name(t, lang, r.round),
            participants=r.participants,
            accuracy=percent(r.mean_accuracy) or not_answered,
        )
        for r in data.rounds
    )
    ticks = tuple(
        round_name(t, lang, r.round)
        + "\n"
        + (t("chart.judged", lang, count=r.judged) if r.has_judgments else t("chart.no_judged", lang))
        for r in data.rounds
    )
    return _Words(
        title=t("chart.title", lang, code=data.code),
        accuracy_axis=t("chart.accuracy_axis", lang),
        question_axis=t("chart.question_axis", lang),
        legend=legend,
        not_answered=not_answered,
        dash_note=t("chart.dash_note", lang),
        no_rounds=t("chart.no_rounds", lang),
        discern_title=t("chart.discern_title", lang),
        rate_axis=t("chart.rate_axis", lang),
        hit=t("chart.hit", lang),
        false_alarm=t("chart.false_alarm", lang),
        round_ticks=ticks,
        extra=("0123456789%–HF",),  # value labels
    )


def report_caption(data: ChartData, t: Translator, lang: Lang) -> str:
    """The chart's numbers as text, one line each: the title, each round, discernment, then each question."""
    nobody = t("chart.not_answered", lang)
    lines = [t("chart.title", lang, code=data.code)]
    if not data.rounds:
        return "\n".join([*lines, t("chart.no_rounds", lang)])
    for r in data.rounds:
        lines.append(
            t(
                "chart.caption_round",
                lang,
                round=round_name(t, lang, r.round),
                participants=r.participants,
                accuracy=percent(r.mean_accuracy) or nobody,
            )
        )
    if data.has_judgments:
        for r in data.rounds:
            name = round_name(t, lang, r.round)
            if not r.has_judgments:
                lines.append(t("chart.caption_discern_none", lang, round=name))
                continue
            lines.append(
                t(
                    "chart.caption_discern",
                    lang,
                    round=name,
                    hit=percent(r.hit_rate) or nobody,
                    false_alarm=percent(r.false_alarm_rate) or nobody,
                    judged=r.judged,
                )
            )
    else:
        lines.append(t("chart.caption_no_discern", lang))
    separator = t("chart.caption_separator", lang)
    for position, label in enumerate(data.questions):
        results = separator.join(
            t(
                "chart.caption_result",
                lang,
                round=round_name(t, lang, r.round),
                accuracy=percent(r.accuracy[position]) or nobody,
            )
            for r in data.rounds
        )
        lines.append(t("chart.caption_question", lang, question=label, results=results))
    return "\n".join(lines)


def render_report_chart(
    data: ChartData, t: Translator, lang: Lang, *, size: tuple[int, int] = CHART_SIZE
) -> ReportChart:
    """Draw the chart as a PNG of `size` px. Safe to call from several threads at once."""
    caption = report_caption(data, t, lang)
    latin = _resolve(LATIN_FAMILY)
    cjk = find_cjk_font(lang)
    fonts = [f for f in (cjk, latin) if f is not None]
    draw_lang, font_ok = lang, True
    if lang is not Lang.EN:
        missing = set() if cjk is None else missing_glyphs("".join(_words(data, t, lang).all()), fonts)
        if cjk is None or missing:
            draw_lang, font_ok = Lang.EN, False
            if _NO_FONT_WARNING.first():
                found = "no CJK font was found" if cjk is None else f"{cjk.family} lacks {''.join(sorted(missing))}"
                log.warning(
                    "Report charts in %s are drawn in English: %s. Install Debian's %s package "
                    "(apt-get install %s) and restart the bot.",
                    lang.value,
                    found,
                    FONT_PACKAGE,
                    FONT_PACKAGE,
                )
    words = _words(data, t, draw_lang)
    labels = []
    for number, label in enumerate(data.questions, 1):
        if missing_glyphs(label, fonts):
            labels.append(_fallback_label(label, number, fonts))
            font_ok = False
        else:
            labels.append(label)
    if draw_lang is Lang.EN or cjk is None:
        families = [latin.family] + ([cjk.family] if cjk is not None else [])
    else:
        families = [cjk.family, latin.family]
    png = _draw(data, words, labels, families, size)
    width, height = struct.unpack(">II", png[16:24])  # the IHDR chunk
    return ReportChart(png=png, caption=caption, width=width, height=height, font_ok=font_ok, lang_used=draw_lang)


def _fallback_label(label: str, number: int, fonts: Sequence[FontChoice]) -> str:
    """A label no font can draw whole: its head ("Q3" of "Q3 · ...") when drawable, else the question number."""
    head = label.split("·")[0].strip()
    return head if head and head != label and not missing_glyphs(head, fonts) else f"Q{number}"


def _columns(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _wrap(text: str, width: int, max_lines: int) -> str:
    """Break `text` into lines of at most `width` columns (a CJK character is two), at spaces where there are any,
    between any two CJK characters otherwise; an ellipsis ends what does not fit."""
    tokens = re.findall(r"[^\s\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]+\s*|\S\s*|\s+", text)
    lines: list[str] = []
    line = ""
    for token in tokens:
        if line and _columns(line + token.rstrip()) > width:
            lines.append(line.rstrip())
            line = token.lstrip()
        else:
            line += token
    if line.strip():
        lines.append(line.rstrip())
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        last = lines[-1]
        while last and _columns(last) > width - 1:
            last = last[:-1]
        lines[-1] = last.rstrip() + "…"
    out = []
    for piece in lines:  # a single word longer than the line
        while _columns(piece) > width + 1:
            piece = piece[:-1]
        out.append(piece)
    return "\n".join(out)


def _draw(data: ChartData, words: _Words, labels: list[str], families: list[str], size: tuple[int, int]) -> bytes:
    fig = _build_figure(data, words, labels, families, size)
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=DPI, metadata={"Software": None})
    return out.getvalue()


def _build_figure(
    data: ChartData, words: _Words, labels: list[str], families: list[str], size: tuple[int, int]
) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties

    width, height = size
    scale = min(width / CHART_SIZE[0], height / CHART_SIZE[1])

    def font(points: float, weight: str = "normal") -> FontProperties:
        return FontProperties(family=families, size=points * scale, weight=weight)

    # A figure of our own on its own canvas: pyplot's registry of figures is global, and is never touched.
    fig = Figure(figsize=(width / DPI, height / DPI), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    fig.suptitle(words.title, fontproperties=font(22, "bold"))
    # A thin first row holds the rounds' legend, across the figure under the title: a figure legend "outside"
    # would overlap the title, and an axes' legend wider than its axes would push the panels apart.
    columns = 2 if data.has_judgments else 1
    grid = fig.add_gridspec(2, columns, height_ratios=(1, 16), width_ratios=(3.1, 1)[:columns])
    legend_axes = fig.add_subplot(grid[0, :])
    legend_axes.set_axis_off()
    accuracy_axes = fig.add_subplot(grid[1, 0])
    discern_axes = fig.add_subplot(grid[1, 1]) if data.has_judgments else None
    share = 0.73 if data.has_judgments else 0.93
    _draw_accuracy(legend_axes, accuracy_axes, data, words, labels, font, width * share)
    if discern_axes is not None:
        _draw_discernment(fig, discern_axes, data, words, font)
    return fig


def _percent_axis(axes: Axes, label: str, font: FontProperties, tick_font: FontProperties, top: float) -> None:
    axes.set_ylim(0, top)
    axes.set_yticks(range(0, 101, 20), labels=[f"{v}%" for v in range(0, 101, 20)], fontproperties=tick_font)
    axes.set_ylabel(label, fontproperties=font)
    axes.yaxis.grid(True, color="#d9d9d9", linewidth=0.8)
    axes.set_axisbelow(True)
    axes.spines[["top", "right"]].set_visible(False)


def _draw_accuracy(
    legend_axes: Axes, axes: Axes, data: ChartData, words: _Words, labels: list[str], font: _FontMaker, axes_px: float
) -> None:
    _percent_axis(axes, words.accuracy_axis, font(14), font(12), 112)
    count, rounds = len(labels), len(data.rounds)
    axes.set_xlim(-0.6, max(count, 1) - 0.4)
    if not rounds or not count:
        axes.text(0.5, 0.5, words.no_rounds, transform=axes.transAxes, ha="center", fontproperties=font(18))
        axes.set_xticks([])
        return
    group = 0.84
    bar = group / rounds
    bar_px = axes_px / count * bar
    value_rotation = 90 if bar_px < 26 else 0
    value_font = font(9.5 if value_rotation else 10.5)
    handles: list[BarContainer] = []
    for index, (r, legend) in enumerate(zip(data.rounds, words.legend, strict=True)):
        colour, hatch = ROUND_STYLE[r.round]
        xs = [q - group / 2 + bar * (index + 0.5) for q in range(count)]
        heights = [0.0 if a is None else a * 100 for a in r.accuracy]
        bars = axes.bar(
            xs, heights, bar, color=colour, hatch=hatch, edgecolor=EDGE, linewidth=0.8, label=legend, zorder=2
        )
        handles.append(bars)
        values = ["" if a is None else str(round(a * 100)) for a in r.accuracy]
        for text in axes.bar_label(bars, labels=values, padding=2, rotation=value_rotation, fontproperties=value_font):
            text.set_in_layout(False)  # inside the axes (the y axis runs to 112%): the layout need not measure it
        for x, a in zip(xs, r.accuracy, strict=True):
            if a is None:  # no bar at all, unlike 0%: a dash the x axis's title explains
                axes.text(x, 1, "–", ha="center", va="bottom", fontproperties=font(14, "bold"), in_layout=False)
    slot_px = axes_px / count
    if slot_px >= 130:  # room to write each label flat under its group, wrapped
        columns = max(8, int(slot_px / 8.5 / max(font(11).get_size_in_points() / 11, 0.5)))
        texts = [_wrap(label, columns, 3) for label in labels]
        axes.set_xticks(range(count), labels=texts, fontproperties=font(11), parse_math=False)
    else:  # slanted, shortened if long (the caption has every label whole)
        texts = [_wrap(label, 30, 1) for label in labels]
        axes.set_xticks(
            range(count),
            labels=texts,
            fontproperties=font(11),
            rotation=35,
            ha="right",
            rotation_mode="anchor",
            parse_math=False,  # a "$" in a label is a dollar sign, not mathematics
        )
    axes.tick_params(axis="x", length=0)
    unanswered = any(a is None for r in data.rounds for a in r.accuracy)
    axes.set_xlabel(words.question_axis + ("    " + words.dash_note if unanswered else ""), fontproperties=font(14))
    legend_axes.legend(
        handles=handles,
        loc="center",
        ncol=min(rounds, 4),
        frameon=False,
        prop=font(13),
        handlelength=2.6,
        handleheight=1.4,
        columnspacing=3.0,
    )


def _draw_discernment(fig: Figure, axes: Axes, data: ChartData, words: _Words, font: _FontMaker) -> None:
    from matplotlib.patches import Patch

    _percent_axis(axes, words.rate_axis, font(14), font(12), 118)
    width = 0.38
    for index, r in enumerate(data.rounds):
        if not r.has_judgments:
            axes.text(index, 3, "–", ha="center", va="bottom", fontproperties=font(14), in_layout=False)
            continue
        for value, (colour, hatch), letter, dx in (
            (r.hit_rate, HIT_STYLE, "H", -width / 2),
            (r.false_alarm_rate, FALSE_ALARM_STYLE, "F", width / 2),
        ):
            if value is None:
                axes.text(
                    index + dx, 3, f"{letter}\n–", ha="center", va="bottom", fontproperties=font(11), in_layout=False
                )
                continue
            axes.bar(index + dx, value * 100, width, color=colour, hatch=hatch, edgecolor=EDGE, linewidth=0.8)
            axes.text(
                index + dx,
                value * 100 + 2,
                f"{letter}\n{round(value * 100)}%",
                ha="center",
                va="bottom",
                fontproperties=font(11),
                linespacing=1.1,
                in_layout=False,
            )
    axes.set_xlim(-0.6, len(data.rounds) - 0.4)
    axes.set_xticks(range(len(data.rounds)), labels=list(words.round_ticks), fontproperties=font(10.5))
    axes.tick_params(axis="x", length=0)
    axes.set_title(words.discern_title, fontproperties=font(15, "bold"), loc="left")
    handles = [
        Patch(facecolor=HIT_STYLE[0], hatch=HIT_STYLE[1], edgecolor=EDGE, label=words.hit),
        Patch(facecolor=FALSE_ALARM_STYLE[0], hatch=FALSE_ALARM_STYLE[1], edgecolor=EDGE, label=words.false_alarm),
    ]
    # One line across the foot of the figure: the discernment panel is too narrow for it.
    fig.legend(
        handles=handles,
        loc="outside lower right",
        ncol=2,
        frameon=False,
        prop=font(12),
        handlelength=2.4,
        handleheight=1.3,
        columnspacing=2.5,
    )
