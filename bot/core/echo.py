"""Someone's own words made fit to repeat back: the one cleaning every echo goes through.

Whatever a person typed or chose as a name and the bot later shows (their first name in the greeting, group members'
names in a lobby, leaderboard, podium or a group's history, drill nicknames on the teacher's panel and in the report
files, a topic typed after /quiz) passes through `echo_safe`, in either adapter. It is cleaning, not escaping: HTML
is escaped where the message is rendered.

What goes, and why:

- bidi controls (U+202A-U+202E embeddings and overrides, U+2066-U+2069 isolates, U+200E/U+200F marks, U+061C):
  an override in a name would reverse the rest of the bot's line, making it say what it did not;
- every other control (Cc) and format character (Cf): invisible, so they make names that look alike but differ
  ("Ann" and "An<U+200B>n" on a teacher's panel), or hide text. Zero-width non-joiners and tag characters go too,
  at the price of a Persian name's shaping hint and a subdivision flag's tags (the black flag stays);
  except the zero-width joiner (U+200D) between two emoji, which is what makes 👩‍💻 or 👨‍👩‍👧 one picture: without
  it a name's emoji would fall apart into several. Anywhere else it is invisible and goes;
- lone surrogates, which no UTF-8 message can carry (Telegram would refuse the whole message);
- runs of whitespace of any kind (line breaks, tabs, U+2028, no-break and ideographic spaces) become one space,
  and the ends are trimmed: an echo is one line.

Then the text is cut to `limit` characters (no space or joiner left dangling at the cut). Cleaning twice changes
nothing more than cleaning once.
"""

from __future__ import annotations

import unicodedata

ECHO_LIMIT = 40  # names and typed words shown back: the most characters kept

BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
ZWJ = "\u200d"
_DROPPED = frozenset({"Cc", "Cf", "Cs"})
_EMOJI_PRESENTATION = "\ufe0f"  # variation selector 16: "show the emoji", often before a joiner (🏳️‍🌈)
_SKIN_TONES = range(0x1F3FB, 0x1F400)  # emoji modifiers, before a joiner in 👩🏽‍💻
_EMOJI_PLANE = range(0x1F000, 0x1FB00)  # emoji newer than this Python's Unicode data are unassigned (Cn) here


def _pictographic(ch: str) -> bool:
    """An emoji a joiner may join: a symbol, or a code point in the emoji blocks this Python does not know yet."""
    category = unicodedata.category(ch)
    return category == "So" or (category == "Cn" and ord(ch) in _EMOJI_PLANE)


def _joins_emoji(before: str, after: str) -> bool:
    """Whether a joiner between `before` (the last character kept) and `after` (the next one) is inside an emoji."""
    if not before or not after:
        return False
    ends_emoji = _pictographic(before) or before == _EMOJI_PRESENTATION or ord(before) in _SKIN_TONES
    return ends_emoji and _pictographic(after)


def echo_safe(text: str, limit: int = ECHO_LIMIT) -> str:
    """`text` fit to be shown back to anyone: see the module's docstring. May be empty."""
    kept: list[str] = []
    for index, ch in enumerate(text):
        if ch.isspace():
            if kept and kept[-1] != " ":
                kept.append(" ")
            continue
        if ch == ZWJ:
            after = text[index + 1] if index + 1 < len(text) else ""
            if _joins_emoji(kept[-1] if kept else "", after):
                kept.append(ch)
            continue
        if ch in BIDI_CONTROLS or unicodedata.category(ch) in _DROPPED:
            continue
        kept.append(ch)
    return "".join(kept)[: max(0, limit)].strip(" " + ZWJ)
