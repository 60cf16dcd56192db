"""Classroom drills: a teacher's set of questions that a class joins with a code.

A drill runs in rounds: `main`, or `pre` then `post` for a pre-test/post-test pair, and later `retest` for the
delayed re-test. A live round is paced by the teacher (one question at a time for everybody); a self-paced round is
a private quiz per student over the drill's questions, open until a deadline.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any, NewType

from .engine import Confidence, QuizItem, shuffled_order
from .lang import Lang
from .model import Question, QuestionBank, QuestionId, QuestionType, Verdict

DrillId = NewType("DrillId", str)

# No 0/O, 1/I/L: a code read off a projector must not be misread.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8  # 31^8 ~ 8.5e11 codes: unguessable at a few guesses a minute
DAY = 86_400.0


def new_code(rng: random.Random | None = None) -> str:
    """A fresh join code (cryptographically random unless a seeded rng is given, for tests)."""
    pick = rng.choice if rng is not None else secrets.choice
    return "".join(pick(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(text: str) -> str | None:
    """A code as typed (any case, spaces or dashes) in canonical form, or None when it can't be one."""
    code = "".join(ch for ch in text.upper() if ch not in " -_")
    if len(code) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in code):
        return None
    return code


class DrillMode(StrEnum):
    LIVE = "live"  # teacher-paced
    SELF_PACED = "self"  # homework: open until a deadline


class DrillPhase(StrEnum):
    WAITING = "waiting"  # a live round not started yet (students join)
    ASKING = "asking"  # a live round's current question is open
    REVEALED = "revealed"  # a live round's current question is revealed
    OPEN = "open"  # a self-paced round is open
    BETWEEN = "between"  # a pre-test is done; the post-test waits for the teacher
    CLOSED = "closed"


class DrillRound(StrEnum):
    MAIN = "main"
    PRE = "pre"
    POST = "post"
    RETEST = "retest"


class DueMove(StrEnum):
    """What a drill's timer does."""

    REVEAL = "reveal"  # a timed live question closes
    FINISH_ROUND = "finish_round"  # a self-paced round's deadline
    SEND_RETEST = "send_retest"  # the delayed re-test opens


@dataclass(frozen=True, slots=True, kw_only=True)
class DrillSpec:
    """What the teacher chose."""

    topics: tuple[str, ...] = ()  # empty: every topic
    count: int = 10
    seconds: int | None = None  # per question in a live drill; None: the teacher reveals
    mode: DrillMode = DrillMode.LIVE
    pair: bool = False  # a pre-test/post-test pair
    open_days: int = 7  # a self-paced round stays open this long
    retest_days: int | None = None
    judgment: int = 0  # a judgment block of this many judge items (half genuine) after the topic questions
    lang: Lang | None = None  # the projector view's language: the teacher's when they made the drill
    names_on_screen: bool = False  # the projector view lists who joined by nickname (else only how many)
    podium: bool = False  # the projector view ends with the top three of the live round


JUDGMENT_CHECK = 10  # the short judgment check: 5 genuine, 5 manipulated; a fair pre/post pair on its own


@dataclass(frozen=True, slots=True, kw_only=True)
class Drill:
    """A drill and where it stands."""

    id: DrillId
    code: str
    teacher_id: int
    spec: DrillSpec
    items: tuple[QuizItem, ...]
    phase: DrillPhase
    round: DrillRound
    position: int = -1  # the live round's current question; -1 before the first
    deadline: float | None = None  # live: when the open question closes; self-paced: when the round closes
    created_at: float = 0.0
    closed_at: float | None = None
    retest_at: float | None = None
    retest_sent: bool = False
    control_message_id: int | None = None
    projector_token: str | None = None  # the projector link's secret (core/projector.py); None: no projector view
    version: int = 0

    @property
    def total(self) -> int:
        return len(self.items)

    @property
    def is_open(self) -> bool:
        return self.phase is not DrillPhase.CLOSED

    @property
    def round_key(self) -> str:
        """The answers' session id for a live round: shared by the class, unique per question and student."""
        return f"{self.id}.{self.round.value}"

    @property
    def due_at(self) -> float | None:
        """When this drill next needs the bot: a timed live question, a self-paced deadline, or a re-test."""
        if self.phase in (DrillPhase.ASKING, DrillPhase.OPEN) and self.deadline is not None:
            return self.deadline
        if self.phase is DrillPhase.CLOSED and self.retest_at is not None and not self.retest_sent:
            return self.retest_at
        return None

    @property
    def due_move(self) -> DueMove | None:
        """What its timer does when it fires (see `due_at`)."""
        if self.due_at is None:
            return None
        if self.phase is DrillPhase.ASKING:
            return DueMove.REVEAL
        if self.phase is DrillPhase.OPEN:
            return DueMove.FINISH_ROUND
        return DueMove.SEND_RETEST

    def may_start(self, round_: DrillRound) -> bool:
        """Whether a student may start `round_` on their own: the open self-paced round, or a re-test once sent."""
        if round_ is DrillRound.RETEST:
            return self.retest_sent
        return round_ is self.round and self.phase is DrillPhase.OPEN

    def bump(self, **changes: Any) -> Drill:
        return replace(self, version=self.version + 1, **changes)


