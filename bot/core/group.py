"""Live group quizzes: a session as an immutable value and the moves that advance it.

Members and answers are rows of their own (a group may have a thousand members); the session value holds only
what a move needs: where the quiz stands, until when, and how it is paced. Pacing is a rule here, not luck: a
question costs the group up to three requests (the question, closing a poll, the reveal), and Telegram allows
about twenty a minute per group, so a question's cycle never runs shorter than `min_cycle_seconds`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any, NewType

from .engine import QuizItem, shuffled_order
from .model import Question, QuestionBank, QuestionId

GroupSessionId = NewType("GroupSessionId", str)
ChatId = NewType("ChatId", int)


class GroupPhase(StrEnum):
    """Where a group quiz stands."""

    LOBBY = "lobby"  # people join; starts at the deadline or when the starter or an admin says so
    ASKING = "asking"  # a question is open until the deadline (or until everyone joined has answered)
    REVEALING = "revealing"  # the answer is shown; the next question comes at the deadline
    PAUSED = "paused"  # nobody answered twice in a row; waits for /resume
    FINISHED = "finished"
    STOPPED = "stopped"


ACTIVE_GROUP_PHASES = frozenset({GroupPhase.LOBBY, GroupPhase.ASKING, GroupPhase.REVEALING, GroupPhase.PAUSED})


class GroupRejection(StrEnum):
    """Why a group move was refused."""

    NOT_OPEN = "not_open"  # no question is open (lobby, reveal, paused, over)
    STALE = "stale"  # the answer is for another question
    BAD_CHOICE = "bad_choice"
    CLOSED = "closed"  # the session is over
    NOT_IN_LOBBY = "not_in_lobby"
    NOT_PAUSED = "not_paused"


class GroupMoveRejected(Exception):
    def __init__(self, reason: GroupRejection) -> None:
        super().__init__(reason.value)
        self.reason = reason


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupRules:
    """Timings of a group quiz, in seconds."""

    lobby_seconds: float = 60.0
    question_seconds: float = 20.0
    reveal_seconds: float = 6.0
    min_cycle_seconds: float = 10.0  # 3 requests a question: at most 18 a minute, under the 20 Telegram allows
    idle_questions_to_pause: int = 2
    max_points: int = 1000
    # Accessible play; both off by default, as before they existed.
    accuracy_only: bool = False  # no speed points: a right answer is worth 1, so the leaderboard ranks right answers
    no_clock: bool = False  # no question timer: a question stays open until everyone answered or the starter moves on


def with_options(rules: GroupRules, *, accuracy_only: bool = False, no_clock: bool = False) -> GroupRules:
    """`rules` with the accessible-play options chosen for one session switched on."""
    return replace(rules, accuracy_only=rules.accuracy_only or accuracy_only, no_clock=rules.no_clock or no_clock)


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupSession:
    """A group quiz. Message ids are the adapter's handles, kept here so a restarted bot can edit them."""

    id: GroupSessionId
    chat_id: ChatId
    starter_id: int  # a person's id; a chat's when `starter_is_chat` (see `Sender`)
    topic: str | None
    items: tuple[QuizItem, ...]
    rules: GroupRules
    phase: GroupPhase
    position: int = -1  # -1 in the lobby
    deadline: float | None = None
    asked_at: float | None = None
    idle_questions: int = 0
    created_at: float = 0.0
    finished_at: float | None = None
    lobby_message_id: int | None = None
    question_message_id: int | None = None
    version: int = 0
    starter_is_chat: bool = False  # opened on behalf of a chat: a channel, or the group itself (an anonymous admin)

    @property
    def total(self) -> int:
        return len(self.items)

    @property
    def is_active(self) -> bool:
        return self.phase in ACTIVE_GROUP_PHASES

    @property
    def current(self) -> QuizItem:
        return self.items[self.position]

    @property
    def is_last(self) -> bool:
        return self.position == len(self.items) - 1

    @property
    def due_at(self) -> float | None:
        """When the bot must move this session on (lobby -> question -> reveal -> question); None: nothing timed."""
        return self.deadline if self.is_active else None

    def bump(self, **changes: Any) -> GroupSession:
        return replace(self, version=self.version + 1, **changes)


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupAnswer:
    """A scored group answer."""

    question: Question
    position: int
    chosen: int  # authored option index
    correct: bool
    points: int
    elapsed: float


def open_lobby(
    bank: QuestionBank,
    *,
    session_id: GroupSessionId,
    chat_id: ChatId,
    starter_id: int,
    topic: str | None,
    count: int,
    rules: GroupRules,
    rng: random.Random,
    now: float,
    starter_is_chat: bool = False,
) -> GroupSession | None:
    """A new session in its lobby, or None when no question matches. `starter_is_chat`: `starter_id` is the chat
    the lobby was opened on behalf of (see `Sender`)."""
    questions = bank.select(rng, count=count, topics=[topic] if topic else None)
    if not questions:
        return None
    return GroupSession(
        id=session_id,
        chat_id=chat_id,
        starter_id=starter_id,
        starter_is_chat=starter_is_chat,
        topic=topic,
        items=tuple(QuizItem(question_id=q.id, order=shuffled_order(q, rng)) for q in questions),
        rules=rules,
        phase=GroupPhase.LOBBY,
        deadline=now + rules.lobby_seconds,
        created_at=now,
    )


