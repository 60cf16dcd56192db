"""Callback data: what a button means, encoded in at most 64 bytes and parsed strictly on the way back.

Callback data comes back from the client and can be anything, so `parse` accepts only the exact shapes
`encode` makes and returns None for everything else; handlers then answer politely and change nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from ..core.drill import DrillMode, DrillRound
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
    WIZARD = "w"  # w:<drill set-up so far>: the whole draft rides in the button, so no state is kept
    TEACHER = "D"  # D:<drill>:<TeacherMove>: a button on the teacher's control panel
    LIVE_CHOICE = "e"  # e:<drill>:<round>:<position>:<shown option>
    LIVE_RATING = "h"  # h:<drill>:<round>:<position>:<shown option>:<g|p|s|x>
    SELF_START = "s"  # s:<drill>:<round>: a student starts a self-paced round


class TeacherMove(StrEnum):
    """A button on the teacher's control panel. One letter each on the wire (panels already sent keep working)."""

    NEXT = "n"  # the next live question (or the first)
    REVEAL = "v"
    FINISH_ROUND = "f"
    POST_TEST = "p"
    CLOSE = "c"
    REPORT = "r"


class MenuItem(StrEnum):
    QUICK = "quick"
    TOPICS = "topics"
    REVIEW = "review"
    STATS = "stats"
    LANG = "lang"


# Rounds and drill modes by one letter on the wire: main, pre, post (o), re-test; live, self-paced.
_ROUND_LETTER = {DrillRound.MAIN: "m", DrillRound.PRE: "p", DrillRound.POST: "o", DrillRound.RETEST: "r"}
_ROUND_OF = {letter: round_ for round_, letter in _ROUND_LETTER.items()}
_MODE_LETTER = {DrillMode.LIVE: "l", DrillMode.SELF_PACED: "s"}
_MODE_OF = {letter: mode for mode, letter in _MODE_LETTER.items()}
_CONFIDENCE_CODES = {"g": Confidence.GUESS, "p": Confidence.PROBABLY, "s": Confidence.SURE, "x": None}
_CODE_OF = {value: code for code, value in _CONFIDENCE_CODES.items()}
_SESSION = r"[A-Za-z0-9_-]{1,22}"
# Numbers exactly as `encode` writes them: ASCII digits, no leading zeros (so one action has one spelling).
_N3 = r"0|[1-9][0-9]{0,2}"
_N2 = r"0|[1-9][0-9]?"
_ROUND = f"[{''.join(_ROUND_OF)}]"
_MODE = f"[{''.join(_MODE_OF)}]"
_MOVE = f"[{''.join(TeacherMove)}]"
_PATTERNS = {
    Kind.ANSWER: re.compile(rf"a:({_SESSION}):({_N3}):({_N2})"),
    Kind.CONFIDENCE: re.compile(rf"c:({_SESSION}):({_N3}):([gpsx])"),
    Kind.NEXT: re.compile(rf"n:({_SESSION}):({_N3})"),
    Kind.MENU: re.compile(r"m:(quick|topics|review|stats|lang)"),
    Kind.TOPIC: re.compile(r"t:([a-z0-9_]{1,40})"),
    Kind.LANG: re.compile(r"l:(zh-Hant|zh-Hans|en)"),
    Kind.FORGET: re.compile(r"f:(yes|no)"),
    Kind.JOIN: re.compile(rf"j:({_SESSION})"),
    Kind.BEGIN: re.compile(rf"b:({_SESSION})"),
    Kind.GROUP_ANSWER: re.compile(rf"g:({_SESSION}):({_N3}):({_N2})"),
    Kind.RESUME: re.compile(rf"r:({_SESSION})"),
    Kind.GROUP_LANG: re.compile(r"y:(zh-Hant|zh-Hans|en)"),
    Kind.WIZARD: re.compile(
        rf"w:(0|[1-9a-f][0-9a-f]{{0,3}})\.({_N2})\.({_N3})\.({_MODE})\.({_N2})\.([01])\.({_N2})\.([0-9])\.({_N2})\.([0-3])"
    ),
    Kind.TEACHER: re.compile(rf"D:({_SESSION}):({_MOVE})"),
    Kind.LIVE_CHOICE: re.compile(rf"e:({_SESSION}):({_ROUND}):({_N2}):({_N2})"),
    Kind.LIVE_RATING: re.compile(rf"h:({_SESSION}):({_ROUND}):({_N2}):({_N2}):([gpsx])"),
    Kind.SELF_START: re.compile(rf"s:({_SESSION}):({_ROUND})"),
}
GROUP_KINDS = frozenset({Kind.JOIN, Kind.BEGIN, Kind.GROUP_ANSWER, Kind.RESUME, Kind.GROUP_LANG})
DRILL_KINDS = frozenset({Kind.WIZARD, Kind.TEACHER, Kind.LIVE_CHOICE, Kind.LIVE_RATING, Kind.SELF_START})
# Handler routing by first letter: group buttons go to the group module, drill buttons to the drill module,
# everything else (forged data too) to the private one.
GROUP_PATTERN = re.compile(f"^[{''.join(sorted(GROUP_KINDS))}]:")
DRILL_PATTERN = re.compile(f"^[{''.join(sorted(DRILL_KINDS))}]:")


