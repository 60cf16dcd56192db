"""Wrap text to a terminal's width, measured in display cells with `wcwidth` (a Chinese character takes two).

English breaks only at spaces: a word longer than the line stays whole and overflows rather than being cut.
A command in backticks (`python -m bot play --review`) is not broken either.
Chinese may break between any two characters, except that a line never starts with closing punctuation (，。」)
or ends with opening punctuation (「（), the usual rule for Chinese text. A list line (`  1) …`, `• …`) keeps its
continuation lines under its text, not under the marker.
"""

from __future__ import annotations

import re

from wcwidth import iter_graphemes, width

MIN_WIDTH = 20  # narrower than this, wrapping does more harm than good: lines are cut as if this wide

# A line may not start with these (closing punctuation) nor end with these (opening punctuation).
NO_START = frozenset("，。、；：？！）」』》〉】〕…～,.;:?!)]}%’”")
NO_END = frozenset("（「『《〈【〔([{‘“")

# Leading blanks, then an optional list marker and its blanks: "  1) ", "• ", "- ", "A) ", "2. ", "1） ".
_LIST_ITEM = re.compile(r"[ \t]*(?:(?:\d{1,2}[).）]|[A-Z][)）]|[•·*-])[ \t]+)?")


def wrap(text: str, columns: int) -> list[str]:
    """`text` as lines no wider than `columns` cells (but for a single word that is wider); each line of `text`
    is a paragraph, wrapped on its own, and blank lines stay."""
    columns = max(columns, MIN_WIDTH)
    return [line for paragraph in text.split("\n") for line in _wrap_paragraph(paragraph, columns)]


def _wrap_paragraph(paragraph: str, columns: int) -> list[str]:
    paragraph = paragraph.rstrip()
    if width(paragraph) <= columns:
        return [paragraph]
    match = _LIST_ITEM.match(paragraph)
    prefix = match.group(0) if match else ""
    # Continuations line up under the text after the marker, unless that leaves too little room.
    indent = "" if width(prefix) > columns // 2 else " " * width(prefix)
    lines: list[str] = []
    line, used, empty = prefix, width(prefix), True
    for space, atom in _atoms(paragraph[len(prefix) :]):
        needed = width(atom) if empty else width(space) + width(atom)
        if not empty and used + needed > columns:
            lines.append(line)
            line, used, empty = indent, len(indent), True
            needed = width(atom)
        line += atom if empty else space + atom
        used += needed
        empty = False
    lines.append(line)
    return lines


def _atoms(text: str) -> list[tuple[str, str]]:
    """`text` cut where a line may break: (the blanks before, the unbreakable run) pairs. A run is an English word
    (with its punctuation), or one Chinese character with any punctuation that must stay beside it."""
    atoms: list[tuple[str, str]] = []
    blanks, before, run, previous = "", "", "", ""
    quoted = False  # inside `a command`, which is never broken: it is copied into a shell whole
    for unit in iter_graphemes(text):
        if unit == "`":
            quoted = not quoted
        elif quoted:
            run += unit
            continue
        if unit.isspace():
            if run:
                atoms.append((before, run))
                run = ""
            blanks += unit
            previous = ""
            continue
        if run and _may_break(previous, unit):
            atoms.append((before, run))
            run = ""
        if not run:
            before, blanks = blanks, ""
        run += unit
        previous = unit
    if run:
        atoms.append((before, run))
    return atoms


def _may_break(previous: str, unit: str) -> bool:
    """Whether a line may break between two touching characters: beside a wide (Chinese) one, unless punctuation
    forbids it."""
    if unit[0] in NO_START or previous[-1] in NO_END:
        return False
    return width(previous) > 1 or width(unit) > 1
