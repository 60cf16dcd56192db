"""Rows to core values and back, for both back-ends: one place that knows each column list's order.

A row is whatever the driver returns (a tuple from sqlite3, a Record from asyncpg), read by position in the order of
the column lists in `statements.py`. Booleans come back as 0/1 from SQLite and as bool from PostgreSQL: `bool()`
makes them one type. Values written are Python values both drivers take (a bool is stored as 0/1 by sqlite3).
"""

from __future__ import annotations

import json
from typing import Any, Protocol

from ..core.drill import Drill, DrillAnswer, DrillId, DrillRound, DrillStudent, drill_from_dict, drill_to_dict
from ..core.engine import AnswerRecord, Confidence, QuizSession, SessionId, UserId, session_from_dict, session_to_dict
from ..core.group import (
    ChatId,
    GroupInfo,
    GroupMember,
    GroupSession,
    QuestionTally,
    Standing,
    group_from_dict,
    group_to_dict,
)
from ..core.lang import Lang
from ..core.model import QuestionId
from ..core.review import ReviewItem
from ..core.users import UserProfile
from .base import GroupAnswerEntry


class Row(Protocol):
    """A result row, read by column position."""

    def __getitem__(self, index: int, /) -> Any: ...

    def __len__(self) -> int: ...


def dumps(data: dict[str, Any]) -> str:
    """State as stored: compact JSON, the same text on both back-ends."""
    return json.dumps(data, separators=(",", ":"))


def session_state(session: QuizSession) -> str:
    return dumps(session_to_dict(session))


def session_from_state(state: str) -> QuizSession:
    return session_from_dict(json.loads(state))


def group_state(session: GroupSession) -> str:
    return dumps(group_to_dict(session))


def group_from_state(state: str) -> GroupSession:
    return group_from_dict(json.loads(state))


def drill_state(drill: Drill) -> str:
    return dumps(drill_to_dict(drill))


def drill_from_state(state: str) -> Drill:
    return drill_from_dict(json.loads(state))


def user_from_row(row: Row) -> UserProfile:
    return UserProfile(
        id=UserId(row[0]), lang=Lang(row[1]), ask_confidence=bool(row[2]), active=bool(row[3]), created_at=row[4]
    )


def user_values(profile: UserProfile) -> tuple[Any, ...]:
    return (profile.id, profile.lang.value, profile.ask_confidence, profile.active, profile.created_at)


def answer_values(record: AnswerRecord) -> tuple[Any, ...]:
    return (
        record.session_id,
        record.user_id,
        record.question_id,
        record.topic,
        record.position,
        record.chosen,
        record.correct,
        record.confidence.value if record.confidence else None,
        record.elapsed_ms,
        record.answered_at,
        record.context,
        record.points,
    )


def answer_from_row(row: Row) -> AnswerRecord:
    return AnswerRecord(
        session_id=SessionId(row[0]),
        user_id=UserId(row[1]),
        question_id=QuestionId(row[2]),
        topic=row[3],
        position=row[4],
        chosen=row[5],
        correct=bool(row[6]),
        confidence=Confidence(row[7]) if row[7] else None,
        elapsed_ms=row[8],
        answered_at=row[9],
        context=row[10],
        points=row[11],
    )


def answer_key(record: AnswerRecord) -> tuple[str, int, int]:
    """What makes an answer unique: (session, position, user)."""
    return (record.session_id, record.position, record.user_id)


def member_values(answer: GroupAnswerEntry) -> tuple[Any, ...]:
    """The member an answer that counts makes join: by the answer's name, as of the answer."""
    return (answer.record.session_id, answer.record.user_id, answer.name[:64], answer.record.answered_at)


def review_from_row(row: Row) -> ReviewItem:
    return ReviewItem(user_id=UserId(row[0]), question_id=QuestionId(row[1]), box=row[2], due_at=row[3])


def review_values(item: ReviewItem) -> tuple[Any, ...]:
    return (item.user_id, item.question_id, item.box, item.due_at)


def group_from_row(row: Row) -> GroupInfo:
    return GroupInfo(
        chat_id=ChatId(row[0]), lang=row[1], title=row[2], active=bool(row[3]), added_by=row[4], created_at=row[5]
    )


def group_values(info: GroupInfo) -> tuple[Any, ...]:
    return (info.chat_id, info.lang, info.title, info.active, info.added_by, info.created_at)


def member_from_row(row: Row) -> GroupMember:
    return GroupMember(user_id=row[0], name=row[1], joined_at=row[2], left=row[3] is not None)


def standing_from_row(row: Row) -> Standing:
    return Standing(user_id=row[0], name=row[1], points=int(row[2]), correct=int(row[3]), answered=int(row[4]))


def tally_from_row(row: Row) -> QuestionTally:
    return QuestionTally(position=row[0], question_id=row[1], answered=int(row[2]), correct=int(row[3]))


def drill_values(drill: Drill) -> tuple[Any, ...]:
    return (
        drill.id,
        drill.code,
        drill.teacher_id,
        drill.phase.value,
        drill.version,
        drill.deadline,
        drill.retest_at,
        drill_state(drill),
        drill.created_at,
    )


def student_from_row(row: Row) -> DrillStudent:
    return DrillStudent(drill_id=DrillId(row[0]), user_id=row[1], nickname=row[2], joined_at=row[3], message_id=row[4])


def drill_answer_from_row(row: Row) -> DrillAnswer:
    return DrillAnswer(
        round=DrillRound(row[0]),
        nickname=row[1],
        user_id=row[2],
        position=row[3],
        question_id=row[4],
        chosen=row[5],
        correct=bool(row[6]),
        confidence=Confidence(row[7]) if row[7] else None,
        elapsed_ms=row[8],
        answered_at=row[9],
    )
