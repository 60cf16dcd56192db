"""Colour contrast by WCAG 2.x: the projector page must meet level AA.

The projector view is read from the back of a room, on a projector that washes colours out, so its text must at
least meet WCAG 2.x level AA (success criterion 1.4.3): a contrast ratio of 4.5:1 for normal text, 3:1 for large
text. The tests check the page's colour pairs with these functions, both the pairs its stylesheet declares and the
ones a real browser computes (tests/web/browser.py). Pure functions of the standard's formulas, with no third-party
imports, so the bot's process and the tests share one definition.
"""

from __future__ import annotations

import re
from typing import TypeAlias

RGB: TypeAlias = tuple[int, int, int]
"""An sRGB colour, each channel 0 to 255."""

AA_NORMAL = 4.5
"""The least contrast ratio WCAG 2.x level AA allows for normal text."""
AA_LARGE = 3.0
"""The least contrast ratio WCAG 2.x level AA allows for large text (see is_large_text)."""

LARGE_TEXT_PX = 24.0
"""Large text is at least 18 pt: 24 CSS px (a CSS px is 1/96 in, a point 1/72 in)."""
LARGE_BOLD_TEXT_PX = 18.66
"""Bold text is large from 14 pt: 18.67 CSS px, taken as 18.66 so that a computed 18.66px counts."""
BOLD_WEIGHT = 700

_HEX = re.compile(r"#([0-9a-f]{3,4}|[0-9a-f]{6}|[0-9a-f]{8})")
_FUNCTION = re.compile(r"rgba?\((.*)\)")
_NUMBER = re.compile(r"\d+(?:\.\d*)?|\.\d+")


def parse_colour_alpha(text: str) -> tuple[RGB, float]:
    """A CSS colour in sRGB and its alpha (0 to 1): `#rgb`, `#rgba`, `#rrggbb`, `#rrggbbaa`, `rgb(r, g, b)`,
    `rgba(r, g, b, a)`, the space-separated `rgb(r g b / a)` and `transparent`. Browsers report computed colours as
    `rgb(...)` or `rgba(...)`; a page's stylesheet mostly uses hex. Anything else raises ValueError."""
    value = text.strip().lower()
    if value == "transparent":
        return (0, 0, 0), 0.0
    if match := _HEX.fullmatch(value):
        digits = match.group(1)
        if len(digits) <= 4:
            digits = "".join(d * 2 for d in digits)  # #abc is #aabbcc
        r, g, b = (int(digits[i : i + 2], 16) for i in (0, 2, 4))
        alpha = int(digits[6:8], 16) / 255 if len(digits) == 8 else 1.0
        return (r, g, b), alpha
    if match := _FUNCTION.fullmatch(value):
        body, slash, alpha_text = match.group(1).partition("/")
        parts = [p for p in re.split(r"[\s,]+", body.strip()) if p]
        if not slash and len(parts) == 4:
            *parts, alpha_text = parts
        if len(parts) == 3 and all(_NUMBER.fullmatch(p) for p in parts):
            # Computed colours may be fractional (color-mix(), transitions): the screen shows whole steps.
            r, g, b = (round(float(p)) for p in parts)
            alpha = _parse_alpha(alpha_text.strip()) if alpha_text.strip() or slash else 1.0
            if max(r, g, b) <= 255 and 0.0 <= alpha <= 1.0:
                return (r, g, b), alpha
    raise ValueError(f"not a colour this module understands: {text!r}")


def _parse_alpha(text: str) -> float:
    """An alpha value: a number from 0 to 1, or a percentage."""
    number = text.removesuffix("%")
    if not _NUMBER.fullmatch(number):
        raise ValueError(f"not an alpha value: {text!r}")
    return float(number) / 100 if text.endswith("%") else float(number)


def parse_colour(text: str) -> RGB:
    """An opaque CSS colour in sRGB (forms as parse_colour_alpha). A see-through colour raises ValueError: its
    contrast depends on what lies beneath, so the caller must composite it first (see composite)."""
    rgb, alpha = parse_colour_alpha(text)
    if alpha != 1.0:
        raise ValueError(f"not an opaque colour (alpha {alpha:g}): {text!r}")
    return rgb


def composite(top: RGB, alpha: float, under: RGB) -> RGB:
    """`top` at opacity `alpha` painted over the opaque `under`, blended in sRGB as browsers do."""
    return (
        round(top[0] * alpha + under[0] * (1 - alpha)),
        round(top[1] * alpha + under[1] * (1 - alpha)),
        round(top[2] * alpha + under[2] * (1 - alpha)),
    )


def _linear(channel: float) -> float:
    """An sRGB channel (0 to 255) as linear light (0 to 1). WCAG 2.x quotes 0.03928 as the threshold, from an old
    draft of sRGB; 0.04045 is the sRGB standard's, and no 8-bit value lies between the two, so the results agree."""
    c = channel / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def relative_luminance(rgb: tuple[float, float, float]) -> float:
    """WCAG 2.x relative luminance of an sRGB colour: 0 for black, 1 for white."""
    r, g, b = rgb
    return 0.2126 * _linear(r) + 0.7152 * _linear(g) + 0.0722 * _linear(b)


def contrast_ratio(a: tuple[float, float, float], b: tuple[float, float, float]) -> float:
    """WCAG 2.x contrast ratio of two opaque sRGB colours, from 1 (the same) to 21 (black and white); the order of
    the two does not matter. Not rounded: the standard says 4.499 fails 4.5."""
    light, dark = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def is_large_text(font_size_px: float, font_weight: int) -> bool:
    """Whether text counts as large for WCAG 2.x: at least 24 px, or at least 18.66 px and bold (700 or more)."""
    return font_size_px >= LARGE_TEXT_PX or (font_size_px >= LARGE_BOLD_TEXT_PX and font_weight >= BOLD_WEIGHT)


def required_ratio(font_size_px: float, font_weight: int) -> float:
    """The least contrast ratio level AA requires of text of this size (CSS px) and weight."""
    return AA_LARGE if is_large_text(font_size_px, font_weight) else AA_NORMAL
