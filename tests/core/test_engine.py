"""The engine's rules, with plain values: selection, shuffling, scoring, stale moves, review, calibration."""

from __future__ import annotations

import random

import pytest

from bot.core.engine import (
    Confidence,
    MoveRejected,
    Phase,
    QuizMode,
    QuizSpec,
    Rejection,
    SessionId,
    UserId,
    advance,
    cancel,
    choose,
    rate,
    session_from_dict,
    session_to_dict,
    start_quiz,
)
from bot.core.model import QuestionBank, QuestionType


def new_quiz(bank: QuestionBank, *, seed: int = 1, **spec: object):
    session = start_quiz(
        bank, QuizSpec(**spec), session_id=SessionId("s1"), user_id=UserId(7), rng=random.Random(seed), now=100.0
    )
    assert session is not None
    return session


def right_shown(bank: QuestionBank, session) -> int:
    item = session.current
    return item.order.index(bank.get(item.question_id).answer)


def test_selection_respects_topic_difficulty_and_count_without_repeats(small_bank: QuestionBank) -> None:
    for seed in range(20):
        session = new_quiz(small_bank, seed=seed, topic="alpha", count=4)
        ids = [item.question_id for item in session.items]
        assert len(ids) == len(set(ids)) == 4
        assert all(small_bank.get(q).topic == "alpha" for q in ids)
    hard = new_quiz(small_bank, difficulty=3, count=10)
    assert {small_bank.get(i.question_id).difficulty for i in hard.items} == {3}


def test_count_larger_than_the_pool_takes_everything_once(small_bank: QuestionBank) -> None:
    session = new_quiz(small_bank, count=50)
    assert sorted(i.question_id for i in session.items) == sorted(q.id for q in small_bank.questions)


def test_quiz_goes_from_easy_to_hard(small_bank: QuestionBank) -> None:
    session = new_quiz(small_bank, count=8)
    levels = [small_bank.get(i.question_id).difficulty for i in session.items]
    assert levels == sorted(levels)


def test_no_matching_question_gives_none(small_bank: QuestionBank) -> None:
    spec = QuizSpec(topic="nothing-here")
    assert (
        start_quiz(small_bank, spec, session_id=SessionId("x"), user_id=UserId(1), rng=random.Random(), now=0) is None
    )


def test_shuffle_is_reproducible_with_a_seed_and_varies_without(small_bank: QuestionBank) -> None:
    first = new_quiz(small_bank, seed=42, count=8)
    again = new_quiz(small_bank, seed=42, count=8)
    assert first.items == again.items
    orders = {new_quiz(small_bank, seed=s, topic="beta", count=1).items[0].order for s in range(30)}
    assert len(orders) > 1


def test_true_false_keeps_its_order(small_bank: QuestionBank) -> None:
    for seed in range(10):
        session = new_quiz(small_bank, seed=seed, count=8)
        for item in session.items:
            if small_bank.get(item.question_id).type is QuestionType.TRUE_FALSE:
                assert item.order == (0, 1)


def test_scoring_streak_and_time_to_answer(small_bank: QuestionBank) -> None:
    session = new_quiz(small_bank, count=3, ask_confidence=False)
    t = choose(session, small_bank, position=0, shown_choice=right_shown(small_bank, session), now=103.5)
    assert t.outcome.record.correct and t.outcome.streak == 1 and t.outcome.record.elapsed_ms == 3500
    assert t.session.phase is Phase.REVEALED
    session = advance(t.session, position=0, now=110).session
    t = choose(session, small_bank, position=1, shown_choice=right_shown(small_bank, session), now=111)
    assert t.outcome.streak == 2 and t.session.best_streak == 2
    session = advance(t.session, position=1, now=112).session
    wrong = (right_shown(small_bank, session) + 1) % len(session.current.order)
    t = choose(session, small_bank, position=2, shown_choice=wrong, now=113)
    assert not t.outcome.record.correct and t.outcome.streak == 0 and t.outcome.is_last
    assert t.outcome.record.chosen == session.current.order[wrong]  # stored as the authored index
    done = advance(t.session, position=2, now=120).session
    assert done.phase is Phase.FINISHED and done.correct == 2 and done.answered == 3 and done.best_streak == 2


def test_confidence_step_comes_before_the_reveal(small_bank: QuestionBank) -> None:
    session = new_quiz(small_bank, count=2)
    t = choose(session, small_bank, position=0, shown_choice=0, now=102)
    assert t.outcome is None and t.session.phase is Phase.RATING
    t2 = rate(t.session, small_bank, position=0, confidence=Confidence.SURE, now=150)
    assert t2.outcome.record.confidence is Confidence.SURE
    assert t2.outcome.record.elapsed_ms == 2000  # time to choose, not to rate


@pytest.mark.parametrize(
    ("move", "reason"),
    [
        (lambda s, b: choose(s, b, position=1, shown_choice=0, now=1), Rejection.STALE),
        (lambda s, b: choose(s, b, position=0, shown_choice=9, now=1), Rejection.BAD_CHOICE),
        (lambda s, b: rate(s, b, position=0, confidence=None, now=1), Rejection.NOT_RATING),
        (lambda s, b: advance(s, position=0, now=1), Rejection.NOT_REVEALED),
    ],
)
def test_moves_that_do_not_apply_are_refused(small_bank: QuestionBank, move, reason: Rejection) -> None:
    session = new_quiz(small_bank, count=3, ask_confidence=False)
    with pytest.raises(MoveRejected) as caught:
        move(session, small_bank)
    assert caught.value.reason is reason


def test_a_second_press_on_the_same_question_is_refused(small_bank: QuestionBank) -> None:
    session = new_quiz(small_bank, count=3, ask_confidence=False)
    answered = choose(session, small_bank, position=0, shown_choice=0, now=1).session
    with pytest.raises(MoveRejected) as caught:
        choose(answered, small_bank, position=0, shown_choice=1, now=2)
    assert caught.value.reason is Rejection.ALREADY_ANSWERED


def test_a_cancelled_quiz_accepts_nothing(small_bank: QuestionBank) -> None:
    session = cancel(new_quiz(small_bank), now=5).session
    assert session.phase is Phase.CANCELLED
    with pytest.raises(MoveRejected) as caught:
        choose(session, small_bank, position=0, shown_choice=0, now=6)
    assert caught.value.reason is Rejection.CLOSED


def test_every_move_bumps_the_version(small_bank: QuestionBank) -> None:
    session = new_quiz(small_bank, count=2)
    rated = choose(session, small_bank, position=0, shown_choice=0, now=1).session
    revealed = rate(rated, small_bank, position=0, confidence=None, now=2).session
    following = advance(revealed, position=0, now=3).session
    assert [s.version for s in (session, rated, revealed, following)] == [0, 1, 2, 3]


def test_review_mode_takes_only_the_given_questions_in_order(small_bank: QuestionBank) -> None:
    session = start_quiz(
        small_bank,
        QuizSpec(mode=QuizMode.REVIEW, count=5),
        session_id=SessionId("r"),
        user_id=UserId(1),
        rng=random.Random(1),
        now=0,
        first=["beta-1", "alpha-3", "retired-or-unknown"],
    )
    assert [i.question_id for i in session.items] == ["beta-1", "alpha-3"]


def test_session_round_trips_through_its_dict(small_bank: QuestionBank) -> None:
    session = choose(new_quiz(small_bank, count=3), small_bank, position=0, shown_choice=1, now=101).session
    assert session_from_dict(session_to_dict(session)) == session
