"""`echo_safe`, the one cleaning every echo of someone's own words goes through (bot/core/echo.py).

Each place that echoes is tested end to end in tests/telegram/test_echoes_and_channels.py; here, the function.
"""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.echo import BIDI_CONTROLS, ECHO_LIMIT, ZWJ, echo_safe
from bot.services.drill import NICKNAME_MAX, clean_nickname

ALL_BIDI = [
    "\u202a",  # LEFT-TO-RIGHT EMBEDDING
    "\u202b",  # RIGHT-TO-LEFT EMBEDDING
    "\u202c",  # POP DIRECTIONAL FORMATTING
    "\u202d",  # LEFT-TO-RIGHT OVERRIDE
    "\u202e",  # RIGHT-TO-LEFT OVERRIDE
    "\u2066",  # LEFT-TO-RIGHT ISOLATE
    "\u2067",  # RIGHT-TO-LEFT ISOLATE
    "\u2068",  # FIRST STRONG ISOLATE
    "\u2069",  # POP DIRECTIONAL ISOLATE
    "\u200e",  # LEFT-TO-RIGHT MARK
    "\u200f",  # RIGHT-TO-LEFT MARK
    "\u061c",  # ARABIC LETTER MARK
]


def test_the_bidi_set_is_the_one_the_issue_names() -> None:
    assert set(ALL_BIDI) == BIDI_CONTROLS


@pytest.mark.parametrize("control", ALL_BIDI, ids=[f"U+{ord(c):04X}" for c in ALL_BIDI])
def test_every_bidi_control_goes_wherever_it_stands(control: str) -> None:
    assert echo_safe(f"{control}Ann{control} Lee{control}") == "Ann Lee"


def test_an_override_cannot_reverse_what_follows() -> None:
    crafted = "Bob\u202e!olleh yas I"  # shown raw, the rest of the bot's line would read right to left
    assert echo_safe(crafted) == "Bob!olleh yas I"


@pytest.mark.parametrize(
    "invisible",
    [
        "\x00",  # NUL (Cc)
        "\x07",  # BEL (Cc)
        "\x7f",  # DEL (Cc)
        "\u200b",  # ZERO WIDTH SPACE (Cf)
        "\u200c",  # ZERO WIDTH NON-JOINER (Cf)
        "\u2060",  # WORD JOINER (Cf)
        "\u2061",  # FUNCTION APPLICATION (Cf)
        "\ufeff",  # BOM (Cf)
        "\u00ad",  # SOFT HYPHEN (Cf)
        "\u180e",  # MONGOLIAN VOWEL SEPARATOR (Cf)
        "\U000e0041",  # TAG LATIN CAPITAL LETTER A (Cf): hides text
        "\ud800",  # a lone surrogate (Cs): no UTF-8 message can carry it
    ],
)
def test_other_controls_and_format_characters_go(invisible: str) -> None:
    assert echo_safe(f"An{invisible}n") == "Ann"


