"""Group answers stored in batches: many at once share a transaction, and each still gets its own exact answer."""

from __future__ import annotations

import asyncio
import random

from bot.core.group import GroupMoveRejected, GroupRejection, GroupRules
from bot.core.model import QuestionBank
from bot.services.group import GroupService, QuestionStep
from bot.storage.sqlite import SQLiteStorage
from tests.services.conftest import FakeClock

STARTER = 1


async def asking(store: SQLiteStorage, bank: QuestionBank, clock: FakeClock) -> tuple[GroupService, QuestionStep]:
    service = GroupService(bank, store, rules=GroupRules(), clock=clock, rng=random.Random(3))
    lobby = await service.open(-100, starter_id=STARTER, starter_name="Starter", topic=None, count=2)
    assert lobby is not None
    step = await service.start_now(lobby.id)
    assert step is not None
    return service, step


async def test_answers_arriving_together_share_a_transaction_and_each_is_answered_exactly(
    store: SQLiteStorage, small_bank: QuestionBank
) -> None:
    clock = FakeClock()
    service, step = await asking(store, small_bank, clock)
    batches: list[int] = []
    original = store.record_group_answers

    async def counting(answers):
        batches.append(len(answers))
        return await original(answers)

    store.record_group_answers = counting  # type: ignore[method-assign]
    right, wrong = step.answer_shown, (step.answer_shown + 1) % len(step.order)
    sid, position = step.session.id, step.session.position
    clock.now += 2.0
    people = list(range(100, 140))

    async def answer(user: int, shown: int, at_position: int = position):
        return await service.answer(sid, position=at_position, user_id=user, name=f"P{user}", shown=shown)

    results = await asyncio.gather(
        *(answer(user, right if user % 2 else wrong) for user in people),
        answer(people[0], right),  # the same member again: only their first answer counts
        answer(999, right, at_position=position + 1),  # not the open question
        return_exceptions=True,
    )
    acks, again, stale = results[: len(people)], results[-2], results[-1]
    assert all(ack.recorded for ack in acks)
    assert [ack.correct for ack in acks] == [bool(user % 2) for user in people]
    assert all(ack.points > 0 for ack in acks if ack.correct) and all(
        ack.points == 0 for ack in acks if not ack.correct
    )
    assert not again.recorded
    assert isinstance(stale, GroupMoveRejected) and stale.reason is GroupRejection.STALE
    assert sum(batches) == len(people) + 1 and len(batches) < len(people) / 4  # batched, not one write each
    assert not any(ack.everyone_answered for ack in acks)  # the starter has not answered yet
    stored = await store.answers(session_id=sid)
    assert sorted(a.user_id for a in stored) == people
    assert {a.user_id: a.correct for a in stored}[people[0]] is False  # their first answer was the wrong one
    # The starter answers last: that one answer, and no other, says everyone is in.
    last = await answer(STARTER, right)
    assert last.recorded and last.everyone_answered
    assert len(await store.members(sid)) == len(people) + 1


async def test_a_database_failure_reaches_every_answer_of_its_batch_and_the_next_batch_works(
    store: SQLiteStorage, small_bank: QuestionBank
) -> None:
    clock = FakeClock()
    service, step = await asking(store, small_bank, clock)
    original = store.record_group_answers
    failing = True

    async def flaky(answers):
        if failing:
            raise RuntimeError("disk I/O error")
        return await original(answers)

    store.record_group_answers = flaky  # type: ignore[method-assign]
    sid, position = step.session.id, step.session.position
    results = await asyncio.gather(
        *(service.answer(sid, position=position, user_id=u, name="P", shown=0) for u in range(200, 205)),
        return_exceptions=True,
    )
    assert all(isinstance(r, RuntimeError) for r in results)
    assert await store.answers(session_id=sid) == []
    failing = False
    ack = await service.answer(sid, position=position, user_id=200, name="P", shown=0)
    assert ack.recorded
    assert [a.user_id for a in await store.answers(session_id=sid)] == [200]


async def test_an_answer_is_scored_as_of_its_arrival_not_its_batch(
    store: SQLiteStorage, small_bank: QuestionBank
) -> None:
    clock = FakeClock()
    service, step = await asking(store, small_bank, clock)
    read_session = store.get_group_session

    async def slow_read(session_id):
        clock.now += 3.0  # time passes between the answer's arrival and its batch being written
        return await read_session(session_id)

    store.get_group_session = slow_read  # type: ignore[method-assign]
    clock.now += 1.5
    ack = await service.answer(
        step.session.id, position=step.session.position, user_id=300, name="P", shown=step.answer_shown
    )
    [stored] = await store.answers(session_id=step.session.id)
    assert ack.recorded and stored.elapsed_ms == 1500 and stored.answered_at == 1001.5
