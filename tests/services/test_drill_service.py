"""Drill use cases over a real SQLite file: what the panel counts, who scored what, who may start a round, and what
a drill's timer does. The adapters only show these."""

from __future__ import annotations

import random

import pytest

from bot.core.drill import DrillMode, DrillPhase, DrillRefused, DrillRejection, DrillRound, DrillSpec
from bot.core.model import QuestionBank
from bot.services import QuizService
from bot.services.drill import DrillService
from bot.services.drill_views import LiveReveal, RoundFinished, RoundOpened
from bot.storage.sqlite import SQLiteStorage
from tests.services.conftest import FakeClock

TEACHER = 1
STUDENTS = (11, 12, 13)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def drills(store: SQLiteStorage, small_bank: QuestionBank, clock: FakeClock) -> DrillService:
    quiz = QuizService(small_bank, store, clock=clock, rng=random.Random(1))
    return DrillService(small_bank, store, quiz, clock=clock, rng=random.Random(2))


async def class_in(drills: DrillService, **spec: object) -> str:
    """A drill with three named students; its id."""
    drill = await drills.create(TEACHER, DrillSpec(count=3, **spec))  # type: ignore[arg-type]
    assert drill is not None
    await drills.note_control_message(drill.id, 99)
    for user in STUDENTS:
        joined = await drills.join(user, drill.code)
        named = await drills.name_student(joined.student, f"S{user}", ask_confidence=False)
        assert named.nickname == f"S{user}"
    return drill.id


async def test_the_live_panel_counts_answers_then_right_ones(drills: DrillService) -> None:
    drill_id = await class_in(drills)
    live = await drills.live_next(TEACHER, drill_id)
    assert [s.user_id for s in live.students] == list(STUDENTS)
    right = live.item.answer_shown
    wrong = (right + 1) % len(live.item.order)
    for user, shown in ((11, right), (12, wrong)):
        answer = await drills.live_answer(
            user, drill_id, round_=DrillRound.MAIN, position=0, shown=shown, confidence=None
        )
        assert answer.recorded and answer.item == live.item
    again = await drills.live_answer(11, drill_id, round_=DrillRound.MAIN, position=0, shown=wrong, confidence=None)
    assert not again.recorded
    panel = await drills.panel(drill_id)
    assert panel is not None and (panel.answered, panel.correct) == (2, 0)  # right ones only once revealed
    assert panel.nicknames == ["S11", "S12", "S13"]
    reveal = await drills.live_reveal(drill_id, teacher_id=TEACHER)
    assert set(reveal.answers) == {11, 12}
    panel = await drills.panel(drill_id)
    assert panel is not None and (panel.answered, panel.correct) == (2, 1)


async def test_finishing_a_live_round_scores_every_student(drills: DrillService) -> None:
    drill_id = await class_in(drills)
    for position in range(3):
        live = await drills.live_next(TEACHER, drill_id)
        shown = live.item.answer_shown
        await drills.live_answer(11, drill_id, round_=DrillRound.MAIN, position=position, shown=shown, confidence=None)
        if position == 0:
            wrong = (shown + 1) % len(live.item.order)
            await drills.live_answer(12, drill_id, round_=DrillRound.MAIN, position=0, shown=wrong, confidence=None)
        await drills.live_reveal(drill_id, teacher_id=TEACHER)
    over = await drills.finish_round(TEACHER, drill_id)
    assert over.drill.phase is DrillPhase.CLOSED
    scores = {s.user_id: (s.correct, s.answered, s.missed) for s in over.scores}
    assert scores == {11: (3, 3, 0), 12: (0, 1, 1), 13: (0, 0, 0)}


async def test_only_the_teacher_moves_a_drill_and_nobody_joins_their_own(drills: DrillService) -> None:
    drill_id = await class_in(drills)
    with pytest.raises(DrillRefused) as refused:
        await drills.live_next(11, drill_id)
    assert refused.value.reason is DrillRejection.NOT_TEACHER
    drill = await drills.get(drill_id)
    assert drill is not None
    with pytest.raises(DrillRefused) as refused:
        await drills.join(TEACHER, drill.code)
    assert refused.value.reason is DrillRejection.OWN_DRILL


async def test_a_self_paced_round_starts_on_naming_and_only_students_restart_it(drills: DrillService) -> None:
    drill = await drills.create(TEACHER, DrillSpec(count=3, mode=DrillMode.SELF_PACED))
    assert drill is not None
    joined = await drills.join(11, drill.code)
    named = await drills.name_student(joined.student, "Ann", ask_confidence=False)
    assert named.question is not None and named.question.total == 3
    assert await drills.start_round(11, drill.id, DrillRound.MAIN, ask_confidence=False) is not None
    with pytest.raises(DrillRefused) as refused:
        await drills.start_round(99, drill.id, DrillRound.MAIN, ask_confidence=False)  # never joined
    assert refused.value.reason is DrillRejection.NOT_FOUND
    with pytest.raises(DrillRefused) as refused:
        await drills.start_round(11, drill.id, DrillRound.RETEST, ask_confidence=False)  # not sent yet
    assert refused.value.reason is DrillRejection.CLOSED


async def test_the_timer_reveals_a_timed_question_only_once_it_is_due(drills: DrillService, clock: FakeClock) -> None:
    drill_id = await class_in(drills, seconds=20)
    await drills.live_next(TEACHER, drill_id)
    clock.now += 10
    assert await drills.due(drill_id) is None
    clock.now += 10
    due = await drills.due(drill_id)
    assert isinstance(due, LiveReveal) and due.drill.phase is DrillPhase.REVEALED
    assert await drills.due(drill_id) is None  # another worker's timer finds nothing to do


async def test_the_timer_ends_a_self_paced_round_then_opens_the_retest(drills: DrillService, clock: FakeClock) -> None:
    drill_id = await class_in(drills, mode=DrillMode.SELF_PACED, open_days=1, retest_days=3)
    assert await drills.overdue() == []
    clock.now += 86_400
    assert [d.id for d in await drills.overdue()] == [drill_id]
    finished = await drills.due(drill_id)
    assert isinstance(finished, RoundFinished) and finished.drill.phase is DrillPhase.CLOSED
    clock.now += 3 * 86_400
    opened = await drills.due(drill_id)
    assert isinstance(opened, RoundOpened) and opened.round is DrillRound.RETEST
    assert [s.user_id for s in opened.tell] == list(STUDENTS)
    view = await drills.start_round(11, drill_id, DrillRound.RETEST, ask_confidence=False)
    assert view is not None
    with pytest.raises(DrillRefused) as refused:  # pressed again while still taking it
        await drills.start_round(11, drill_id, DrillRound.RETEST, ask_confidence=False)
    assert refused.value.reason is DrillRejection.IN_PROGRESS
    panel = await drills.panel(drill_id)
    assert panel is not None and panel.drill.phase is DrillPhase.CLOSED


async def test_a_live_post_test_tells_nobody_and_a_self_paced_one_tells_the_class(drills: DrillService) -> None:
    live_id = await class_in(drills, pair=True)
    await drills.finish_round(TEACHER, live_id)
    opened = await drills.start_post(TEACHER, live_id)
    assert opened.round is DrillRound.POST and opened.tell == []
    self_id = await class_in(drills, pair=True, mode=DrillMode.SELF_PACED)
    await drills.finish_round(TEACHER, self_id)
    opened = await drills.start_post(TEACHER, self_id)
    assert opened.round is DrillRound.POST and [s.user_id for s in opened.tell] == list(STUDENTS)