class DrillRejection(StrEnum):
    NOT_FOUND = "not_found"  # no drill with that code
    BAD_CODE = "bad_code"  # the text can't be a code at all: say what a code looks like
    CLOSED = "closed"
    EXPIRED = "expired"  # a self-paced round past its deadline
    FULL = "full"
    NOT_TEACHER = "not_teacher"
    TOO_MANY_GUESSES = "too_many_guesses"
    NOT_NOW = "not_now"  # the move does not fit the drill's phase
    OWN_DRILL = "own_drill"  # the teacher tried to join their own drill
    IN_PROGRESS = "in_progress"  # a re-test this student is still taking


class DrillRefused(Exception):
    def __init__(self, reason: DrillRejection) -> None:
        super().__init__(reason.value)
        self.reason = reason


def create_drill(
    bank: QuestionBank,
    spec: DrillSpec,
    *,
    drill_id: DrillId,
    code: str,
    teacher_id: int,
    rng: random.Random,
    now: float,
    projector_token: str | None = None,
) -> Drill | None:
    """A new drill in its first round, or None when no question matches the chosen topics."""
    questions = drill_questions(bank, spec, rng)
    if not questions:
        return None
    items = tuple(QuizItem(question_id=q.id, order=shuffled_order(q, rng)) for q in questions)
    first = DrillRound.PRE if spec.pair else DrillRound.MAIN
    if spec.mode is DrillMode.LIVE:
        return Drill(
            id=drill_id,
            code=code,
            teacher_id=teacher_id,
            spec=spec,
            items=items,
            phase=DrillPhase.WAITING,
            round=first,
            created_at=now,
            projector_token=projector_token,
        )
    return Drill(
        id=drill_id,
        code=code,
        teacher_id=teacher_id,
        spec=spec,
        items=items,
        phase=DrillPhase.OPEN,
        round=first,
        deadline=now + spec.open_days * DAY,
        created_at=now,
        projector_token=projector_token,
    )


def drill_questions(bank: QuestionBank, spec: DrillSpec, rng: random.Random) -> list[Question]:
    """The topic questions (easy to hard), then the judgment block.

    Judge items drawn among the topic questions are balanced too, and the block never repeats one of them. A
    balanced set matters: with more fakes than genuine items, "say fake to everything" would pass for judgment.
    """
    topics = set(spec.topics) or None
    pool = [q for q in bank.questions if topics is None or q.topic in topics]
    plain = [q for q in pool if q.type is not QuestionType.JUDGE]
    judge = [q for q in bank.questions if q.type is QuestionType.JUDGE]
    if spec.judgment:
        wanted_judge = 0  # the block holds them all
    else:
        in_pool = sum(q.type is QuestionType.JUDGE for q in pool)
        wanted_judge = round(spec.count * in_pool / len(pool)) if pool else 0
    topic_part = rng.sample(plain, min(len(plain), spec.count - wanted_judge))
    topic_judge = balanced_judge([q for q in pool if q.type is QuestionType.JUDGE], spec.count - len(topic_part), rng)
    topic_questions = sorted(topic_part + topic_judge, key=lambda q: q.difficulty)
    taken = {q.id for q in topic_judge}
    block = balanced_judge([q for q in judge if q.id not in taken], spec.judgment, rng)
    return topic_questions + block