@dataclass(frozen=True, slots=True)
class Sender:
    """Who sent a command to a group: a person, or a chat speaking for itself (`is_chat`), which is either a channel
    posting in its linked discussion group or the group itself, when one of its admins posts anonymously.

    A chat speaking has no person behind it that the bot can see: Telegram sends such messages from an account shared
    by every channel (or every anonymous admin, of every group), so `id` is then the chat's, never that account's.
    Only admins can post as the group itself; a channel is never a member of the group, let alone an admin."""

    id: int
    is_chat: bool = False


class Control(StrEnum):
    """Whether a sender may control (start early, skip, stop) a group quiz."""

    YES = "yes"
    IF_ADMIN = "if_admin"  # only if they administer the group, which the adapter asks of the platform
    NO = "no"


def admin_control(sender: Sender, chat_id: int) -> Control:
    """What the group's admins may do (choose its language, control any quiz): a person if they are an admin; the
    group speaking for itself (an anonymous admin) yes; any other chat (a channel) no."""
    if sender.is_chat:
        return Control.YES if sender.id == chat_id else Control.NO
    return Control.IF_ADMIN


def may_control(session: GroupSession, sender: Sender) -> Control:
    """Who may start a group quiz early, skip a question or stop it: its starter and the group's admins.

    A quiz opened on behalf of a chat has no personal starter: the person who posted it cannot be seen. It may be
    controlled by a later message on behalf of that same chat (whoever may post as the channel, or any anonymous
    admin), and by any admin of the group; an ordinary member may not, nor may another channel. A quiz opened by a
    person is controlled by that person, by the group's admins (an anonymous admin among them), and by no channel."""
    if sender.is_chat == session.starter_is_chat and sender.id == session.starter_id:
        return Control.YES
    return admin_control(sender, session.chat_id)


def ask(session: GroupSession, position: int, now: float) -> GroupSession:
    """Open question `position`; with no clock it has no deadline: everyone answering or the starter closes it."""
    return session.bump(
        phase=GroupPhase.ASKING,
        position=position,
        asked_at=now,
        deadline=None if session.rules.no_clock else now + session.rules.question_seconds,
        question_message_id=None,
    )


QUESTION_SLIP = 1.0  # seconds a question may take to reach the group before its clock is moved


def shown_late(session: GroupSession, *, shown_at: float) -> GroupSession:
    """The open question as shown at `shown_at`: when Telegram took more than QUESTION_SLIP to show it (retries
    through errors, a slow reply), its time and its speed points start from then, so the delay is not taken from
    the players. Any other session is returned as it is."""
    if session.phase is not GroupPhase.ASKING or session.asked_at is None:
        return session
    slip = shown_at - session.asked_at
    if slip < QUESTION_SLIP:
        return session
    return replace(session, asked_at=shown_at, deadline=None if session.deadline is None else session.deadline + slip)


def begin(session: GroupSession, *, now: float) -> GroupSession:
    """Leave the lobby: the first question opens."""
    if session.phase is not GroupPhase.LOBBY:
        raise GroupMoveRejected(GroupRejection.NOT_IN_LOBBY)
    return ask(session, 0, now)


def score(session: GroupSession, bank: QuestionBank, *, position: int, shown: int, now: float) -> GroupAnswer:
    """Score one member's answer to the open question. Right and faster is worth more; wrong is worth 0."""
    if not session.is_active:
        raise GroupMoveRejected(GroupRejection.CLOSED)
    if session.phase is not GroupPhase.ASKING:
        raise GroupMoveRejected(GroupRejection.NOT_OPEN)
    if position != session.position:
        raise GroupMoveRejected(GroupRejection.STALE)
    item = session.current
    if not 0 <= shown < len(item.order):
        raise GroupMoveRejected(GroupRejection.BAD_CHOICE)
    question = bank.get(item.question_id)
    if question is None:
        raise GroupMoveRejected(GroupRejection.CLOSED)
    chosen = item.order[shown]
    correct = chosen == question.answer
    elapsed = max(0.0, now - (session.asked_at or now))
    return GroupAnswer(
        question=question,
        position=position,
        chosen=chosen,
        correct=correct,
        points=points_for(correct, elapsed, session.rules) if correct else 0,
        elapsed=elapsed,
    )


def points_for(correct: bool, elapsed: float, rules: GroupRules) -> int:
    """Half the points for being right, the other half shrinking linearly over the time allowed. Accuracy only: 1
    for being right, whenever it came."""
    if not correct:
        return 0
    if rules.accuracy_only:
        return 1
    share = min(1.0, elapsed / rules.question_seconds) if rules.question_seconds > 0 else 1.0
    return round(rules.max_points * (1.0 - share / 2))