@pytest.mark.parametrize(
    "emoji",
    [
        "\U0001f469\u200d\U0001f4bb",  # 👩‍💻 woman technologist
        "\U0001f468\u200d\U0001f469\u200d\U0001f467",  # 👨‍👩‍👧 family
        "\U0001f3f3\ufe0f\u200d\U0001f308",  # 🏳️‍🌈 rainbow flag: joiner after the emoji presentation selector
        "\U0001f469\U0001f3fd\u200d\U0001f4bb",  # 👩🏽‍💻 joiner after a skin tone
        "\u2764\ufe0f\u200d\U0001f525",  # ❤️‍🔥 heart on fire
    ],
)
def test_a_joiner_inside_an_emoji_stays_so_the_emoji_holds_together(emoji: str) -> None:
    assert echo_safe(f"Ann {emoji}") == f"Ann {emoji}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("An\u200dn", "Ann"),  # between letters: invisible, goes
        ("\u200dAnn", "Ann"),
        ("Ann\u200d", "Ann"),
        ("Ann \u200d\U0001f600", "Ann \U0001f600"),  # after a space
        ("\U0001f600\u200d", "\U0001f600"),  # at the end: nothing to join
        ("\U0001f600\u200d\u200d\U0001f600", "\U0001f600\u200d\U0001f600"),  # doubled: one joins, one goes
        ("\U0001f600\u200d\u202e\U0001f600", "\U0001f600\U0001f600"),  # joiner then override: not a sequence
    ],
)
def test_a_joiner_anywhere_else_goes(text: str, expected: str) -> None:
    assert echo_safe(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  Ann \n\t Lee  ", "Ann Lee"),
        ("Ann\r\nLee", "Ann Lee"),
        ("Ann\u2028Lee\u2029", "Ann Lee"),  # line and paragraph separators
        ("Ann\u00a0\u3000\u2003Lee", "Ann Lee"),  # no-break, ideographic, em spaces
        ("Ann \u202e Lee", "Ann Lee"),  # a dropped character leaves no double space
        ("\u202e \u200b ", ""),
    ],
)
def test_whitespace_is_one_space_and_the_ends_are_trimmed(text: str, expected: str) -> None:
    assert echo_safe(text) == expected


def test_what_is_shown_is_otherwise_kept_and_not_escaped() -> None:
    """Letters, accents, CJK, emoji and markup characters stay: escaping is the renderer's job."""
    text = "Zoë e\u0301 王小明 <b>&amp;</b> 🇹🇼 😀"
    assert echo_safe(text) == text


def test_the_length_is_bounded_and_nothing_dangles_at_the_cut() -> None:
    assert echo_safe("a" * 500) == "a" * ECHO_LIMIT == echo_safe("a" * ECHO_LIMIT)
    assert echo_safe("a" * 39 + " b") == "a" * 39  # the cut falls after a space: no trailing space
    family = "\U0001f468\u200d\U0001f469"
    assert echo_safe("a" * 38 + family) == "a" * 38 + "\U0001f468"  # cut after the joiner: the joiner goes
    assert echo_safe("Ann Lee", 3) == "Ann" and echo_safe("Ann", 0) == ""
    # Characters dropped before the cut do not count towards it.
    assert echo_safe("\u202e" * 100 + "Ann") == "Ann"


def test_a_drill_nickname_is_the_same_cleaning_with_its_own_limit() -> None:
    assert clean_nickname("\u202eOwl\u202d  \n 7 👩\u200d💻") == "Owl 7 👩\u200d💻"
    assert clean_nickname("x" * 100) == "x" * NICKNAME_MAX
    assert clean_nickname("\u200b\u202e \n") is None


HOSTILE = st.text(
    alphabet=st.one_of(
        st.characters(),
        st.sampled_from([*ALL_BIDI, ZWJ, "\u200b", "\ufeff", "\ufe0f", "\n", " ", "\u00a0", "\U0001f469", "a"]),
    ),
    max_size=120,
)


@settings(max_examples=300, deadline=None)
@given(text=HOSTILE, limit=st.integers(0, 60))
def test_whatever_comes_in_what_goes_out_is_clean_bounded_and_stable(text: str, limit: int) -> None:
    cleaned = echo_safe(text, limit)
    assert len(cleaned) <= limit
    assert cleaned == cleaned.strip() and "  " not in cleaned
    assert not any(ch.isspace() and ch != " " for ch in cleaned)
    for index, ch in enumerate(cleaned):
        assert ch not in BIDI_CONTROLS
        if ch == ZWJ:  # only ever between two emoji
            assert 0 < index < len(cleaned) - 1, cleaned
        else:
            assert unicodedata.category(ch) not in ("Cc", "Cf", "Cs"), (ch, cleaned)
    assert echo_safe(cleaned, limit) == cleaned  # cleaning twice is cleaning once
