"""bot/web/contrast.py against values the WCAG 2.x formulas give, worked by hand or widely quoted."""

from __future__ import annotations

import pytest

from bot.web.contrast import (
    AA_LARGE,
    AA_NORMAL,
    composite,
    contrast_ratio,
    is_large_text,
    parse_colour,
    parse_colour_alpha,
    relative_luminance,
    required_ratio,
)

WHITE = (255, 255, 255)
BLACK = (0, 0, 0)


@pytest.mark.parametrize(
    ("text", "rgb"),
    [
        ("#fff", WHITE),
        ("#000000", BLACK),
        ("#777", (0x77, 0x77, 0x77)),
        ("#1A2b3C", (0x1A, 0x2B, 0x3C)),
        ("  #abc ", (0xAA, 0xBB, 0xCC)),
        ("rgb(12, 34, 56)", (12, 34, 56)),
        ("RGB(12,34,56)", (12, 34, 56)),
        ("rgba(12, 34, 56, 1)", (12, 34, 56)),
        ("rgba(12, 34, 56, 1.0)", (12, 34, 56)),
        ("rgb(12 34 56)", (12, 34, 56)),
        ("rgb(12 34 56 / 100%)", (12, 34, 56)),
        ("rgb(12.4, 33.6, 56)", (12, 34, 56)),  # computed colours can be fractional
    ],
)
def test_parse_colour_reads_the_forms_pages_and_browsers_use(text: str, rgb: tuple[int, int, int]) -> None:
    assert parse_colour(text) == rgb


@pytest.mark.parametrize(
    "text",
    ["", "white", "#ff", "#ggg", "#12345", "rgb(1, 2)", "rgb(1, 2, 3, 4, 5)", "rgb(256, 0, 0)", "rgb(-1, 0, 0)",
     "hsl(0, 0%, 0%)", "rgb(10%, 0, 0)"],
)  # fmt: skip
def test_parse_colour_refuses_what_it_does_not_understand(text: str) -> None:
    with pytest.raises(ValueError, match="not a colour"):
        parse_colour(text)


@pytest.mark.parametrize("text", ["rgba(0, 0, 0, 0.5)", "rgb(0 0 0 / 50%)", "#00000080", "transparent"])
def test_parse_colour_refuses_see_through_colours(text: str) -> None:
    """Their contrast depends on what is beneath: parse_colour_alpha and composite are for those."""
    with pytest.raises(ValueError, match="not an opaque colour"):
        parse_colour(text)


def test_parse_colour_alpha_and_composite() -> None:
    assert parse_colour_alpha("rgba(0, 0, 0, 0)") == (BLACK, 0.0)
    assert parse_colour_alpha("rgba(10, 20, 30, 0.25)") == ((10, 20, 30), 0.25)
    assert parse_colour_alpha("rgb(10 20 30 / 40%)") == ((10, 20, 30), 0.4)
    assert parse_colour_alpha("#0000") == (BLACK, 0.0)
    assert parse_colour_alpha("#ff000080") == ((255, 0, 0), 128 / 255)
    assert composite(BLACK, 0.5, WHITE) == (128, 128, 128)
    assert composite((255, 0, 0), 1.0, WHITE) == (255, 0, 0)
    assert composite((255, 0, 0), 0.0, (1, 2, 3)) == (1, 2, 3)


def test_relative_luminance() -> None:
    assert relative_luminance(BLACK) == 0.0
    assert relative_luminance(WHITE) == pytest.approx(1.0)
    assert relative_luminance((255, 0, 0)) == pytest.approx(0.2126)
    assert relative_luminance((0, 255, 0)) == pytest.approx(0.7152)
    assert relative_luminance((0, 0, 255)) == pytest.approx(0.0722)
    assert relative_luminance((0x77, 0x77, 0x77)) == pytest.approx(0.1845, abs=1e-4)
    # Either side of the 0.04045 threshold: 10/255 is on the straight part, 11/255 on the curve.
    assert relative_luminance((10, 10, 10)) == pytest.approx(10 / 255 / 12.92)
    assert relative_luminance((11, 11, 11)) == pytest.approx(((11 / 255 + 0.055) / 1.055) ** 2.4)


@pytest.mark.parametrize(
    ("a", "b", "ratio"),
    [
        ("#000", "#fff", 21.0),
        ("#fff", "#fff", 1.0),
        ("#777", "#fff", 4.48),  # the classic near miss: just under AA
        ("#767676", "#fff", 4.54),  # the lightest grey that passes AA on white
        ("#999", "#fff", 2.85),
        ("#222", "#fff", 15.91),
        ("#f00", "#fff", 4.0),
        ("#00f", "#fff", 8.59),
        ("#0f0", "#000", 15.3),
    ],
)
def test_contrast_ratio_known_values(a: str, b: str, ratio: float) -> None:
    assert contrast_ratio(parse_colour(a), parse_colour(b)) == pytest.approx(ratio, abs=0.005)
    assert contrast_ratio(parse_colour(b), parse_colour(a)) == contrast_ratio(parse_colour(a), parse_colour(b))


def test_aa_thresholds_are_not_rounded() -> None:
    """#777 on white is 4.48: it fails 4.5 although it would round to it at one decimal."""
    assert (AA_NORMAL, AA_LARGE) == (4.5, 3.0)
    assert contrast_ratio(parse_colour("#777"), WHITE) < AA_NORMAL
    assert contrast_ratio(parse_colour("#767676"), WHITE) >= AA_NORMAL


@pytest.mark.parametrize(
    ("size", "weight", "large"),
    [
        (16, 400, False),
        (23.9, 700, True),
        (24, 400, True),
        (18.66, 700, True),
        (18.67, 700, True),
        (18.65, 700, False),
        (18.66, 600, False),
        (20, 400, False),
        (20, 900, True),
    ],
)
def test_large_text(size: float, weight: int, large: bool) -> None:
    assert is_large_text(size, weight) is large
    assert required_ratio(size, weight) == (AA_LARGE if large else AA_NORMAL)
