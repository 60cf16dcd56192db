"""The quiz use cases over a real SQLite file: the flow, review, concurrency and refusals."""

from __future__ import annotations

import asyncio
import logging
import random

import pytest

from bot.core.engine import Confidence, MoveRejected, Phase, QuizMode, QuizSpec, Rejection, UserId
from bot.core.lang import Lang
from bot.core.model import QuestionBank
from bot.services import NothingToReview, QuestionView, QuizService, ResultView, RevealView
from bot.storage.sqlite import SQLiteStorage
from tests.services.conftest import FakeClock

USER = UserId(5)


@pytest.fixture
def service(store: SQLiteStorage, small_bank: QuestionBank) -> QuizService:
    clock = FakeClock()
    svc = QuizService(small_bank, store, clock=clock, rng=random.Random(9))
    svc.clock = clock  # type: ignore[attr-defined]
    return svc


async def play_through(service: QuizService, *, right: bool, confidence: Confidence | None = None) -> ResultView:
    step = await service.start(USER, QuizSpec(count=3, ask_confidence=confidence is not None))
    while isinstance(step, QuestionView):
        shown = step.answer_shown if right else (step.answer_shown + 1) % len(step.order)
        result = await service.choose(USER, step.session_id, position=step.position, shown=shown)
        if isinstance(result, QuestionView):
            assert result.phase is Phase.RATING and result.pending_shown == shown
            result = await service.rate(USER, step.session_id, position=step.position, confidence=confidence)
        assert isinstance(result, RevealView)
        assert result.record.correct is right
        step = await service.next(USER, step.session_id, position=step.position)
    assert isinstance(step, ResultView)
    return step


async def test_user_is_created_once_with_the_default_language(service: QuizService) -> None:
    profile = await service.user(USER, default_lang=Lang.ZH_HANS)
    assert profile.lang is Lang.ZH_HANS
    assert (await service.user(USER, default_lang=Lang.EN)).lang is Lang.ZH_HANS


async def test_a_whole_quiz_then_progress(service: QuizService) -> None:
    result = await play_through(service, right=True, confidence=Confidence.SURE)
    assert result.summary.total.correct == 3 and result.session.phase is Phase.FINISHED
    assert result.summary.calibration.rated == 3 and result.review_queue == 0
    progress = await service.progress(USER)
    assert progress.summary.total.answered == 3 and progress.quizzes_finished == 1


async def test_missed_questions_come_back_in_review_first(service: QuizService, store: SQLiteStorage) -> None:
    assert isinstance(await service.start(USER, QuizSpec(mode=QuizMode.REVIEW)), NothingToReview)
    missed = await play_through(service, right=False)
    assert missed.review_queue == 3 and missed.review_due == 3
    answered = {a.question_id for a in await store.answers(user_id=USER)}
    review = await service.start(USER, QuizSpec(mode=QuizMode.REVIEW, count=10, ask_confidence=False))
    assert isinstance(review, QuestionView) and review.total == 3
    step = review
    while isinstance(step, QuestionView):
        assert step.question.id in answered
        await service.choose(USER, step.session_id, position=step.position, shown=step.answer_shown)
        step = await service.next(USER, step.session_id, position=step.position)
    items = await store.review_items(USER)
    assert {i.box for i in items} == {2} and all(i.due_at > service.clock.now for i in items)


async def test_two_presses_at_once_count_once(service: QuizService, store: SQLiteStorage) -> None:
    view = await service.start(USER, QuizSpec(count=3, ask_confidence=False))
    results = await asyncio.gather(
        *(service.choose(USER, view.session_id, position=0, shown=0) for _ in range(5)), return_exceptions=True
    )
    assert sum(isinstance(r, RevealView) for r in results) == 1
    assert all(r.reason is Rejection.ALREADY_ANSWERED for r in results if isinstance(r, MoveRejected))
    assert len(await store.answers(user_id=USER)) == 1


async def test_someone_elses_or_an_unknown_session_is_refused(service: QuizService) -> None:
    view = await service.start(USER, QuizSpec(count=2))
    with pytest.raises(MoveRejected) as caught:
        await service.choose(UserId(999), view.session_id, position=0, shown=0)
    assert caught.value.reason is Rejection.NOT_YOURS
    with pytest.raises(MoveRejected) as caught:
        await service.choose(USER, "no-such-session", position=0, shown=0)
    assert caught.value.reason is Rejection.CLOSED


async def test_a_new_quiz_makes_the_old_one_stale(service: QuizService) -> None:
    old = await service.start(USER, QuizSpec(count=2))
    await service.start(USER, QuizSpec(count=2))
    with pytest.raises(MoveRejected) as caught:
        await service.choose(USER, old.session_id, position=0, shown=0)
    assert caught.value.reason is Rejection.CLOSED


async def test_cancel_keeps_answers_and_resume_shows_the_current_step(service: QuizService) -> None:
    view = await service.start(USER, QuizSpec(count=3, ask_confidence=False))
    await service.choose(USER, view.session_id, position=0, shown=view.answer_shown)
    current = await service.current(USER)
    assert isinstance(current, RevealView) and current.view.position == 0
    stopped = await service.cancel(USER)
    assert stopped.summary.total.answered == 1 and stopped.session.phase is Phase.CANCELLED
    assert await service.current(USER) is None and await service.cancel(USER) is None


async def test_forget_deletes_everything(service: QuizService, store: SQLiteStorage) -> None:
    await service.user(USER, default_lang=Lang.EN)
    await play_through(service, right=False)
    await service.forget(USER)
    progress = await service.progress(USER)
    assert progress.summary.total.answered == 0 and progress.review_items == ()
    assert await store.get_user(USER) is None


async def test_an_operator_sees_each_quiz_start_and_end_at_info(
    service: QuizService, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.services.quiz")
    result = await play_through(service, right=True)
    lines = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    session = result.session.id
    assert lines == [f"quiz {session} started: user {USER}, quick, 3 questions", f"quiz {session} ended: finished"]
    caplog.clear()
    step = await service.start(USER, QuizSpec(count=3))
    assert isinstance(step, QuestionView)
    await service.cancel(USER)
    lines = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert lines[-1] == f"quiz {step.session_id} ended: cancelled at question 1 of 3"
