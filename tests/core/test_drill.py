"""Drill rules with plain values: when a drill is due and what its timer does, who may start a round, deadlines."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from bot.core.deadline import DUE_SLACK, is_due, wait_seconds
from bot.core.drill import (
    DAY,
    Drill,
    DrillId,
    DrillMode,
    DrillPhase,
    DrillRound,
    DrillSpec,
    DueMove,
    close,
    create_drill,
    finish_round,
    live_next,
    live_reveal,
    start_post,
)
from bot.core.group import ChatId, GroupRules, GroupSessionId, open_lobby, stop
from bot.core.model import QuestionBank


def new_drill(bank: QuestionBank, **spec: object) -> Drill:
    drill = create_drill(
        bank,
        DrillSpec(count=3, **spec),  # type: ignore[arg-type]
        drill_id=DrillId("d1"),
        code="ABCDEFGH",
        teacher_id=1,
        rng=random.Random(1),
        now=0.0,
    )
    assert drill is not None
    return drill


@pytest.mark.parametrize(
    ("due_at", "now", "due"),
    [(None, 1e9, False), (10.0, 9.0, False), (10.0, 10.0 - DUE_SLACK, True), (10.0, 10.0, True), (10.0, 11.0, True)],
)
def test_a_deadline_is_due_from_a_hair_before_it(due_at: float | None, now: float, due: bool) -> None:
    assert is_due(due_at, now) is due


def test_the_wait_is_never_negative_nor_shorter_than_asked() -> None:
    assert wait_seconds(10.0, 4.0) == 6.0
    assert wait_seconds(10.0, 12.0) == 0.0
    assert wait_seconds(10.0, 12.0, at_least=3.0) == 3.0
    assert wait_seconds(10.0, 4.0, at_least=3.0) == 6.0


def test_a_timed_live_question_is_due_at_its_deadline_and_reveals(small_bank: QuestionBank) -> None:
    drill = new_drill(small_bank, seconds=20)
    assert drill.phase is DrillPhase.WAITING and drill.due_at is None and drill.due_move is None
    asking = live_next(drill, now=100.0)
    assert asking.due_at == 120.0 and asking.due_move is DueMove.REVEAL
    assert live_reveal(asking).due_at is None


def test_an_untimed_live_question_waits_for_the_teacher(small_bank: QuestionBank) -> None:
    asking = live_next(new_drill(small_bank), now=100.0)
    assert asking.phase is DrillPhase.ASKING and asking.due_at is None


def test_a_self_paced_round_is_due_at_its_deadline_and_finishes(small_bank: QuestionBank) -> None:
    drill = new_drill(small_bank, mode=DrillMode.SELF_PACED, open_days=3)
    assert drill.due_at == 3 * DAY and drill.due_move is DueMove.FINISH_ROUND


def test_a_retest_is_due_once_after_closing(small_bank: QuestionBank) -> None:
    closed = close(new_drill(small_bank, retest_days=7), now=50.0)
    assert closed.due_at == 50.0 + 7 * DAY and closed.due_move is DueMove.SEND_RETEST
    sent = closed.bump(retest_sent=True, retest_at=None)
    assert sent.due_at is None
    assert close(new_drill(small_bank), now=50.0).due_at is None  # no re-test chosen


@pytest.mark.parametrize("round_", list(DrillRound))
def test_only_the_open_self_paced_round_or_a_sent_retest_may_be_started(
    small_bank: QuestionBank, round_: DrillRound
) -> None:
    open_ = new_drill(small_bank, mode=DrillMode.SELF_PACED)
    assert open_.may_start(round_) is (round_ is DrillRound.MAIN)
    closed = close(open_, now=1.0)
    assert not closed.may_start(round_)
    assert closed.bump(retest_sent=True).may_start(round_) is (round_ is DrillRound.RETEST)
    live = new_drill(small_bank)
    assert not live.may_start(round_)


def test_a_self_paced_post_test_may_be_started_once_open(small_bank: QuestionBank) -> None:
    pre = new_drill(small_bank, mode=DrillMode.SELF_PACED, pair=True)
    assert pre.may_start(DrillRound.PRE) and not pre.may_start(DrillRound.POST)
    between = finish_round(pre, now=1.0)
    assert not between.may_start(DrillRound.PRE) and not between.may_start(DrillRound.POST)
    post = start_post(between, now=2.0)
    assert post.may_start(DrillRound.POST) and not post.may_start(DrillRound.PRE)


def test_a_group_session_is_due_at_its_deadline_while_it_runs(small_bank: QuestionBank) -> None:
    session = open_lobby(
        small_bank,
        session_id=GroupSessionId("g1"),
        chat_id=ChatId(-5),
        starter_id=1,
        topic=None,
        count=2,
        rules=GroupRules(lobby_seconds=60),
        rng=random.Random(2),
        now=0.0,
    )
    assert session is not None and session.due_at == 60.0
    assert stop(session, now=1.0).due_at is None
    assert replace(session, deadline=None).due_at is None
