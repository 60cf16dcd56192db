"""Accessible play in group quizzes, with plain values: accuracy only (no speed points) and no clock."""

from __future__ import annotations

import random

from bot.core.group import (
    QUESTION_SLIP,
    ChatId,
    GroupPhase,
    GroupRules,
    GroupSession,
    GroupSessionId,
    advance,
    begin,
    group_from_dict,
    group_to_dict,
    open_lobby,
    points_for,
    reveal,
    score,
    shown_late,
    with_options,
)
from bot.core.model import QuestionBank

RULES = GroupRules(lobby_seconds=60, question_seconds=20, reveal_seconds=6, min_cycle_seconds=10)


def lobby(bank: QuestionBank, rules: GroupRules) -> GroupSession:
    session = open_lobby(
        bank,
        session_id=GroupSessionId("g1"),
        chat_id=ChatId(-5),
        starter_id=1,
        topic=None,
        count=3,
        rules=rules,
        rng=random.Random(2),
        now=0.0,
    )
    assert session is not None
    return session


def right_and_wrong(bank: QuestionBank, session: GroupSession) -> tuple[int, int]:
    """The shown index of the open question's right answer, and of a wrong one."""
    item = session.current
    question = bank.get(item.question_id)
    assert question is not None
    right = item.order.index(question.answer)
    return right, (right + 1) % len(item.order)


def test_the_defaults_stay_as_before() -> None:
    rules = GroupRules()
    assert not rules.accuracy_only and not rules.no_clock
    assert with_options(rules) == rules
    assert points_for(True, 0.0, rules) == 1000 and points_for(True, 10.0, rules) == 750


def test_accuracy_only_is_worth_one_point_per_right_answer_however_slow(small_bank: QuestionBank) -> None:
    rules = with_options(RULES, accuracy_only=True)
    session = begin(lobby(small_bank, rules), now=100.0)
    right, wrong = right_and_wrong(small_bank, session)
    fast = score(session, small_bank, position=0, shown=right, now=100.5)
    slow = score(session, small_bank, position=0, shown=right, now=119.0)
    missed = score(session, small_bank, position=0, shown=wrong, now=101.0)
    assert (fast.points, slow.points, missed.points) == (1, 1, 0)
    assert fast.correct and slow.correct and not missed.correct
    # The clock still runs: only the points lose their speed part.
    assert session.deadline == 120.0


def test_no_clock_leaves_questions_and_reveals_open_until_someone_moves_on(small_bank: QuestionBank) -> None:
    session = begin(lobby(small_bank, with_options(RULES, no_clock=True)), now=100.0)
    assert session.phase is GroupPhase.ASKING and session.deadline is None and session.due_at is None
    assert shown_late(session, shown_at=100.0 + 5 * QUESTION_SLIP).deadline is None  # a late message moves no clock
    revealed = reveal(session, answered=3, now=400.0)
    assert revealed.phase is GroupPhase.REVEALING and revealed.deadline is None and revealed.due_at is None
    following = advance(revealed, now=900.0)
    assert following.phase is GroupPhase.ASKING and following.position == 1 and following.deadline is None
    # Speed points still count (unless accuracy only is chosen too), over the usual question time.
    right, _ = right_and_wrong(small_bank, following)
    assert score(following, small_bank, position=1, shown=right, now=905.0).points == 875


def test_a_timed_session_keeps_its_clock(small_bank: QuestionBank) -> None:
    session = begin(lobby(small_bank, RULES), now=100.0)
    assert session.deadline == 120.0
    assert reveal(session, answered=1, now=110.0).deadline == 116.0


def test_the_options_are_stored_with_the_session_and_old_sessions_keep_todays_rules(small_bank: QuestionBank) -> None:
    both = lobby(small_bank, with_options(RULES, accuracy_only=True, no_clock=True))
    assert group_from_dict(group_to_dict(both)) == both
    plain = group_to_dict(lobby(small_bank, RULES))
    del plain["rules"]["accuracy_only"], plain["rules"]["no_clock"]  # as stored before accessible play
    old = group_from_dict(plain)
    assert not old.rules.accuracy_only and not old.rules.no_clock
