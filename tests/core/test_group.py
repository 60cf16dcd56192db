"""Group quiz rules with plain values: lobby, scoring, pacing, pausing, finishing."""

from __future__ import annotations

import random

import pytest

from bot.core.group import (
    QUESTION_SLIP,
    ChatId,
    GroupMoveRejected,
    GroupPhase,
    GroupRejection,
    GroupRules,
    GroupSessionId,
    advance,
    begin,
    group_from_dict,
    group_to_dict,
    open_lobby,
    points_for,
    resume,
    reveal,
    score,
    shown_late,
    stop,
)
from bot.core.model import QuestionBank

RULES = GroupRules(lobby_seconds=60, question_seconds=20, reveal_seconds=6, min_cycle_seconds=10)


def lobby(bank: QuestionBank, count: int = 3, now: float = 0.0):
    session = open_lobby(
        bank,
        session_id=GroupSessionId("g1"),
        chat_id=ChatId(-5),
        starter_id=1,
        topic=None,
        count=count,
        rules=RULES,
        rng=random.Random(2),
        now=now,
    )
    assert session is not None
    return session


def test_a_lobby_waits_until_its_deadline(small_bank: QuestionBank) -> None:
    session = lobby(small_bank, now=100)
    assert session.phase is GroupPhase.LOBBY and session.deadline == 160 and session.position == -1
    assert len({i.question_id for i in session.items}) == 3


def test_no_matching_question_means_no_lobby(small_bank: QuestionBank) -> None:
    assert (
        open_lobby(
            small_bank,
            session_id=GroupSessionId("g"),
            chat_id=ChatId(-5),
            starter_id=1,
            topic="nope",
            count=3,
            rules=RULES,
            rng=random.Random(),
            now=0,
        )
        is None
    )


@pytest.mark.parametrize(
    ("correct", "elapsed", "points"),
    [(True, 0, 1000), (True, 10, 750), (True, 20, 500), (True, 99, 500), (False, 0, 0)],
)
def test_right_and_faster_is_worth_more(correct: bool, elapsed: float, points: int) -> None:
    assert points_for(correct, elapsed, RULES) == points


def test_scoring_the_open_question(small_bank: QuestionBank) -> None:
    session = begin(lobby(small_bank), now=10)
    item = session.current
    right = item.order.index(small_bank.get(item.question_id).answer)
    answer = score(session, small_bank, position=0, shown=right, now=15)
    assert answer.correct and answer.points == 875 and answer.elapsed == 5
    wrong = score(session, small_bank, position=0, shown=(right + 1) % len(item.order), now=15)
    assert not wrong.correct and wrong.points == 0


@pytest.mark.parametrize(
    ("phase_move", "reason"),
    [
        (lambda s, b: score(s, b, position=0, shown=0, now=1), GroupRejection.NOT_OPEN),  # still in the lobby
        (lambda s, b: score(begin(s, now=1), b, position=1, shown=0, now=2), GroupRejection.STALE),
        (lambda s, b: score(begin(s, now=1), b, position=0, shown=7, now=2), GroupRejection.BAD_CHOICE),
        (lambda s, b: score(stop(s, now=1), b, position=0, shown=0, now=2), GroupRejection.CLOSED),
        (lambda s, b: begin(begin(s, now=1), now=2), GroupRejection.NOT_IN_LOBBY),
        (lambda s, b: resume(s, now=1), GroupRejection.NOT_PAUSED),
    ],
)
def test_moves_that_do_not_apply_are_refused(small_bank: QuestionBank, phase_move, reason: GroupRejection) -> None:
    with pytest.raises(GroupMoveRejected) as caught:
        phase_move(lobby(small_bank), small_bank)
    assert caught.value.reason is reason


def test_a_question_cycle_never_runs_shorter_than_the_flood_rule(small_bank: QuestionBank) -> None:
    session = begin(lobby(small_bank), now=100)
    quick = reveal(session, answered=5, now=101)  # everyone answered after 1 s
    assert quick.phase is GroupPhase.REVEALING and quick.deadline == 110  # 10 s from the question, not 6 from now
    slow = reveal(session, answered=5, now=118)
    assert slow.deadline == 124  # the reveal pause when the question ran long


def test_two_unanswered_questions_pause_and_resume_goes_on(small_bank: QuestionBank) -> None:
    session = begin(lobby(small_bank, count=4), now=0)
    session = advance(reveal(session, answered=0, now=20), now=30)
    paused = reveal(session, answered=0, now=50)
    assert paused.phase is GroupPhase.PAUSED and paused.deadline is None
    resumed = resume(paused, now=99)
    assert resumed.phase is GroupPhase.ASKING and resumed.position == 2 and resumed.idle_questions == 0


def test_an_answer_resets_the_idle_count(small_bank: QuestionBank) -> None:
    session = begin(lobby(small_bank, count=4), now=0)
    session = advance(reveal(session, answered=0, now=20), now=30)
    session = advance(reveal(session, answered=1, now=50), now=60)
    assert session.idle_questions == 0 and session.phase is GroupPhase.ASKING


def test_the_last_reveal_finishes_and_stop_ends_any_time(small_bank: QuestionBank) -> None:
    session = begin(lobby(small_bank, count=1), now=0)
    done = reveal(session, answered=3, now=5)
    assert done.phase is GroupPhase.FINISHED and done.finished_at == 5
    with pytest.raises(GroupMoveRejected):
        stop(done, now=6)
    assert stop(lobby(small_bank), now=1).phase is GroupPhase.STOPPED


def test_every_move_bumps_the_version_and_the_dict_round_trips(small_bank: QuestionBank) -> None:
    session = lobby(small_bank)
    asked = begin(session, now=1)
    revealed = reveal(asked, answered=1, now=2)
    assert [s.version for s in (session, asked, revealed)] == [0, 1, 2]
    assert group_from_dict(group_to_dict(revealed)) == revealed


def test_a_question_shown_late_gets_its_full_time_and_points_from_then(small_bank: QuestionBank) -> None:
    asked = begin(lobby(small_bank), now=100.0)  # deadline 120
    assert shown_late(asked, shown_at=100.0 + QUESTION_SLIP - 0.01) is asked  # an ordinary send: left alone
    late = shown_late(asked, shown_at=107.0)  # seven seconds of retries before it reached the group
    assert (late.asked_at, late.deadline, late.version) == (107.0, 127.0, asked.version)
    shown = late.current.order.index(small_bank.get(late.current.question_id).answer)
    at_once = score(late, small_bank, position=0, shown=shown, now=107.0)
    assert at_once.points == RULES.max_points  # answering the moment it appeared is answering at once
    assert shown_late(reveal(late, answered=1, now=110.0), shown_at=200.0).asked_at == 107.0  # not open: as it is