def balanced_judge(items: Sequence[Question], count: int, rng: random.Random) -> list[Question]:
    """Up to `count` judge items, as many genuine as manipulated (the odd one either way), in random order."""
    genuine = [q for q in items if q.verdict is Verdict.GENUINE]
    fake = [q for q in items if q.verdict is Verdict.MANIPULATED]
    halves = [count // 2, count - count // 2]
    rng.shuffle(halves)
    n_genuine = min(len(genuine), max(halves[0], count - len(fake)))
    n_fake = min(len(fake), count - n_genuine)
    chosen = rng.sample(genuine, n_genuine) + rng.sample(fake, n_fake)
    rng.shuffle(chosen)
    return chosen


def live_next(drill: Drill, *, now: float) -> Drill:
    """The teacher moves the class to the next question (or the first)."""
    if drill.spec.mode is not DrillMode.LIVE or drill.phase not in (DrillPhase.WAITING, DrillPhase.REVEALED):
        raise DrillRefused(DrillRejection.NOT_NOW)
    if drill.position + 1 >= drill.total:
        raise DrillRefused(DrillRejection.NOT_NOW)
    deadline = now + drill.spec.seconds if drill.spec.seconds else None
    return drill.bump(phase=DrillPhase.ASKING, position=drill.position + 1, deadline=deadline)


def live_reveal(drill: Drill) -> Drill:
    """The teacher (or the timer) reveals the open question."""
    if drill.phase is not DrillPhase.ASKING:
        raise DrillRefused(DrillRejection.NOT_NOW)
    return drill.bump(phase=DrillPhase.REVEALED, deadline=None)


def finish_round(drill: Drill, *, now: float) -> Drill:
    """The current round is over: a pre-test waits for its post-test; anything else closes the drill."""
    if drill.phase is DrillPhase.CLOSED or drill.phase is DrillPhase.BETWEEN:
        raise DrillRefused(DrillRejection.NOT_NOW)
    if drill.round is DrillRound.PRE:
        return drill.bump(phase=DrillPhase.BETWEEN, deadline=None, position=-1)
    return close(drill, now=now)


def start_post(drill: Drill, *, now: float) -> Drill:
    """After the lesson: the post-test, over the same questions."""
    if drill.phase is not DrillPhase.BETWEEN:
        raise DrillRefused(DrillRejection.NOT_NOW)
    if drill.spec.mode is DrillMode.LIVE:
        return drill.bump(phase=DrillPhase.WAITING, round=DrillRound.POST, position=-1, deadline=None)
    return drill.bump(
        phase=DrillPhase.OPEN, round=DrillRound.POST, deadline=now + drill.spec.open_days * DAY, position=-1
    )


def close(drill: Drill, *, now: float) -> Drill:
    """Close the drill now; a chosen re-test is scheduled from this moment."""
    if drill.phase is DrillPhase.CLOSED:
        raise DrillRefused(DrillRejection.CLOSED)
    retest_at = now + drill.spec.retest_days * DAY if drill.spec.retest_days else None
    return drill.bump(phase=DrillPhase.CLOSED, deadline=None, closed_at=now, retest_at=retest_at)


def drill_to_dict(drill: Drill) -> dict[str, Any]:
    spec = drill.spec
    return {
        "id": drill.id,
        "code": drill.code,
        "teacher_id": drill.teacher_id,
        "spec": {
            "topics": list(spec.topics),
            "count": spec.count,
            "judgment": spec.judgment,
            "lang": spec.lang.value if spec.lang else None,
            "names_on_screen": spec.names_on_screen,
            "podium": spec.podium,
            "seconds": spec.seconds,
            "mode": spec.mode.value,
            "pair": spec.pair,
            "open_days": spec.open_days,
            "retest_days": spec.retest_days,
        },
        "items": [{"q": i.question_id, "o": list(i.order)} for i in drill.items],
        "phase": drill.phase.value,
        "round": drill.round.value,
        "position": drill.position,
        "deadline": drill.deadline,
        "created_at": drill.created_at,
        "closed_at": drill.closed_at,
        "retest_at": drill.retest_at,
        "retest_sent": drill.retest_sent,
        "control_message_id": drill.control_message_id,
        "projector_token": drill.projector_token,
        "version": drill.version,
    }


def drill_from_dict(data: dict[str, Any]) -> Drill:
    spec = data["spec"]
    return Drill(
        id=DrillId(data["id"]),
        code=data["code"],
        teacher_id=data["teacher_id"],
        spec=DrillSpec(
            topics=tuple(spec["topics"]),
            count=spec["count"],
            seconds=spec["seconds"],
            mode=DrillMode(spec["mode"]),
            pair=spec["pair"],
            open_days=spec["open_days"],
            retest_days=spec["retest_days"],
            judgment=spec.get("judgment", 0),  # drills stored before judgment blocks have none
            # Drills stored before the projector view have no language, names, podium or token: no projector.
            lang=Lang(spec["lang"]) if spec.get("lang") else None,
            names_on_screen=spec.get("names_on_screen", False),
            podium=spec.get("podium", False),
        ),
        items=tuple(QuizItem(question_id=QuestionId(i["q"]), order=tuple(i["o"])) for i in data["items"]),
        phase=DrillPhase(data["phase"]),
        round=DrillRound(data["round"]),
        position=data["position"],
        deadline=data["deadline"],
        created_at=data["created_at"],
        closed_at=data["closed_at"],
        retest_at=data["retest_at"],
        retest_sent=data["retest_sent"],
        control_message_id=data["control_message_id"],
        projector_token=data.get("projector_token"),
        version=data["version"],
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class DrillStudent:
    """A student in a drill, known to the teacher by nickname only."""

    drill_id: DrillId
    user_id: int
    nickname: str | None  # None until they have chosen one
    joined_at: float
    message_id: int | None = None  # the live question message in their chat, to reveal it later


@dataclass(frozen=True, slots=True, kw_only=True)
class DrillAnswer:
    """One student's answer to one question in one round, as the report reads it."""

    round: DrillRound
    nickname: str
    user_id: int
    position: int
    question_id: str
    chosen: int
    correct: bool
    confidence: Confidence | None
    elapsed_ms: int
    answered_at: float