SCREEN_NAMES = 1  # the projector lists who joined by nickname
SCREEN_PODIUM = 2  # the projector ends with a podium


@dataclass(frozen=True, slots=True, kw_only=True)
class WizardState:
    """A drill being set up: topics as a bit mask over the bank's topics (0: all), then the choices so far."""

    topics: int = 0
    count: int = 10
    seconds: int = 0  # 0: untimed
    mode: DrillMode = DrillMode.LIVE
    days: int = 7
    pair: bool = False
    retest: int = 0  # days; 0: none
    step: int = 1
    judgment: int = 0  # judge items in a judgment block after the topic questions; 0: none
    screen: int = 0  # the projector view: SCREEN_NAMES and SCREEN_PODIUM bits (0: the count only, no podium)

    def encode(self) -> str:
        return _checked(
            f"w:{self.topics:x}.{self.count}.{self.seconds}.{_MODE_LETTER[self.mode]}.{self.days}.{int(self.pair)}."
            f"{self.retest}.{self.step}.{self.judgment}.{self.screen}"
        )

    @property
    def names_on_screen(self) -> bool:
        return bool(self.screen & SCREEN_NAMES)

    @property
    def podium(self) -> bool:
        return bool(self.screen & SCREEN_PODIUM)


@dataclass(frozen=True, slots=True, kw_only=True)
class Action:
    """A parsed button press."""

    kind: Kind
    session_id: str = ""
    position: int = 0
    option: int = 0
    confidence: Confidence | None = None
    value: str = ""  # menu item, topic id, language or yes/no
    move: TeacherMove | None = None
    round: DrillRound | None = None
    wizard: WizardState | None = None


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


def teacher(drill_id: str, move: TeacherMove) -> str:
    return _checked(f"D:{drill_id}:{move.value}")


def live_choice(drill_id: str, round_: DrillRound, position: int, shown: int) -> str:
    return _checked(f"e:{drill_id}:{_ROUND_LETTER[round_]}:{position}:{shown}")


def live_rating(drill_id: str, round_: DrillRound, position: int, shown: int, level: Confidence | None) -> str:
    return _checked(f"h:{drill_id}:{_ROUND_LETTER[round_]}:{position}:{shown}:{_CODE_OF[level]}")


def self_start(drill_id: str, round_: DrillRound) -> str:
    return _checked(f"s:{drill_id}:{_ROUND_LETTER[round_]}")


def parse(data: object) -> Action | None:
    """The action a button's data stands for, or None when it is not one this bot made."""
    if not isinstance(data, str) or len(data.encode("utf-8", "surrogatepass")) > MAX_BYTES or len(data) < 3:
        return None
    try:
        kind = Kind(data[0])
    except ValueError:
        return None
    match = _PATTERNS[kind].fullmatch(data)  # not .match: `$` would also accept a trailing newline
    if match is None:
        return None
    groups = match.groups()
    if kind in (Kind.ANSWER, Kind.GROUP_ANSWER):
        return Action(kind=kind, session_id=groups[0], position=int(groups[1]), option=int(groups[2]))
    if kind in (Kind.JOIN, Kind.BEGIN, Kind.RESUME):
        return Action(kind=kind, session_id=groups[0])
    if kind is Kind.WIZARD:
        topics, count, seconds, mode, days, pair, retest, step, judgment, screen = groups
        state = WizardState(
            topics=int(topics, 16),
            count=int(count),
            seconds=int(seconds),
            mode=_MODE_OF[mode],
            days=int(days),
            pair=pair == "1",
            retest=int(retest),
            step=int(step),
            judgment=int(judgment),
            screen=int(screen),
        )
        return Action(kind=kind, wizard=state)
    if kind is Kind.TEACHER:
        return Action(kind=kind, session_id=groups[0], move=TeacherMove(groups[1]))
    if kind is Kind.SELF_START:
        return Action(kind=kind, session_id=groups[0], round=_ROUND_OF[groups[1]])
    if kind is Kind.LIVE_CHOICE:
        return Action(
            kind=kind, session_id=groups[0], round=_ROUND_OF[groups[1]], position=int(groups[2]), option=int(groups[3])
        )
    if kind is Kind.LIVE_RATING:
        return Action(
            kind=kind,
            session_id=groups[0],
            round=_ROUND_OF[groups[1]],
            position=int(groups[2]),
            option=int(groups[3]),
            confidence=_CONFIDENCE_CODES[groups[4]],
        )
    if kind is Kind.CONFIDENCE:
        return Action(kind=kind, session_id=groups[0], position=int(groups[1]), confidence=_CONFIDENCE_CODES[groups[2]])
    if kind is Kind.NEXT:
        return Action(kind=kind, session_id=groups[0], position=int(groups[1]))
    return Action(kind=kind, value=groups[0])