def reveal(session: GroupSession, *, answered: int, now: float) -> GroupSession:
    """Close the open question. The last one finishes the quiz; a second question in a row with no answer pauses it."""
    if session.phase is not GroupPhase.ASKING:
        raise GroupMoveRejected(GroupRejection.NOT_OPEN)
    idle = 0 if answered else session.idle_questions + 1
    if session.is_last:
        return session.bump(phase=GroupPhase.FINISHED, deadline=None, finished_at=now, idle_questions=idle)
    if idle >= session.rules.idle_questions_to_pause:
        return session.bump(phase=GroupPhase.PAUSED, deadline=None, idle_questions=idle)
    if session.rules.no_clock:  # the starter or an admin moves on (/skip)
        return session.bump(phase=GroupPhase.REVEALING, deadline=None, idle_questions=idle)
    spent = now - (session.asked_at or now)
    pause = max(session.rules.reveal_seconds, session.rules.min_cycle_seconds - spent)
    return session.bump(phase=GroupPhase.REVEALING, deadline=now + pause, idle_questions=idle)


def advance(session: GroupSession, *, now: float) -> GroupSession:
    """After the reveal pause: the next question."""
    if session.phase is not GroupPhase.REVEALING:
        raise GroupMoveRejected(GroupRejection.NOT_OPEN)
    return ask(session, session.position + 1, now)


def resume(session: GroupSession, *, now: float) -> GroupSession:
    """Continue a paused quiz with its next question."""
    if session.phase is not GroupPhase.PAUSED:
        raise GroupMoveRejected(GroupRejection.NOT_PAUSED)
    return replace(ask(session, session.position + 1, now), idle_questions=0)


def stop(session: GroupSession, *, now: float) -> GroupSession:
    """End the quiz now; the results so far stand."""
    if not session.is_active:
        raise GroupMoveRejected(GroupRejection.CLOSED)
    return session.bump(phase=GroupPhase.STOPPED, deadline=None, finished_at=now)


def group_to_dict(session: GroupSession) -> dict[str, Any]:
    """A JSON-ready form, for storage."""
    rules = session.rules
    return {
        "id": session.id,
        "chat_id": session.chat_id,
        "starter_id": session.starter_id,
        "topic": session.topic,
        "items": [{"q": i.question_id, "o": list(i.order)} for i in session.items],
        "rules": {
            "lobby": rules.lobby_seconds,
            "question": rules.question_seconds,
            "reveal": rules.reveal_seconds,
            "cycle": rules.min_cycle_seconds,
            "idle": rules.idle_questions_to_pause,
            "points": rules.max_points,
            "accuracy_only": rules.accuracy_only,
            "no_clock": rules.no_clock,
        },
        "phase": session.phase.value,
        "position": session.position,
        "deadline": session.deadline,
        "asked_at": session.asked_at,
        "idle_questions": session.idle_questions,
        "created_at": session.created_at,
        "finished_at": session.finished_at,
        "lobby_message_id": session.lobby_message_id,
        "question_message_id": session.question_message_id,
        "version": session.version,
        "starter_chat": session.starter_is_chat,
    }


def group_from_dict(data: dict[str, Any]) -> GroupSession:
    rules = data["rules"]
    return GroupSession(
        id=GroupSessionId(data["id"]),
        chat_id=ChatId(data["chat_id"]),
        starter_id=data["starter_id"],
        topic=data["topic"],
        items=tuple(QuizItem(question_id=QuestionId(i["q"]), order=tuple(i["o"])) for i in data["items"]),
        rules=GroupRules(
            lobby_seconds=rules["lobby"],
            question_seconds=rules["question"],
            reveal_seconds=rules["reveal"],
            min_cycle_seconds=rules["cycle"],
            idle_questions_to_pause=rules["idle"],
            max_points=rules["points"],
            # Absent from sessions stored before accessible play: they keep speed points and the clock.
            accuracy_only=rules.get("accuracy_only", False),
            no_clock=rules.get("no_clock", False),
        ),
        phase=GroupPhase(data["phase"]),
        position=data["position"],
        deadline=data["deadline"],
        asked_at=data["asked_at"],
        idle_questions=data["idle_questions"],
        created_at=data["created_at"],
        finished_at=data["finished_at"],
        lobby_message_id=data["lobby_message_id"],
        question_message_id=data["question_message_id"],
        version=data["version"],
        starter_is_chat=data.get("starter_chat", False),  # absent from sessions stored before it was kept
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupInfo:
    """A group the bot is in: its language and whether the bot is still a member."""

    chat_id: ChatId
    lang: str
    title: str = ""
    active: bool = True
    added_by: int | None = None
    created_at: float = 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupMember:
    """Someone who joined a group session."""

    user_id: int
    name: str
    joined_at: float
    left: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Standing:
    """A member's place on a session's leaderboard."""

    user_id: int
    name: str
    points: int
    correct: int
    answered: int


@dataclass(frozen=True, slots=True, kw_only=True)
class QuestionTally:
    """How a group did on one question."""

    position: int
    question_id: str
    answered: int
    correct: int


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupRecord:
    """One past session of a group, for its /stats."""

    session_id: GroupSessionId
    finished_at: float
    players: int
    answered: int
    correct: int
    winner: str | None
