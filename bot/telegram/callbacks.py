"""Callback data: what a button means, encoded in at most 64 bytes and parsed strictly on the way back.

Callback data comes back from the client and can be anything, so `parse` accepts only the exact shapes
`encode` makes and returns None for everything else; handlers then answer politely and change nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from ..core.engine import Confidence
from ..core.lang import Lang

MAX_BYTES = 64  # telegram.constants.InlineKeyboardButtonLimit.MAX_CALLBACK_DATA; a guard test compares


class Kind(StrEnum):
    """What a button does. One letter each: the budget is 64 bytes."""

    ANSWER = "a"  # a:<session>:<position>:<shown option>
    CONFIDENCE = "c"  # c:<session>:<position>:<g|p|s|x>
    NEXT = "n"  # n:<session>:<position>
    MENU = "m"  # m:<quick|topics|review|stats|lang>
    TOPIC = "t"  # t:<topic id>
    LANG = "l"  # l:<language>
    FORGET = "f"  # f:<yes|no>
    JOIN = "j"  # j:<group session>
    BEGIN = "b"  # b:<group session>: start a lobby early
    GROUP_ANSWER = "g"  # g:<group session>:<position>:<shown option>
    RESUME = "r"  # r:<group session>
    GROUP_LANG = "y"  # y:<language>


class MenuItem(StrEnum):
    QUICK = "quick"
    TOPICS = "topics"
    REVIEW = "review"
    STATS = "stats"
    LANG = "lang"


_CONFIDENCE_CODES = {"g": Confidence.GUESS, "p": Confidence.PROBABLY, "s": Confidence.SURE, "x": None}
_CODE_OF = {value: code for code, value in _CONFIDENCE_CODES.items()}
_SESSION = r"[A-Za-z0-9_-]{1,22}"
_PATTERNS = {
    Kind.ANSWER: re.compile(rf"^a:({_SESSION}):(\d{{1,3}}):(\d{{1,2}})$"),
    Kind.CONFIDENCE: re.compile(rf"^c:({_SESSION}):(\d{{1,3}}):([gpsx])$"),
    Kind.NEXT: re.compile(rf"^n:({_SESSION}):(\d{{1,3}})$"),
    Kind.MENU: re.compile(r"^m:(quick|topics|review|stats|lang)$"),
    Kind.TOPIC: re.compile(r"^t:([a-z0-9_]{1,40})$"),
    Kind.LANG: re.compile(r"^l:(zh-Hant|zh-Hans|en)$"),
    Kind.FORGET: re.compile(r"^f:(yes|no)$"),
    Kind.JOIN: re.compile(rf"^j:({_SESSION})$"),
    Kind.BEGIN: re.compile(rf"^b:({_SESSION})$"),
    Kind.GROUP_ANSWER: re.compile(rf"^g:({_SESSION}):(\d{{1,3}}):(\d{{1,2}})$"),
    Kind.RESUME: re.compile(rf"^r:({_SESSION})$"),
    Kind.GROUP_LANG: re.compile(r"^y:(zh-Hant|zh-Hans|en)$"),
}
GROUP_KINDS = frozenset({Kind.JOIN, Kind.BEGIN, Kind.GROUP_ANSWER, Kind.RESUME, Kind.GROUP_LANG})
# Handler routing by first letter: group buttons go to the group module, everything else to the private one.
GROUP_PATTERN = re.compile(r"^[jbgry]:")


@dataclass(frozen=True, slots=True, kw_only=True)
class Action:
    """A parsed button press."""

    kind: Kind
    session_id: str = ""
    position: int = 0
    option: int = 0
    confidence: Confidence | None = None
    value: str = ""  # menu item, topic id, language or yes/no


def _checked(data: str) -> str:
    if len(data.encode()) > MAX_BYTES:
        raise ValueError(f"callback data over {MAX_BYTES} bytes: {data!r}")
    return data


def answer(session_id: str, position: int, shown: int) -> str:
    return _checked(f"a:{session_id}:{position}:{shown}")


def confidence(session_id: str, position: int, level: Confidence | None) -> str:
    return _checked(f"c:{session_id}:{position}:{_CODE_OF[level]}")


def next_step(session_id: str, position: int) -> str:
    return _checked(f"n:{session_id}:{position}")


def menu(item: MenuItem) -> str:
    return _checked(f"m:{item.value}")


def topic(topic_id: str) -> str:
    return _checked(f"t:{topic_id}")


def language(lang: Lang) -> str:
    return _checked(f"l:{lang.value}")


def forget(confirm: bool) -> str:
    return _checked(f"f:{'yes' if confirm else 'no'}")


def join(session_id: str) -> str:
    return _checked(f"j:{session_id}")


def begin(session_id: str) -> str:
    return _checked(f"b:{session_id}")


def group_answer(session_id: str, position: int, shown: int) -> str:
    return _checked(f"g:{session_id}:{position}:{shown}")


def resume(session_id: str) -> str:
    return _checked(f"r:{session_id}")


def group_language(lang: Lang) -> str:
    return _checked(f"y:{lang.value}")


def parse(data: object) -> Action | None:
    """The action a button's data stands for, or None when it is not one this bot made."""
    if not isinstance(data, str) or len(data.encode("utf-8", "surrogatepass")) > MAX_BYTES or len(data) < 3:
        return None
    try:
        kind = Kind(data[0])
    except ValueError:
        return None
    match = _PATTERNS[kind].match(data)
    if match is None:
        return None
    groups = match.groups()
    if kind in (Kind.ANSWER, Kind.GROUP_ANSWER):
        return Action(kind=kind, session_id=groups[0], position=int(groups[1]), option=int(groups[2]))
    if kind in (Kind.JOIN, Kind.BEGIN, Kind.RESUME):
        return Action(kind=kind, session_id=groups[0])
    if kind is Kind.CONFIDENCE:
        return Action(kind=kind, session_id=groups[0], position=int(groups[1]), confidence=_CONFIDENCE_CODES[groups[2]])
    if kind is Kind.NEXT:
        return Action(kind=kind, session_id=groups[0], position=int(groups[1]))
    return Action(kind=kind, value=groups[0])
