"""Every SQL statement the two back-ends share, written once, and its translation for each driver.

The statements are written in PostgreSQL's spelling: numbered placeholders (`$1`, which may repeat) and `COLLATE "C"`
on text sort keys. `for_dialect` translates them once, at import: for sqlite3, `$n` becomes `?n` (SQLite's numbered
placeholder, bound from the same positional arguments) and `COLLATE "C"` becomes `COLLATE BINARY`. Both orders
compare UTF-8 bytes, i.e. code points, whatever collation the PostgreSQL database was created with.

Every `ORDER BY` ends in a key that is unique among the rows it sorts, so the two back-ends return rows in the same
order even when scores, times or names are equal. Fixed sets of phases are SQL literals (they are constants of the
core's enums), so a statement takes only the values that change from call to call.

What differs between the back-ends (schema and migrations, batch inserts, locking) stays in `sqlite.py` and
`postgres.py`; see `sql.py` for the methods written once over these statements.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, fields
from enum import StrEnum
from typing import Any

from ..core.drill import DrillPhase
from ..core.engine import ACTIVE_PHASES
from ..core.group import ACTIVE_GROUP_PHASES, GroupPhase


class Dialect(StrEnum):
    """The SQL a driver speaks."""

    SQLITE = "sqlite"
    POSTGRES = "postgres"


BYTEWISE = 'COLLATE "C"'  # text compared by code point, as SQLite's BINARY does

USER_COLUMNS = "id, lang, ask_confidence, active, created_at"
ANSWER_COLUMNS = (
    "session_id, user_id, question_id, topic, position, chosen, correct, confidence, elapsed_ms, answered_at, context, "
    "points"
)
REVIEW_COLUMNS = "user_id, question_id, box, due_at"
GROUP_COLUMNS = "chat_id, lang, title, active, added_by, created_at"
MEMBER_COLUMNS = "user_id, name, joined_at, left_at"
STUDENT_COLUMNS = "drill_id, user_id, nickname, joined_at, message_id"
DRILL_COLUMNS = "id, code, teacher_id, phase, version, deadline, retest_at, state, created_at"
# Every table with rows about a person, and the column that names them: /forget empties them all.
FORGET_USER_ROWS = (
    ("answers", "user_id"),
    ("review_items", "user_id"),
    ("quiz_sessions", "user_id"),
    ("group_members", "user_id"),
    ("drill_students", "user_id"),
    ("drill_sessions", "user_id"),
    ("drills", "teacher_id"),
    ("users", "id"),
)


def placeholders(count: int) -> str:
    """`$1, $2, ..., $count`."""
    return ", ".join(f"${n}" for n in range(1, count + 1))


def literals(values: Iterable[str]) -> str:
    """`('a', 'b')` for a fixed set of enum values (checked to be plain words, so nothing needs quoting)."""
    words = sorted(values)
    for word in words:
        if not re.fullmatch(r"[a-z_]+", word):
            raise ValueError(f"not a plain word: {word!r}")
    return "(" + ", ".join(f"'{word}'" for word in words) + ")"


_ACTIVE = literals(ACTIVE_PHASES)
_GROUP_ACTIVE = literals(ACTIVE_GROUP_PHASES)
_GROUP_DONE = literals([GroupPhase.FINISHED, GroupPhase.STOPPED])
_CLOSED = literals([DrillPhase.CLOSED])
_ANSWERS = f"SELECT {ANSWER_COLUMNS} FROM answers"
_ANSWER_ORDER = "ORDER BY answered_at, id"
_LEADERBOARD = (
    "SELECT m.user_id, m.name, coalesce(sum(a.points), 0), count(a.id) FILTER (WHERE a.correct), count(a.id) "
    "FROM group_members m LEFT JOIN answers a ON a.session_id = m.session_id AND a.user_id = m.user_id "
    "WHERE m.session_id = $1 GROUP BY m.user_id, m.name, m.joined_at "
    "ORDER BY 3 DESC, 4 DESC, m.joined_at, m.user_id"
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Statements:
    """The shared statements, each in one driver's dialect; fields name what a statement does."""

    # people and private quizzes
    get_user: str = f"SELECT {USER_COLUMNS} FROM users WHERE id = $1"
    # An update changes the settings, never when the person first came.
    save_user: str = (
        f"INSERT INTO users ({USER_COLUMNS}) VALUES ({placeholders(5)}) "
        "ON CONFLICT (id) DO UPDATE SET lang = excluded.lang, ask_confidence = excluded.ask_confidence, "
        "active = excluded.active"
    )
    get_session: str = "SELECT state FROM quiz_sessions WHERE id = $1"
    active_session: str = (
        f"SELECT state FROM quiz_sessions WHERE user_id = $1 AND phase IN {_ACTIVE} "
        f"ORDER BY updated_at DESC, id {BYTEWISE} LIMIT 1"
    )
    insert_session: str = (
        "INSERT INTO quiz_sessions (id, user_id, phase, version, state, updated_at) "
        f"VALUES ({placeholders(6)}) ON CONFLICT (id) DO NOTHING"
    )
    update_session: str = (
        "UPDATE quiz_sessions SET phase = $1, version = $2, state = $3, updated_at = $4 WHERE id = $5 AND version = $6"
    )
    # An answer counts once per (session, position, user), wherever it was given.
    insert_answer: str = (
        f"INSERT INTO answers ({ANSWER_COLUMNS}) VALUES ({placeholders(12)}) "
        "ON CONFLICT (session_id, position, user_id) DO NOTHING"
    )
    all_answers: str = f"{_ANSWERS} {_ANSWER_ORDER}"
    # Item analysis: every answer (private, group and drill) given at or after a time.
    answers_since: str = f"{_ANSWERS} WHERE answered_at >= $1 {_ANSWER_ORDER}"
    user_answers: str = f"{_ANSWERS} WHERE user_id = $1 {_ANSWER_ORDER}"
    session_answers: str = f"{_ANSWERS} WHERE session_id = $1 {_ANSWER_ORDER}"
    user_session_answers: str = f"{_ANSWERS} WHERE user_id = $1 AND session_id = $2 {_ANSWER_ORDER}"
    review_item: str = f"SELECT {REVIEW_COLUMNS} FROM review_items WHERE user_id = $1 AND question_id = $2"
    review_items: str = (
        f"SELECT {REVIEW_COLUMNS} FROM review_items WHERE user_id = $1 ORDER BY due_at, question_id {BYTEWISE}"
    )
    upsert_review: str = (
        f"INSERT INTO review_items ({REVIEW_COLUMNS}) VALUES ({placeholders(4)}) "
        "ON CONFLICT (user_id, question_id) DO UPDATE SET box = excluded.box, due_at = excluded.due_at"
    )
    delete_review: str = "DELETE FROM review_items WHERE user_id = $1 AND question_id = $2"
    forget_user: tuple[str, ...] = tuple(
        f"DELETE FROM {table} WHERE {column} = $1" for table, column in FORGET_USER_ROWS
    )

    # groups
    get_group: str = f"SELECT {GROUP_COLUMNS} FROM groups WHERE chat_id = $1"
    # Who added the bot and when stay as first recorded.
    save_group: str = (
        f"INSERT INTO groups ({GROUP_COLUMNS}) VALUES ({placeholders(6)}) "
        "ON CONFLICT (chat_id) DO UPDATE SET lang = excluded.lang, title = excluded.title, active = excluded.active"
    )
    move_group_session: str = "UPDATE group_sessions SET chat_id = $1, version = $2, state = $3 WHERE id = $4"
    insert_group_session: str = (
        "INSERT INTO group_sessions (id, chat_id, phase, version, deadline, state, updated_at) "
        f"VALUES ({placeholders(7)}) ON CONFLICT (id) DO NOTHING"
    )
    update_group_session: str = (
        "UPDATE group_sessions SET chat_id = $1, phase = $2, version = $3, deadline = $4, state = $5, updated_at = $6 "
        "WHERE id = $7 AND version = $8"
    )
    get_group_session: str = "SELECT state FROM group_sessions WHERE id = $1"
    active_group_session: str = (
        f"SELECT state FROM group_sessions WHERE chat_id = $1 AND phase IN {_GROUP_ACTIVE} "
        f"ORDER BY updated_at DESC, id {BYTEWISE} LIMIT 1"
    )
    # A paused quiz has no deadline: it comes first.
    active_group_sessions: str = (
        f"SELECT state FROM group_sessions WHERE phase IN {_GROUP_ACTIVE} ORDER BY deadline NULLS FIRST, id {BYTEWISE}"
    )
    due_group_sessions: str = (
        f"SELECT id FROM group_sessions WHERE deadline <= $1 AND phase IN {_GROUP_ACTIVE} "
        f"AND (showing_until IS NULL OR showing_until <= $1) ORDER BY deadline, id {BYTEWISE}"
    )
    hold_group_session: str = "UPDATE group_sessions SET showing_until = $1 WHERE id = $2"
    # A member who left and comes back is in again, as first joined.
    add_member: str = (
        f"INSERT INTO group_members (session_id, user_id, name, joined_at) VALUES ({placeholders(4)}) "
        "ON CONFLICT (session_id, user_id) DO UPDATE SET left_at = NULL WHERE group_members.left_at IS NOT NULL"
    )
    # An answer that counts makes its member join (when not in yet), as of the answer.
    join_member: str = (
        f"INSERT INTO group_members (session_id, user_id, name, joined_at) VALUES ({placeholders(4)}) "
        "ON CONFLICT (session_id, user_id) DO NOTHING"
    )
    members: str = f"SELECT {MEMBER_COLUMNS} FROM group_members WHERE session_id = $1 ORDER BY joined_at, user_id"
    count_members: str = "SELECT coalesce((SELECT present FROM member_counts WHERE session_id = $1), 0)"
    member_left: str = "UPDATE group_members SET left_at = $1 WHERE session_id = $2 AND user_id = $3"
    map_poll: str = (
        "INSERT INTO group_polls (poll_id, session_id, position) VALUES ($1, $2, $3) "
        "ON CONFLICT (poll_id) DO UPDATE SET session_id = excluded.session_id, position = excluded.position"
    )
    poll_target: str = "SELECT session_id, position FROM group_polls WHERE poll_id = $1"
    answer_tally: str = (
        "SELECT coalesce((SELECT answered FROM answer_counts WHERE session_id = $1 AND position = $2), 0), "
        "coalesce((SELECT present FROM member_counts WHERE session_id = $1), 0)"
    )
    count_answers: str = (
        "SELECT coalesce((SELECT answered FROM answer_counts WHERE session_id = $1 AND position = $2), 0)"
    )
    # Members by points, then right answers, then who joined first; members with no answer count too.
    leaderboard: str = _LEADERBOARD
    leaderboard_top: str = f"{_LEADERBOARD} LIMIT $2"
    # How a question's answers split across its options (authored indexes), for the projector after a reveal.
    chosen_counts: str = (
        "SELECT chosen, count(*) FROM answers WHERE session_id = $1 AND position = $2 GROUP BY chosen ORDER BY chosen"
    )
    question_tallies: str = (
        "SELECT position, question_id, count(*), count(*) FILTER (WHERE correct) FROM answers WHERE session_id = $1 "
        f"GROUP BY position, question_id ORDER BY position, question_id {BYTEWISE}"
    )
    count_finished_group_sessions: str = (
        f"SELECT count(*) FROM group_sessions WHERE chat_id = $1 AND phase IN {_GROUP_DONE}"
    )
    finished_group_sessions: str = (
        "SELECT s.id, s.updated_at, "
        "(SELECT count(*) FROM group_members m WHERE m.session_id = s.id), "
        "(SELECT count(*) FROM answers a WHERE a.session_id = s.id), "
        "(SELECT count(*) FROM answers a WHERE a.session_id = s.id AND a.correct) "
        f"FROM group_sessions s WHERE s.chat_id = $1 AND s.phase IN {_GROUP_DONE} "
        f"ORDER BY s.updated_at DESC, s.id {BYTEWISE} LIMIT $2"
    )

    # drills
    create_drill: str = f"INSERT INTO drills ({DRILL_COLUMNS}) VALUES ({placeholders(9)}) ON CONFLICT DO NOTHING"
    commit_drill: str = (
        "UPDATE drills SET phase = $1, version = $2, deadline = $3, retest_at = $4, state = $5 "
        "WHERE id = $6 AND version = $7"
    )
    get_drill: str = "SELECT state FROM drills WHERE id = $1"
    drill_by_code: str = "SELECT state FROM drills WHERE code = $1"
    teacher_drills: str = f"SELECT state FROM drills WHERE teacher_id = $1 ORDER BY created_at DESC, id {BYTEWISE}"
    # Something due later: an open deadline or a re-test not yet sent.
    timed_drills: str = (
        f"SELECT state FROM drills WHERE (deadline IS NOT NULL AND phase NOT IN {_CLOSED}) "
        f"OR (retest_at IS NOT NULL) ORDER BY created_at, id {BYTEWISE}"
    )
    count_students: str = (
        "SELECT count(*), count(*) FILTER (WHERE user_id = $1) FROM drill_students WHERE drill_id = $2"
    )
    add_student: str = "INSERT INTO drill_students (drill_id, user_id, joined_at) VALUES ($1, $2, $3)"
    other_nicknames: str = (
        "SELECT nickname FROM drill_students WHERE drill_id = $1 AND user_id <> $2 AND nickname IS NOT NULL"
    )
    set_nickname: str = "UPDATE drill_students SET nickname = $1 WHERE drill_id = $2 AND user_id = $3"
    set_student_message: str = "UPDATE drill_students SET message_id = $1 WHERE drill_id = $2 AND user_id = $3"
    student: str = f"SELECT {STUDENT_COLUMNS} FROM drill_students WHERE drill_id = $1 AND user_id = $2"
    students: str = f"SELECT {STUDENT_COLUMNS} FROM drill_students WHERE drill_id = $1 ORDER BY joined_at, user_id"
    awaiting_nickname: str = (
        f"SELECT {STUDENT_COLUMNS} FROM drill_students WHERE user_id = $1 AND nickname IS NULL "
        f"ORDER BY joined_at DESC, drill_id {BYTEWISE} LIMIT 1"
    )
    link_session: str = (
        "INSERT INTO drill_sessions (drill_id, round, user_id, session_id) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT (drill_id, round, user_id) DO UPDATE SET session_id = excluded.session_id"
    )
    drill_session: str = "SELECT session_id FROM drill_sessions WHERE drill_id = $1 AND round = $2 AND user_id = $3"
    # The drill a student's quiz session belongs to (by the user_id index): its panel counts the answer.
    session_drill: str = (
        "SELECT drill_id FROM drill_sessions WHERE user_id = $1 AND session_id = $2 "
        f"ORDER BY drill_id {BYTEWISE} LIMIT 1"
    )
    # By round, then nickname (a missing one first), then position.
    drill_answers: str = (
        "SELECT ds.round, coalesce(st.nickname, ''), a.user_id, a.position, a.question_id, a.chosen, a.correct, "
        "a.confidence, a.elapsed_ms, a.answered_at FROM drill_sessions ds "
        "JOIN answers a ON a.session_id = ds.session_id AND a.user_id = ds.user_id "
        "JOIN drill_students st ON st.drill_id = ds.drill_id AND st.user_id = ds.user_id "
        f"WHERE ds.drill_id = $1 ORDER BY ds.round {BYTEWISE}, st.nickname {BYTEWISE} NULLS FIRST, a.position, "
        "a.user_id"
    )


def translate(statement: str, dialect: Dialect) -> str:
    """One statement in `dialect`'s spelling."""
    if dialect is Dialect.POSTGRES:
        return statement
    return re.sub(r"\$(\d+)", r"?\1", statement).replace(BYTEWISE, "COLLATE BINARY")


def for_dialect(dialect: Dialect) -> Statements:
    """Every shared statement in `dialect`'s spelling: done once, when a back-end's module is imported."""
    written = Statements()
    translated: dict[str, Any] = {}
    for field in fields(Statements):
        value = getattr(written, field.name)
        translated[field.name] = (
            translate(value, dialect) if isinstance(value, str) else tuple(translate(v, dialect) for v in value)
        )
    return Statements(**translated)
