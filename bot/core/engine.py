"""The quiz engine: a quiz session as an immutable value and the moves that advance it.

Handlers never change a session themselves: they ask the engine for a move, get back the next session and
an outcome, and render the outcome. Every move names the question position it was made on, so a stale or
repeated press is recognised and refused instead of being counted again.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any, NewType

from .model import Question, QuestionBank, QuestionId

SessionId = NewType("SessionId", str)
UserId = NewType("UserId", int)


class Phase(StrEnum):
    """Where a quiz session stands."""

    ASKING = "asking"  # the current question is shown, waiting for a choice
    RATING = "rating"  # a choice is made, waiting for "how sure are you?"
    REVEALED = "revealed"  # the answer is shown, waiting for "next"
    FINISHED = "finished"
    CANCELLED = "cancelled"


ACTIVE_PHASES = frozenset({Phase.ASKING, Phase.RATING, Phase.REVEALED})


class QuizMode(StrEnum):
    """What a quiz draws from."""

    QUICK = "quick"
    TOPIC = "topic"
    REVIEW = "review"
    DRILL = "drill"  # fixed questions chosen by a teacher


class Confidence(StrEnum):
    """How sure a person said they were before the reveal."""

    GUESS = "guess"
    PROBABLY = "probably"
    SURE = "sure"

    @property
    def expected(self) -> float:
        """The share of answers a perfectly calibrated person would get right at this level."""
        return _EXPECTED[self]


_EXPECTED = {Confidence.GUESS: 0.4, Confidence.PROBABLY: 0.7, Confidence.SURE: 0.95}


class Rejection(StrEnum):
    """Why a move was refused. Each maps to a polite notice; none changes anything."""

    STALE = "stale"  # the move names a question that is not the current one
    ALREADY_ANSWERED = "already_answered"
    NOT_RATING = "not_rating"
    NOT_REVEALED = "not_revealed"
    BAD_CHOICE = "bad_choice"
    CLOSED = "closed"  # the session has finished, was cancelled or is unknown
    NOT_YOURS = "not_yours"  # someone pressed a button on another person's quiz


class MoveRejected(Exception):
    """A move that does not apply to the session as it stands."""

    def __init__(self, reason: Rejection) -> None:
        super().__init__(reason.value)
        self.reason = reason


@dataclass(frozen=True, slots=True, kw_only=True)
class QuizItem:
    """One question of a quiz and the order its options are shown in (`order[shown] = authored index`)."""

    question_id: QuestionId
    order: tuple[int, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class QuizSpec:
    """What a person asked for."""

    mode: QuizMode = QuizMode.QUICK
    topic: str | None = None
    difficulty: int | None = None
    count: int = 5
    ask_confidence: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class QuizSession:
    """A quiz in progress or done. `version` grows with every move so concurrent writers can be detected."""

    id: SessionId
    user_id: UserId
    mode: QuizMode
    topic: str | None
    items: tuple[QuizItem, ...]
    position: int
    phase: Phase
    ask_confidence: bool
    started_at: float
    asked_at: float
    pending_choice: int | None = None  # authored option index chosen, while RATING
    pending_elapsed: float | None = None
    streak: int = 0
    best_streak: int = 0
    correct: int = 0
    answered: int = 0
    finished_at: float | None = None
    version: int = 0

    @property
    def total(self) -> int:
        return len(self.items)

    @property
    def current(self) -> QuizItem:
        return self.items[self.position]

    @property
    def is_active(self) -> bool:
        return self.phase in ACTIVE_PHASES

    @property
    def is_last(self) -> bool:
        return self.position == len(self.items) - 1


@dataclass(frozen=True, slots=True, kw_only=True)
class AnswerRecord:
    """One recorded answer. Unique per (session, position, user): recording it twice is a no-op."""

    session_id: SessionId
    user_id: UserId
    question_id: QuestionId
    topic: str
    position: int
    chosen: int  # authored option index
    correct: bool
    confidence: Confidence | None
    elapsed_ms: int
    answered_at: float
    context: str = "private"  # private, group or drill: where the answer was given
    points: int = 0  # group play: right and fast earns more


@dataclass(frozen=True, slots=True, kw_only=True)
class AnswerOutcome:
    """What an answer did: for rendering the reveal."""

    record: AnswerRecord
    question: Question
    streak: int
    is_last: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Transition:
    """A move's result: the session after it, and the outcome when an answer was scored."""

    session: QuizSession
    outcome: AnswerOutcome | None = None


def shuffled_order(question: Question, rng: random.Random) -> tuple[int, ...]:
    """The order to show the options in; fixed-order types keep their authored order."""
    order = list(range(len(question.options)))
    if question.shuffle:
        rng.shuffle(order)
    return tuple(order)


def start_quiz(
    bank: QuestionBank,
    spec: QuizSpec,
    *,
    session_id: SessionId,
    user_id: UserId,
    rng: random.Random,
    now: float,
    first: Sequence[str] = (),
) -> QuizSession | None:
    """A new session with up to `spec.count` questions, or None when nothing matches."""
    topics = [spec.topic] if spec.topic else None
    if spec.mode in (QuizMode.REVIEW, QuizMode.DRILL):
        questions = bank.select(rng, count=spec.count, first=first, topics=[])
    else:
        questions = bank.select(rng, count=spec.count, topics=topics, difficulty=spec.difficulty, first=first)
    if not questions:
        return None
    items = tuple(QuizItem(question_id=q.id, order=shuffled_order(q, rng)) for q in questions)
    return QuizSession(
        id=session_id,
        user_id=user_id,
        mode=spec.mode,
        topic=spec.topic,
        items=items,
        position=0,
        phase=Phase.ASKING,
        ask_confidence=spec.ask_confidence,
        started_at=now,
        asked_at=now,
    )


def _require(session: QuizSession, position: int, phase: Phase) -> None:
    if not session.is_active:
        raise MoveRejected(Rejection.CLOSED)
    if position != session.position:
        raise MoveRejected(Rejection.STALE)
    if session.phase is not phase:
        if phase is Phase.ASKING:
            raise MoveRejected(Rejection.ALREADY_ANSWERED)
        raise MoveRejected(Rejection.NOT_RATING if phase is Phase.RATING else Rejection.NOT_REVEALED)


def choose(session: QuizSession, bank: QuestionBank, *, position: int, shown_choice: int, now: float) -> Transition:
    """The person picked option `shown_choice` (as shown) on question `position`."""
    _require(session, position, Phase.ASKING)
    item = session.current
    if not 0 <= shown_choice < len(item.order):
        raise MoveRejected(Rejection.BAD_CHOICE)
    chosen = item.order[shown_choice]
    elapsed = max(0.0, now - session.asked_at)
    if session.ask_confidence:
        rating = replace(
            session, phase=Phase.RATING, pending_choice=chosen, pending_elapsed=elapsed, version=session.version + 1
        )
        return Transition(session=rating)
    return _score(session, bank, chosen=chosen, confidence=None, elapsed=elapsed, now=now)


def rate(
    session: QuizSession, bank: QuestionBank, *, position: int, confidence: Confidence | None, now: float
) -> Transition:
    """The person said how sure they are (None: skipped); the pending choice is scored."""
    _require(session, position, Phase.RATING)
    assert session.pending_choice is not None and session.pending_elapsed is not None
    return _score(
        session, bank, chosen=session.pending_choice, confidence=confidence, elapsed=session.pending_elapsed, now=now
    )


def _score(
    session: QuizSession,
    bank: QuestionBank,
    *,
    chosen: int,
    confidence: Confidence | None,
    elapsed: float,
    now: float,
) -> Transition:
    question = bank.get(session.current.question_id)
    if question is None:  # retired between start and answer: count it as skipped, not as wrong
        raise MoveRejected(Rejection.CLOSED)
    correct = chosen == question.answer
    streak = session.streak + 1 if correct else 0
    record = AnswerRecord(
        session_id=session.id,
        user_id=session.user_id,
        question_id=question.id,
        topic=question.topic,
        position=session.position,
        chosen=chosen,
        correct=correct,
        confidence=confidence,
        elapsed_ms=round(elapsed * 1000),
        answered_at=now,
    )
    revealed = replace(
        session,
        phase=Phase.REVEALED,
        pending_choice=chosen,
        pending_elapsed=None,
        streak=streak,
        best_streak=max(session.best_streak, streak),
        correct=session.correct + int(correct),
        answered=session.answered + 1,
        version=session.version + 1,
    )
    outcome = AnswerOutcome(record=record, question=question, streak=streak, is_last=session.is_last)
    return Transition(session=revealed, outcome=outcome)


def advance(session: QuizSession, *, position: int, now: float) -> Transition:
    """Move on from a revealed question: to the next one, or finish the quiz after the last."""
    _require(session, position, Phase.REVEALED)
    if session.is_last:
        done = replace(session, phase=Phase.FINISHED, pending_choice=None, finished_at=now, version=session.version + 1)
        return Transition(session=done)
    following = replace(
        session,
        position=session.position + 1,
        phase=Phase.ASKING,
        pending_choice=None,
        asked_at=now,
        version=session.version + 1,
    )
    return Transition(session=following)


def cancel(session: QuizSession, *, now: float) -> Transition:
    """Stop the quiz; answers given so far stay recorded."""
    if not session.is_active:
        raise MoveRejected(Rejection.CLOSED)
    stopped = replace(session, phase=Phase.CANCELLED, finished_at=now, version=session.version + 1)
    return Transition(session=stopped)


def session_to_dict(session: QuizSession) -> dict[str, Any]:
    """A JSON-ready form of a session, for storage."""
    return {
        "id": session.id,
        "user_id": session.user_id,
        "mode": session.mode.value,
        "topic": session.topic,
        "items": [{"q": item.question_id, "o": list(item.order)} for item in session.items],
        "position": session.position,
        "phase": session.phase.value,
        "ask_confidence": session.ask_confidence,
        "started_at": session.started_at,
        "asked_at": session.asked_at,
        "pending_choice": session.pending_choice,
        "pending_elapsed": session.pending_elapsed,
        "streak": session.streak,
        "best_streak": session.best_streak,
        "correct": session.correct,
        "answered": session.answered,
        "finished_at": session.finished_at,
        "version": session.version,
    }


def session_from_dict(data: dict[str, Any]) -> QuizSession:
    """The inverse of `session_to_dict`."""
    return QuizSession(
        id=SessionId(data["id"]),
        user_id=UserId(data["user_id"]),
        mode=QuizMode(data["mode"]),
        topic=data["topic"],
        items=tuple(QuizItem(question_id=QuestionId(i["q"]), order=tuple(i["o"])) for i in data["items"]),
        position=data["position"],
        phase=Phase(data["phase"]),
        ask_confidence=data["ask_confidence"],
        started_at=data["started_at"],
        asked_at=data["asked_at"],
        pending_choice=data["pending_choice"],
        pending_elapsed=data["pending_elapsed"],
        streak=data["streak"],
        best_streak=data["best_streak"],
        correct=data["correct"],
        answered=data["answered"],
        finished_at=data["finished_at"],
        version=data["version"],
    )
