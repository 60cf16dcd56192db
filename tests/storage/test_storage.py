"""Storage behaviour every back-end shares: each test runs on SQLite and on PostgreSQL (see conftest.py).

Round trips, version checks, answers recorded exactly once (also under concurrent writers and across two
storages on one database, like two bot processes), group sessions, members, polls, leaderboards, history,
moving a group, drills, and /forget; failures, which are StorageErrors on every back-end, never a driver's own
error; and ties (equal scores, times, names), which every back-end breaks the same way.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import replace

import pytest

from bot.core.drill import Drill, DrillAnswer, DrillId, DrillPhase, DrillRound, DrillSpec, DrillStudent
from bot.core.drill import create_drill as new_drill
from bot.core.engine import (
    AnswerRecord,
    Confidence,
    QuizSession,
    QuizSpec,
    SessionId,
    UserId,
    advance,
    choose,
    start_quiz,
)
from bot.core.group import (
    ChatId,
    GroupInfo,
    GroupMember,
    GroupPhase,
    GroupRecord,
    GroupRules,
    GroupSession,
    GroupSessionId,
    QuestionTally,
    Standing,
    begin,
    open_lobby,
    stop,
)
from bot.core.lang import Lang
from bot.core.model import QuestionBank, QuestionId
from bot.core.review import ReviewItem
from bot.core.users import UserProfile
from bot.storage import ReviewUpdate, SQLStorage, StorageError, postgres, sqlite
from bot.storage.base import GroupAnswerEntry

from .conftest import Backend

USER = UserId(42)
CHAT = ChatId(-100)
NEW_CHAT = ChatId(-1001)


def new_session(bank: QuestionBank, sid: str = "s1") -> QuizSession:
    return start_quiz(
        bank,
        QuizSpec(count=3, ask_confidence=False),
        session_id=SessionId(sid),
        user_id=USER,
        rng=random.Random(3),
        now=10.0,
    )


def record(session_id: str = "s1", position: int = 0, correct: bool = True) -> AnswerRecord:
    return AnswerRecord(
        session_id=SessionId(session_id),
        user_id=USER,
        question_id=QuestionId("alpha-1"),
        topic="alpha",
        position=position,
        chosen=1,
        correct=correct,
        confidence=Confidence.PROBABLY,
        elapsed_ms=1234,
        answered_at=12.5,
        context="private",
    )


def lobby(bank: QuestionBank, sid: str = "g1", chat: ChatId = CHAT, now: float = 0.0) -> GroupSession:
    session = open_lobby(
        bank,
        session_id=GroupSessionId(sid),
        chat_id=chat,
        starter_id=1,
        topic=None,
        count=3,
        rules=GroupRules(),
        rng=random.Random(2),
        now=now,
    )
    assert session is not None
    return session


def group_answer(
    user: int, *, position: int = 0, points: int = 0, correct: bool = True, sid: str = "g1", at: float = 1.0
) -> AnswerRecord:
    return AnswerRecord(
        session_id=SessionId(sid),
        user_id=UserId(user),
        question_id=QuestionId(f"alpha-{position}"),
        topic="alpha",
        position=position,
        chosen=0,
        correct=correct,
        confidence=None,
        elapsed_ms=700,
        answered_at=at,
        context="group",
        points=points,
    )


async def finish(storage: SQLStorage, session: GroupSession, *, at: float, phase: GroupPhase) -> GroupSession:
    """Store `session` and then its end (finished or stopped at `at`)."""
    assert await storage.commit_group(session, expected_version=None)
    done = session.bump(phase=phase, deadline=None, finished_at=at)
    assert await storage.commit_group(done, expected_version=session.version)
    return done


def drill(bank: QuestionBank, did: str = "d1", code: str = "ABC123", teacher: int = 9, now: float = 10.0) -> Drill:
    made = new_drill(
        bank, DrillSpec(count=3), drill_id=DrillId(did), code=code, teacher_id=teacher, rng=random.Random(1), now=now
    )
    assert made is not None
    return made


# ---------------------------------------------------------------- people and private quizzes


async def test_user_round_trip_and_update(storage: SQLStorage) -> None:
    assert await storage.get_user(USER) is None
    profile = UserProfile(id=USER, lang=Lang.ZH_HANS, created_at=5.0)
    await storage.save_user(profile)
    assert await storage.get_user(USER) == profile
    await storage.save_user(replace(profile, lang=Lang.EN, active=False, ask_confidence=False, created_at=9.0))
    # An update changes the settings, never when the person first came.
    assert await storage.get_user(USER) == replace(profile, lang=Lang.EN, active=False, ask_confidence=False)


async def test_session_insert_update_and_version_check(storage: SQLStorage, small_bank: QuestionBank) -> None:
    session = new_session(small_bank)
    assert await storage.commit(session, expected_version=None)
    assert not await storage.commit(session, expected_version=None)  # same id twice
    assert await storage.get_session(session.id) == session
    assert await storage.active_session(USER) == session
    moved = choose(session, small_bank, position=0, shown_choice=0, now=11).session
    assert await storage.commit(moved, expected_version=session.version)
    assert not await storage.commit(moved, expected_version=session.version)  # stale writer loses
    assert await storage.get_session(session.id) == moved
    assert await storage.get_session(SessionId("nope")) is None


async def test_session_values_read_back_exactly(storage: SQLStorage, small_bank: QuestionBank) -> None:
    # Floats JSON writes with an exponent, or that a decimal type would reshape, come back as the same floats.
    session = replace(new_session(small_bank), started_at=1e17, asked_at=0.1 + 0.2, pending_elapsed=1e-7)
    assert await storage.commit(session, expected_version=None)
    stored = await storage.get_session(session.id)
    assert stored == session
    assert isinstance(stored.started_at, float) and isinstance(stored.pending_elapsed, float)


async def test_an_answer_is_recorded_exactly_once(storage: SQLStorage, small_bank: QuestionBank) -> None:
    session = new_session(small_bank)
    await storage.commit(session, expected_version=None)
    answered = choose(session, small_bank, position=0, shown_choice=0, now=11).session
    assert await storage.commit(answered, expected_version=0, answer=record())
    again = replace(answered, version=answered.version + 1)
    assert not await storage.commit(again, expected_version=answered.version, answer=record())
    # The losing commit wrote nothing: not even its session change.
    assert (await storage.get_session(session.id)).version == answered.version
    assert await storage.answers(user_id=USER) == [record()]


async def test_a_commit_that_fails_half_way_writes_nothing(storage: SQLStorage, small_bank: QuestionBank) -> None:
    session = new_session(small_bank)
    await storage.commit(session, expected_version=None)
    answered = choose(session, small_bank, position=0, shown_choice=0, now=11).session
    unstorable = replace(record(), elapsed_ms=2**70)  # the session update succeeds, then the answer insert fails
    with pytest.raises(StorageError):
        await storage.commit(answered, expected_version=0, answer=unstorable)
    assert await storage.get_session(session.id) == session
    assert await storage.answers(session_id=session.id) == []
    assert await storage.commit(answered, expected_version=0, answer=record())


async def test_concurrent_commits_of_one_move_count_once(storage: SQLStorage, small_bank: QuestionBank) -> None:
    session = new_session(small_bank)
    await storage.commit(session, expected_version=None)
    answered = choose(session, small_bank, position=0, shown_choice=0, now=11).session
    results = await asyncio.gather(*(storage.commit(answered, expected_version=0, answer=record()) for _ in range(10)))
    assert results.count(True) == 1
    assert len(await storage.answers(session_id=session.id)) == 1


async def test_two_storages_on_one_database_commit_a_move_once(backend: Backend, small_bank: QuestionBank) -> None:
    first, second = await backend.open(), await backend.open()  # like two worker processes
    session = new_session(small_bank)
    assert await first.commit(session, expected_version=None)
    current = session
    for position in range(3):
        answered = choose(current, small_bank, position=position, shown_choice=0, now=11).session
        answer = record(position=position)
        writers = (first, second) * 3
        results = await asyncio.gather(
            *(store.commit(answered, expected_version=current.version, answer=answer) for store in writers)
        )
        assert results.count(True) == 1
        current = advance(answered, position=position, now=12).session
        assert await second.commit(current, expected_version=answered.version)
    assert len(await first.answers(session_id=session.id)) == 3
    assert await second.get_session(session.id) == current


async def test_review_items_upsert_and_delete(storage: SQLStorage, small_bank: QuestionBank) -> None:
    session = new_session(small_bank)
    item = ReviewItem(user_id=USER, question_id=QuestionId("alpha-1"), box=1, due_at=10.0)
    update = ReviewUpdate(user_id=USER, question_id=item.question_id, item=item)
    assert await storage.commit(session, expected_version=None, review=update)
    assert await storage.review_item(USER, item.question_id) == item
    moved = replace(item, box=2, due_at=99.0)
    await storage.commit(
        replace(session, version=1),
        expected_version=0,
        review=ReviewUpdate(user_id=USER, question_id=item.question_id, item=moved),
    )
    assert await storage.review_items(USER) == [moved]
    await storage.commit(
        replace(session, version=2),
        expected_version=1,
        review=ReviewUpdate(user_id=USER, question_id=item.question_id, item=None),
    )
    assert await storage.review_items(USER) == []
    assert await storage.review_item(USER, item.question_id) is None


async def test_finished_sessions_are_not_active(storage: SQLStorage, small_bank: QuestionBank) -> None:
    session = new_session(small_bank)
    s = session
    await storage.commit(s, expected_version=None)
    for position in range(3):
        answered = choose(s, small_bank, position=position, shown_choice=0, now=11).session
        await storage.commit(answered, expected_version=s.version)
        s = advance(answered, position=position, now=12).session
        await storage.commit(s, expected_version=answered.version)
    assert await storage.active_session(USER) is None


async def test_schema_version_and_data_survive_reopening(backend: Backend) -> None:
    store = await backend.open()
    version = await store.schema_version()
    assert version >= 3
    await store.save_user(UserProfile(id=USER, lang=Lang.ZH_HANT))
    await store.close()
    again = await backend.open()
    assert await again.schema_version() == version
    assert (await again.get_user(USER)).lang is Lang.ZH_HANT


async def test_forget_removes_every_row_of_the_user(storage: SQLStorage, small_bank: QuestionBank) -> None:
    other = UserId(7)
    await storage.save_user(UserProfile(id=USER, lang=Lang.EN))
    await storage.save_user(UserProfile(id=other, lang=Lang.EN))
    session = new_session(small_bank)
    item = ReviewItem(user_id=USER, question_id=QuestionId("alpha-1"), box=1, due_at=1)
    await storage.commit(
        session,
        expected_version=None,
        answer=record(),
        review=ReviewUpdate(user_id=USER, question_id=item.question_id, item=item),
    )
    group = lobby(small_bank)
    await storage.commit_group(group, expected_version=None)
    await storage.add_member(group.id, USER, "Me", 1.0)
    await storage.add_member(group.id, other, "Other", 2.0)
    await storage.record_answer(group_answer(USER, points=900))
    await storage.record_answer(group_answer(other, points=800))
    taught, attended = drill(small_bank, "d1", "AAA111", teacher=USER), drill(small_bank, "d2", "BBB222", teacher=8)
    await storage.create_drill(taught)
    await storage.create_drill(attended)
    await storage.add_student(attended.id, USER, 3.0, limit=10)
    await storage.link_session(attended.id, DrillRound.MAIN, USER, "s1")

    await storage.forget_user(USER)

    assert await storage.get_user(USER) is None
    assert await storage.answers(user_id=USER) == []
    assert await storage.review_items(USER) == []
    assert await storage.get_session(session.id) is None
    assert [m.user_id for m in await storage.members(group.id)] == [other]
    assert [s.user_id for s in await storage.leaderboard(group.id)] == [other]
    assert await storage.get_drill(taught.id) is None
    assert await storage.student(attended.id, USER) is None
    assert await storage.drill_session(attended.id, DrillRound.MAIN, USER) is None
    # Everyone else's rows stay.
    assert await storage.get_user(other) is not None
    assert await storage.get_drill(attended.id) == attended
    assert await storage.answers(user_id=other) == [group_answer(other, points=800)]


# ---------------------------------------------------------------- groups


async def test_group_settings_round_trip(storage: SQLStorage) -> None:
    assert await storage.get_group(CHAT) is None
    info = GroupInfo(chat_id=CHAT, lang="en", title="Class 3B", added_by=9, created_at=5.0)
    await storage.save_group(info)
    assert await storage.get_group(CHAT) == info
    await storage.save_group(replace(info, lang="zh-Hant", title="3B", active=False, added_by=10, created_at=6.0))
    # Who added the bot and when stay as first recorded.
    assert await storage.get_group(CHAT) == replace(info, lang="zh-Hant", title="3B", active=False)


async def test_group_session_insert_update_and_version_check(storage: SQLStorage, small_bank: QuestionBank) -> None:
    session = lobby(small_bank)
    assert await storage.commit_group(session, expected_version=None)
    assert not await storage.commit_group(session, expected_version=None)  # same id twice
    assert await storage.get_group_session(session.id) == session
    assert await storage.active_group_session(CHAT) == session
    asked = begin(session, now=5)
    assert await storage.commit_group(asked, expected_version=session.version)
    assert not await storage.commit_group(stop(session, now=6), expected_version=session.version)  # stale writer
    assert await storage.get_group_session(session.id) == asked
    stopped = stop(asked, now=7)
    assert await storage.commit_group(stopped, expected_version=asked.version)
    assert await storage.get_group_session(session.id) == stopped
    assert await storage.active_group_session(CHAT) is None
    assert await storage.active_group_sessions() == []
    assert await storage.get_group_session(GroupSessionId("nope")) is None


async def test_concurrent_group_moves_count_once(backend: Backend, small_bank: QuestionBank) -> None:
    first, second = await backend.open(), await backend.open()
    session = lobby(small_bank)
    assert await first.commit_group(session, expected_version=None)
    asked = begin(session, now=5)
    writers = (first, second) * 5
    results = await asyncio.gather(*(s.commit_group(asked, expected_version=session.version) for s in writers))
    assert results.count(True) == 1
    assert await second.get_group_session(session.id) == asked


async def test_active_group_sessions_by_deadline_paused_first(storage: SQLStorage, small_bank: QuestionBank) -> None:
    asking = begin(lobby(small_bank, "g1", ChatId(-1)), now=5)  # deadline 25
    paused = replace(begin(lobby(small_bank, "g2", ChatId(-2)), now=0), phase=GroupPhase.PAUSED, deadline=None)
    waiting = lobby(small_bank, "g3", ChatId(-3), now=10)  # deadline 70
    over = stop(lobby(small_bank, "g4", ChatId(-4)), now=1)
    for session in (waiting, asking, over, paused):
        assert await storage.commit_group(session, expected_version=None)
    assert await storage.active_group_sessions() == [paused, asking, waiting]
    # Due: open, with a deadline passed (a paused quiz has none; a stopped one is over).
    assert await storage.due_group_sessions(24.9) == []
    assert await storage.due_group_sessions(25.0) == [asking.id]
    assert await storage.due_group_sessions(1000.0) == [asking.id, waiting.id]


async def test_a_session_held_by_a_worker_showing_it_is_not_due_for_any_sweep(
    backend: Backend, small_bank: QuestionBank
) -> None:
    showing, sweeping = await backend.open(), await backend.open()
    asking = begin(lobby(small_bank, "g1", ChatId(-1)), now=5)  # deadline 25
    assert await showing.commit_group(asking, expected_version=None)
    await showing.hold_group_session(asking.id, 100.0)  # a reveal being retried through Telegram's errors
    assert await sweeping.due_group_sessions(30.0) == []
    assert await sweeping.due_group_sessions(100.0) == [asking.id]  # the lease ended: the worker died showing it
    await showing.hold_group_session(asking.id, None)
    assert await sweeping.due_group_sessions(30.0) == [asking.id]
    moved = asking.bump(deadline=40.0)
    assert await sweeping.commit_group(moved, expected_version=asking.version)  # a hold never blocks a move
    await showing.hold_group_session(GroupSessionId("gone"), 50.0)  # no such session: nothing to hold


async def test_add_member_is_idempotent(storage: SQLStorage) -> None:
    sid = GroupSessionId("g1")
    assert await storage.add_member(sid, 5, "Ann", 1.0)
    assert not await storage.add_member(sid, 5, "Ann again", 2.0)
    assert await storage.add_member(sid, 6, "B" * 100, 1.5)
    assert await storage.count_members(sid) == 2
    assert await storage.members(sid) == [
        GroupMember(user_id=5, name="Ann", joined_at=1.0),
        GroupMember(user_id=6, name="B" * 64, joined_at=1.5),
    ]
    await storage.member_left(sid, 5, 3.0)
    assert await storage.count_members(sid) == 1
    assert (await storage.members(sid))[0] == GroupMember(user_id=5, name="Ann", joined_at=1.0, left=True)
    assert await storage.add_member(sid, 5, "Ann", 4.0)  # back in, as first joined
    assert not await storage.add_member(sid, 5, "Ann", 5.0)
    assert (await storage.members(sid))[0] == GroupMember(user_id=5, name="Ann", joined_at=1.0)
    results = await asyncio.gather(*(storage.add_member(sid, 7, "Cy", 6.0) for _ in range(10)))
    assert results.count(True) == 1
    assert await storage.count_members(sid) == 3
    assert await storage.count_members(GroupSessionId("other")) == 0


async def test_record_answer_exactly_once_under_concurrency(storage: SQLStorage) -> None:
    sid = GroupSessionId("g1")
    answer = group_answer(5, points=900)
    results = await asyncio.gather(*(storage.record_answer(answer) for _ in range(20)))
    assert results.count(True) == 1
    assert await storage.count_answers(sid, 0) == 1
    assert await storage.answers(session_id=SessionId(sid)) == [answer]
    # Twenty members answering at once all count.
    others = await asyncio.gather(*(storage.record_answer(group_answer(100 + n, at=2.0 + n)) for n in range(20)))
    assert all(others)
    assert await storage.count_answers(sid, 0) == 21
    assert await storage.count_answers(sid, 1) == 0


async def one_group_answer(
    storage: SQLStorage, record: AnswerRecord, *, name: str, review: ReviewUpdate | None = None
) -> bool:
    [counted] = await storage.record_group_answers([GroupAnswerEntry(record=record, name=name, review=review)])
    return counted


async def test_a_batch_of_group_answers_counts_each_members_first_answer_once(storage: SQLStorage) -> None:
    sid = GroupSessionId("g1")
    assert await one_group_answer(storage, group_answer(5, at=1.0), name="Ann")
    missed = ReviewItem(user_id=UserId(6), question_id=QuestionId("alpha-0"), box=1, due_at=9.0)
    moved = ReviewItem(user_id=UserId(5), question_id=QuestionId("alpha-0"), box=3, due_at=9.0)
    batch = [
        GroupAnswerEntry(
            record=group_answer(6, at=2.0, points=500),
            name="Bo",
            review=ReviewUpdate(user_id=UserId(6), question_id=QuestionId("alpha-0"), item=missed),
        ),
        GroupAnswerEntry(
            record=group_answer(5, at=2.1),
            name="Ann again",
            review=ReviewUpdate(user_id=UserId(5), question_id=QuestionId("alpha-0"), item=moved),
        ),  # already answered before this batch: refused, and its review change is not applied
        GroupAnswerEntry(record=group_answer(6, at=2.2, points=1), name="Bo twice"),  # a repeat within the batch
        GroupAnswerEntry(record=group_answer(7, position=1, at=2.3), name="Cy"),
    ]
    assert await storage.record_group_answers(batch) == [True, False, False, True]
    assert await storage.record_group_answers([]) == []
    stored = {(a.user_id, a.position): a for a in await storage.answers(session_id=SessionId(sid))}
    assert sorted(stored) == [(5, 0), (6, 0), (7, 1)]
    assert stored[(6, 0)].points == 500 and stored[(5, 0)].answered_at == 1.0
    assert [(m.user_id, m.name) for m in await storage.members(sid)] == [(5, "Ann"), (6, "Bo"), (7, "Cy")]
    assert await storage.review_items(UserId(6)) == [missed]
    assert await storage.review_items(UserId(5)) == []
    found = await storage.review_items_for([(UserId(6), QuestionId("alpha-0")), (UserId(5), QuestionId("alpha-0"))])
    assert found == {(UserId(6), QuestionId("alpha-0")): missed}
    assert await storage.review_items_for([]) == {}
    assert await storage.answer_tally(sid, 0) == (2, 3)
    await storage.member_left(sid, 7, 5.0)
    assert await storage.answer_tally(sid, 1) == (1, 2)
    assert await storage.answer_tally(GroupSessionId("other"), 0) == (0, 0)


async def test_a_group_answer_joins_its_member_and_counts_once(backend: Backend) -> None:
    first, second = await backend.open(), await backend.open()
    sid = GroupSessionId("g1")
    await first.add_member(sid, 5, "Ann", 0.5)
    answer = group_answer(6, points=900, at=2.0)
    writers = (first, second) * 10
    results = await asyncio.gather(*(one_group_answer(store, answer, name="Bo" * 40) for store in writers))
    assert results.count(True) == 1
    assert await first.answers(session_id=SessionId(sid)) == [answer]
    assert await first.members(sid) == [
        GroupMember(user_id=5, name="Ann", joined_at=0.5),
        GroupMember(user_id=6, name=("Bo" * 40)[:64], joined_at=2.0),  # joined when they answered
    ]
    # A member's name and join time stay as they were; a refused answer adds no member and no review.
    assert await one_group_answer(first, group_answer(5, position=1, at=3.0), name="Renamed")
    assert (await first.members(sid))[0] == GroupMember(user_id=5, name="Ann", joined_at=0.5)
    await first.record_answer(group_answer(7, position=1))  # answered, somehow, without joining
    item = ReviewItem(user_id=UserId(7), question_id=QuestionId("alpha-1"), box=1, due_at=1.0)
    review = ReviewUpdate(user_id=item.user_id, question_id=item.question_id, item=item)
    assert not await one_group_answer(second, group_answer(7, position=1), name="Cy", review=review)
    assert [m.user_id for m in await first.members(sid)] == [5, 6]
    assert await first.review_items(UserId(7)) == []


async def test_a_refused_group_answer_changes_no_review(storage: SQLStorage) -> None:
    item = ReviewItem(user_id=UserId(5), question_id=QuestionId("alpha-0"), box=1, due_at=1.0)
    review = ReviewUpdate(user_id=item.user_id, question_id=item.question_id, item=item)
    assert await storage.record_answer(group_answer(5, correct=False), review=review)
    assert await storage.review_items(UserId(5)) == [item]
    removal = ReviewUpdate(user_id=item.user_id, question_id=item.question_id, item=None)
    assert not await storage.record_answer(group_answer(5), review=removal)
    assert await storage.review_items(UserId(5)) == [item]


async def test_leaderboard_order_and_tallies(storage: SQLStorage) -> None:
    sid = GroupSessionId("g1")
    for user, name, joined in ((1, "A", 1.0), (2, "B", 2.0), (3, "C", 3.0), (4, "D", 4.0), (5, "E", 0.5)):
        await storage.add_member(sid, user, name, joined)
    await storage.add_member(sid, 6, "F", 0.1)
    answers = [
        group_answer(1, position=0, points=800),
        group_answer(1, position=1, correct=False),
        group_answer(2, position=0, points=800),
        group_answer(3, position=0, points=900),
        group_answer(3, position=1, points=500),
        group_answer(6, position=0, correct=False),
        group_answer(99, position=0, points=1000),  # answered without being a member: not on the board
        group_answer(4, position=0, points=1000, sid="other"),  # another session
    ]
    for answer in answers:
        assert await storage.record_answer(answer)
    expected = [
        Standing(user_id=3, name="C", points=1400, correct=2, answered=2),
        Standing(user_id=1, name="A", points=800, correct=1, answered=2),  # ties with B; joined first
        Standing(user_id=2, name="B", points=800, correct=1, answered=1),
        Standing(user_id=6, name="F", points=0, correct=0, answered=1),
        Standing(user_id=5, name="E", points=0, correct=0, answered=0),
        Standing(user_id=4, name="D", points=0, correct=0, answered=0),
    ]
    assert await storage.leaderboard(sid) == expected
    assert await storage.leaderboard(sid, limit=2) == expected[:2]
    assert await storage.leaderboard(GroupSessionId("empty")) == []
    assert await storage.question_tallies(sid) == [
        QuestionTally(position=0, question_id="alpha-0", answered=5, correct=4),
        QuestionTally(position=1, question_id="alpha-1", answered=2, correct=1),
    ]


async def test_poll_mapping(storage: SQLStorage) -> None:
    sid = GroupSessionId("g1")
    assert await storage.poll_target("p1") is None
    await storage.map_poll("p1", sid, 0)
    assert await storage.poll_target("p1") == (sid, 0)
    await storage.map_poll("p1", sid, 2)  # mapped again: the latest wins
    await storage.map_poll("p2", GroupSessionId("g2"), 1)
    assert await storage.poll_target("p1") == (sid, 2)
    assert await storage.poll_target("p2") == (GroupSessionId("g2"), 1)


async def test_move_group_takes_settings_and_sessions(storage: SQLStorage, small_bank: QuestionBank) -> None:
    info = GroupInfo(chat_id=CHAT, lang="en", title="Class", added_by=9, created_at=1.0)
    await storage.save_group(info)
    session = lobby(small_bank)
    assert await storage.commit_group(session, expected_version=None)
    old = await finish(storage, lobby(small_bank, "g0"), at=50.0, phase=GroupPhase.FINISHED)
    elsewhere = lobby(small_bank, "g9", ChatId(-5))
    assert await storage.commit_group(elsewhere, expected_version=None)

    await storage.move_group(CHAT, NEW_CHAT)

    assert await storage.get_group(CHAT) is None
    assert await storage.get_group(NEW_CHAT) == replace(info, chat_id=NEW_CHAT)
    moved = await storage.get_group_session(session.id)
    assert moved == replace(session, chat_id=NEW_CHAT, version=session.version + 1)
    assert await storage.get_group_session(old.id) == replace(old, chat_id=NEW_CHAT, version=old.version + 1)
    assert await storage.get_group_session(elsewhere.id) == elsewhere
    assert await storage.active_group_session(CHAT) is None
    assert await storage.active_group_session(NEW_CHAT) == moved
    # A writer holding the session from before the move loses, and wins once it reloads.
    assert not await storage.commit_group(begin(session, now=5), expected_version=session.version)
    assert await storage.commit_group(begin(moved, now=5), expected_version=moved.version)
    assert (await storage.group_history(NEW_CHAT))[0] == 1
    assert (await storage.group_history(CHAT))[0] == 0


async def test_move_group_keeps_the_new_chats_own_settings(storage: SQLStorage, small_bank: QuestionBank) -> None:
    old_info = GroupInfo(chat_id=CHAT, lang="en", title="Old", created_at=1.0)
    new_info = GroupInfo(chat_id=NEW_CHAT, lang="zh-Hant", title="New", created_at=2.0)
    await storage.save_group(old_info)
    await storage.save_group(new_info)
    session = lobby(small_bank)
    assert await storage.commit_group(session, expected_version=None)
    await storage.move_group(CHAT, NEW_CHAT)
    assert await storage.get_group(NEW_CHAT) == new_info
    assert await storage.get_group(CHAT) == old_info
    assert (await storage.get_group_session(session.id)).chat_id == NEW_CHAT


async def test_forget_user_removes_group_members_rows(storage: SQLStorage, small_bank: QuestionBank) -> None:
    sid = GroupSessionId("g1")
    await storage.add_member(sid, 5, "Ann", 1.0)
    await storage.add_member(sid, 6, "Bo", 2.0)
    await storage.record_answer(group_answer(5, points=900))
    await storage.forget_user(UserId(5))
    assert await storage.members(sid) == [GroupMember(user_id=6, name="Bo", joined_at=2.0)]
    assert await storage.count_members(sid) == 1
    assert await storage.answers(user_id=UserId(5)) == []
    assert await storage.count_answers(sid, 0) == 0


async def test_group_history(storage: SQLStorage, small_bank: QuestionBank) -> None:
    assert await storage.group_history(CHAT) == (0, [])
    first = await finish(storage, lobby(small_bank, "g1"), at=100.0, phase=GroupPhase.FINISHED)
    second = await finish(storage, lobby(small_bank, "g2"), at=200.0, phase=GroupPhase.STOPPED)
    assert await storage.commit_group(lobby(small_bank, "g3"), expected_version=None)  # still running
    await finish(storage, lobby(small_bank, "g4", ChatId(-5)), at=300.0, phase=GroupPhase.FINISHED)  # another chat
    await storage.add_member(first.id, 1, "Ann", 1.0)
    await storage.add_member(first.id, 2, "Bo", 2.0)
    await storage.record_answer(group_answer(1, points=900, sid="g1"))
    await storage.record_answer(group_answer(2, correct=False, sid="g1"))
    await storage.add_member(second.id, 3, "Cy", 3.0)
    await storage.record_answer(group_answer(3, correct=False, sid="g2"))
    latest = GroupRecord(session_id=second.id, finished_at=200.0, players=1, answered=1, correct=0, winner=None)
    earlier = GroupRecord(session_id=first.id, finished_at=100.0, players=2, answered=2, correct=1, winner="Ann")
    assert await storage.group_history(CHAT) == (2, [latest, earlier])
    assert await storage.group_history(CHAT, limit=1) == (2, [latest])


# ---------------------------------------------------------------- drills


async def test_drill_create_commit_and_lookups(storage: SQLStorage, small_bank: QuestionBank) -> None:
    made = drill(small_bank)
    assert await storage.create_drill(made)
    assert not await storage.create_drill(replace(made, id=DrillId("d2")))  # the code is taken
    assert not await storage.create_drill(replace(made, code="ZZZ999"))  # the id is taken
    assert await storage.get_drill(made.id) == made
    assert await storage.drill_by_code("ABC123") == made
    assert await storage.drill_by_code("NOPE") is None
    asked = made.bump(phase=DrillPhase.ASKING, position=0, deadline=50.0)
    assert await storage.commit_drill(asked, expected_version=made.version)
    assert not await storage.commit_drill(asked.bump(), expected_version=made.version)  # stale
    assert await storage.get_drill(made.id) == asked
    later = drill(small_bank, "d3", "CCC333", now=20.0)
    closed = drill(small_bank, "d4", "DDD444", now=30.0).bump(phase=DrillPhase.CLOSED, deadline=5.0)
    await storage.create_drill(later)
    await storage.create_drill(closed)
    assert await storage.teacher_drills(9) == [closed, later, asked]
    assert await storage.teacher_drills(8) == []
    assert await storage.timed_drills() == [asked]


async def test_drill_students_join_once_up_to_the_limit(backend: Backend, small_bank: QuestionBank) -> None:
    first, second = await backend.open(), await backend.open()
    made = drill(small_bank)
    await first.create_drill(made)
    assert await first.add_student(made.id, 1, 1.0, limit=3) == "joined"
    assert await second.add_student(made.id, 1, 2.0, limit=3) == "already"
    # Twenty join at once through two storages: exactly the limit get in.
    outcomes = await asyncio.gather(
        *((first, second)[n % 2].add_student(made.id, 100 + n, 3.0 + n, limit=6) for n in range(20))
    )
    assert outcomes.count("joined") == 5 and outcomes.count("full") == 15
    assert len(await first.students(made.id)) == 6
    assert await first.add_student(made.id, 1, 9.0, limit=6) == "already"


async def test_drill_nicknames_are_unique_and_students_listed(storage: SQLStorage, small_bank: QuestionBank) -> None:
    made = drill(small_bank)
    await storage.create_drill(made)
    for user in (1, 2, 3):
        await storage.add_student(made.id, user, float(user), limit=10)
    assert await storage.awaiting_nickname(1) == DrillStudent(drill_id=made.id, user_id=1, nickname=None, joined_at=1.0)
    assert await storage.set_nickname(made.id, 1, "Amy") == "Amy"
    assert await storage.set_nickname(made.id, 2, "amy") == "amy 2"
    assert await storage.set_nickname(made.id, 1, "Amy") == "Amy"  # one's own name is not taken
    assert await storage.awaiting_nickname(1) is None
    await storage.set_student_message(made.id, 1, 77)
    assert await storage.student(made.id, 1) == DrillStudent(
        drill_id=made.id, user_id=1, nickname="Amy", joined_at=1.0, message_id=77
    )
    assert [s.nickname for s in await storage.students(made.id)] == ["Amy", "amy 2", None]
    assert await storage.student(made.id, 99) is None
    names = await asyncio.gather(*(storage.set_nickname(made.id, 3, "Sam") for _ in range(3)))
    assert set(names) == {"Sam"}


async def test_concurrent_nicknames_stay_unique(backend: Backend, small_bank: QuestionBank) -> None:
    first, second = await backend.open(), await backend.open()
    made = drill(small_bank)
    await first.create_drill(made)
    for user in range(10):
        await first.add_student(made.id, user, float(user), limit=20)
    names = await asyncio.gather(*((first, second)[u % 2].set_nickname(made.id, u, "Sam") for u in range(10)))
    assert len({name.casefold() for name in names}) == 10


async def test_drill_sessions_and_answers(storage: SQLStorage, small_bank: QuestionBank) -> None:
    made = drill(small_bank)
    await storage.create_drill(made)
    for user, name in ((1, "al"), (2, "Bo"), (3, None)):
        await storage.add_student(made.id, user, float(user), limit=10)
        if name:
            await storage.set_nickname(made.id, user, name)
    assert await storage.drill_session(made.id, DrillRound.MAIN, 1) is None
    await storage.link_session(made.id, DrillRound.MAIN, 1, "old")
    await storage.link_session(made.id, DrillRound.MAIN, 1, "live")  # linked again: the latest wins
    await storage.link_session(made.id, DrillRound.MAIN, 2, "live")
    await storage.link_session(made.id, DrillRound.MAIN, 3, "live")
    await storage.link_session(made.id, DrillRound.RETEST, 1, "own")
    assert await storage.drill_session(made.id, DrillRound.MAIN, 1) == "live"
    for answer in (
        group_answer(1, position=1, sid="live", at=5.0),
        group_answer(1, position=0, sid="live", correct=False, at=4.0),
        group_answer(2, position=0, sid="live", at=3.0),
        group_answer(3, position=0, sid="live", at=3.5),
        group_answer(1, position=0, sid="own", at=9.0),
        group_answer(1, position=0, sid="old", at=1.0),  # no longer linked
        group_answer(7, position=0, sid="live", at=1.0),  # not a student
    ):
        assert await storage.record_answer(answer)
    got = await storage.drill_answers(made.id)
    # By round, then nickname as SQLite sorts text (code points: "Bo" before "al"; no nickname first).
    assert [(a.round, a.nickname, a.position) for a in got] == [
        (DrillRound.MAIN, "", 0),
        (DrillRound.MAIN, "Bo", 0),
        (DrillRound.MAIN, "al", 0),
        (DrillRound.MAIN, "al", 1),
        (DrillRound.RETEST, "al", 0),
    ]
    assert got[2] == DrillAnswer(
        round=DrillRound.MAIN,
        nickname="al",
        user_id=1,
        position=0,
        question_id="alpha-0",
        chosen=0,
        correct=False,
        confidence=None,
        elapsed_ms=700,
        answered_at=4.0,
    )


async def test_the_running_tallies_follow_every_way_answers_and_members_change(storage: SQLStorage) -> None:
    """answer_tally, count_answers and count_members read counters kept by triggers: they must agree with the rows
    through joins, leaves, returns, answers (batched, refused, repeated), single records and /forget."""
    sid, other = GroupSessionId("g1"), GroupSessionId("g2")

    async def truth(session: GroupSessionId, position: int) -> tuple[int, int]:
        answered = [a for a in await storage.answers(session_id=SessionId(session)) if a.position == position]
        present = [m for m in await storage.members(session) if not m.left]
        return len(answered), len(present)

    async def agree() -> None:
        for session in (sid, other):
            for position in (0, 1):
                expected = await truth(session, position)
                assert await storage.answer_tally(session, position) == expected
                assert await storage.count_answers(session, position) == expected[0]
                assert await storage.count_members(session) == expected[1]

    await agree()  # nothing yet: zeros, not errors
    for user in (1, 2, 3):
        await storage.add_member(sid, user, f"u{user}", 1.0)
    await storage.add_member(sid, 1, "u1 again", 1.5)  # already in: no change
    await storage.add_member(other, 1, "u1", 1.0)
    await agree()
    batch = [GroupAnswerEntry(record=group_answer(u, at=2.0), name=f"u{u}") for u in (1, 2, 4, 4)]
    assert await storage.record_group_answers(batch) == [True, True, True, False]  # 4 joins by answering
    assert not await one_group_answer(storage, group_answer(1, at=3.0), name="u1")
    await storage.record_answer(group_answer(5, position=1))  # an answer without a member
    await agree()
    await storage.member_left(sid, 2, 4.0)
    await storage.member_left(sid, 2, 4.5)  # leaving twice counts once
    await storage.member_left(sid, 9, 4.5)  # never joined
    await agree()
    assert await storage.add_member(sid, 2, "u2 back", 5.0)  # back in
    await agree()
    await storage.member_left(sid, 3, 6.0)
    await storage.forget_user(UserId(1))  # present in both sessions, answered question 0 of g1
    await storage.forget_user(UserId(3))  # had left: the count of present members stays
    await agree()
    assert await storage.answer_tally(sid, 0) == (2, 2)  # users 2 and 4 answered; 2 and 4 are present


async def test_the_upgrade_that_adds_the_tallies_counts_what_is_already_stored(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database of schema 3 with answers and members in it: after the upgrade the counters hold their counts."""
    module = sqlite if backend.name == "sqlite" else postgres
    monkeypatch.setattr(module, "SCHEMA_VERSION", 3)
    old = await backend.open()
    assert await old.schema_version() == 3
    sid = GroupSessionId("g1")
    for user in (1, 2, 3):
        await old.add_member(sid, user, f"u{user}", 1.0)
    await old.member_left(sid, 3, 2.0)
    for user in (1, 2, 7):
        await old.record_answer(group_answer(user))
    monkeypatch.undo()
    upgraded = await backend.open()
    assert await upgraded.schema_version() == module.SCHEMA_VERSION
    assert await upgraded.answer_tally(sid, 0) == (3, 2)
    assert await upgraded.count_answers(sid, 1) == 0


# ---------------------------------------------------------------- failures: StorageError, never a driver's error


def assert_storage_error(caught: pytest.ExceptionInfo[StorageError]) -> None:
    """The error is the storage's own, one line, with the driver's error kept as its cause for the log."""
    assert type(caught.value) is StorageError
    assert "\n" not in str(caught.value) and str(caught.value)
    assert caught.value.__cause__ is not None


async def test_a_closed_storage_says_so(backend: Backend) -> None:
    store = await backend.open()
    await store.close()
    await store.close()  # closing twice is harmless
    with pytest.raises(StorageError, match="is closed"):
        await store.get_user(USER)
    with pytest.raises(StorageError, match="is closed"):
        await store.save_user(UserProfile(id=USER, lang=Lang.EN))
    with pytest.raises(StorageError, match="is closed"):
        await store.record_group_answers([GroupAnswerEntry(record=group_answer(5), name="Ann")])


async def test_a_violated_constraint_is_a_storage_error_and_the_storage_goes_on(backend: Backend) -> None:
    storage = await backend.open()
    await storage.save_user(UserProfile(id=USER, lang=Lang.EN))
    await backend.run_sql("CREATE UNIQUE INDEX users_one_per_lang ON users (lang)")  # another program's rule
    with pytest.raises(StorageError) as caught:
        await storage.save_user(UserProfile(id=UserId(7), lang=Lang.EN))
    assert_storage_error(caught)
    # Nothing of the failed write stayed, and the next writes go through (no transaction or lock left behind).
    assert await storage.get_user(UserId(7)) is None
    await storage.save_user(UserProfile(id=UserId(7), lang=Lang.ZH_HANT))
    assert (await storage.get_user(UserId(7))).lang is Lang.ZH_HANT


async def test_a_failure_inside_a_transaction_is_a_storage_error_and_rolls_it_back(
    backend: Backend, small_bank: QuestionBank
) -> None:
    storage = await backend.open()
    session = new_session(small_bank)
    assert await storage.commit(session, expected_version=None)
    await backend.run_sql("CREATE UNIQUE INDEX one_answer_per_topic ON answers (user_id, topic)")
    assert await storage.record_answer(record("other"))
    answered = choose(session, small_bank, position=0, shown_choice=0, now=11).session
    with pytest.raises(StorageError) as caught:  # the session moves, then its answer breaks the rule
        await storage.commit(answered, expected_version=session.version, answer=record())
    assert_storage_error(caught)
    assert await storage.get_session(session.id) == session
    with pytest.raises(StorageError):
        await storage.record_group_answers([GroupAnswerEntry(record=record(), name="Me")])
    assert await storage.members(GroupSessionId("s1")) == []
    assert await storage.commit(answered, expected_version=session.version)


async def test_a_missing_table_is_a_storage_error_for_reads_and_writes(backend: Backend) -> None:
    storage = await backend.open()
    await backend.run_sql("DROP TABLE group_polls")
    with pytest.raises(StorageError) as caught:
        await storage.poll_target("p1")
    assert_storage_error(caught)
    with pytest.raises(StorageError) as caught:
        await storage.map_poll("p1", GroupSessionId("g1"), 0)
    assert_storage_error(caught)
    await storage.save_user(UserProfile(id=USER, lang=Lang.EN))  # the rest still works
    assert await storage.get_user(USER) is not None


# ---------------------------------------------------------------- ties: broken the same way on every back-end
# Text ids that differ in case: in code-point order (both back-ends) "B" < "a" < "b", whatever the collation
# the PostgreSQL database was made with (en_US would put "a" first).


async def test_equal_times_list_members_students_and_answers_by_id(
    storage: SQLStorage, small_bank: QuestionBank
) -> None:
    sid = GroupSessionId("g1")
    for user in (3, 1, 2):
        await storage.add_member(sid, user, f"u{user}", 1.0)
    assert [m.user_id for m in await storage.members(sid)] == [1, 2, 3]
    # Equal points, right answers and join times: by user id.
    assert [s.user_id for s in await storage.leaderboard(sid)] == [1, 2, 3]
    assert [s.user_id for s in await storage.leaderboard(sid, limit=1)] == [1]
    for user in (3, 1, 2):
        await storage.record_answer(group_answer(user, at=5.0))
    # Answers at the same moment: in the order they were stored.
    assert [a.user_id for a in await storage.answers(session_id=SessionId(sid))] == [3, 1, 2]
    made = drill(small_bank)
    await storage.create_drill(made)
    for user in (3, 1, 2):
        await storage.add_student(made.id, user, 1.0, limit=10)
    assert [s.user_id for s in await storage.students(made.id)] == [1, 2, 3]


async def test_equal_scores_and_names_order_by_text_code_points(storage: SQLStorage) -> None:
    for question in ("b-1", "B-2", "a-3"):
        item = ReviewItem(user_id=USER, question_id=QuestionId(question), box=1, due_at=10.0)
        await storage.record_answer(
            replace(record(), question_id=item.question_id, position=len(question) + ord(question[0])),
            review=ReviewUpdate(user_id=USER, question_id=item.question_id, item=item),
        )
    assert [i.question_id for i in await storage.review_items(USER)] == ["B-2", "a-3", "b-1"]
    sid = GroupSessionId("g1")
    for question in ("b-1", "B-2", "a-3"):
        answer = replace(group_answer(5), question_id=QuestionId(question), user_id=UserId(ord(question[0])))
        await storage.record_answer(answer)
    assert [t.question_id for t in await storage.question_tallies(sid)] == ["B-2", "a-3", "b-1"]


async def test_equal_deadlines_and_times_order_sessions_by_id(storage: SQLStorage, small_bank: QuestionBank) -> None:
    for sid, chat in (("g-b", -1), ("g-B", -2), ("g-a", -3)):
        assert await storage.commit_group(lobby(small_bank, sid, ChatId(chat), now=0.0), expected_version=None)
    order = [GroupSessionId("g-B"), GroupSessionId("g-a"), GroupSessionId("g-b")]
    assert [s.id for s in await storage.active_group_sessions()] == order
    assert await storage.due_group_sessions(1000.0) == order
    # Two open sessions in one chat, started at the same moment: the same one is "the" active one everywhere.
    assert await storage.commit_group(lobby(small_bank, "h-b", CHAT), expected_version=None)
    assert await storage.commit_group(lobby(small_bank, "h-B", CHAT), expected_version=None)
    assert (await storage.active_group_session(CHAT)).id == "h-B"
    for sid in ("f-b", "f-B", "f-a"):
        await finish(storage, lobby(small_bank, sid, NEW_CHAT), at=100.0, phase=GroupPhase.FINISHED)
    total, records = await storage.group_history(NEW_CHAT, limit=2)
    assert (total, [r.session_id for r in records]) == (3, ["f-B", "f-a"])
    for sid in ("s-b", "s-B"):
        assert await storage.commit(new_session(small_bank, sid), expected_version=None)
    assert (await storage.active_session(USER)).id == "s-B"


async def test_equal_times_order_drills_and_waiting_students_by_id(
    storage: SQLStorage, small_bank: QuestionBank
) -> None:
    for did, code in (("d-b", "AAA111"), ("d-B", "BBB222"), ("d-a", "CCC333")):
        made = drill(small_bank, did, code, now=10.0).bump(phase=DrillPhase.ASKING, position=0, deadline=50.0)
        assert await storage.create_drill(made)
        await storage.add_student(made.id, 1, 5.0, limit=10)
    assert [d.id for d in await storage.teacher_drills(9)] == ["d-B", "d-a", "d-b"]
    assert [d.id for d in await storage.timed_drills()] == ["d-B", "d-a", "d-b"]
    assert (await storage.awaiting_nickname(1)).drill_id == "d-B"


async def test_students_without_a_nickname_list_by_user_in_drill_answers(
    storage: SQLStorage, small_bank: QuestionBank
) -> None:
    made = drill(small_bank)
    await storage.create_drill(made)
    for user in (3, 1, 2):
        await storage.add_student(made.id, user, 1.0, limit=10)
        await storage.link_session(made.id, DrillRound.MAIN, user, "live")
        await storage.record_answer(group_answer(user, sid="live"))
    await storage.set_nickname(made.id, 2, "Bo")
    got = await storage.drill_answers(made.id)
    assert [(a.nickname, a.user_id) for a in got] == [("", 1), ("", 3), ("Bo", 2)]


# ---------------------------------------------------------------- item analysis: every answer, or those since a time


async def test_all_answers_private_group_and_drill_oldest_first_and_since(storage: SQLStorage) -> None:
    assert await storage.all_answers() == [] and await storage.all_answers(since=0.0) == []
    private = replace(record(), answered_at=20.0)
    group = [group_answer(user, sid="g1", at=10.0) for user in (3, 1)]  # the same moment: in the order stored
    drilled = replace(group_answer(7, sid="live", at=30.0), context="drill")
    for answer in (private, *group, drilled):
        await storage.record_answer(answer)
    assert await storage.all_answers() == [*group, private, drilled]
    assert await storage.all_answers(None) == [*group, private, drilled]
    assert await storage.all_answers(since=20.0) == [private, drilled]  # at `since` counts
    assert await storage.all_answers(since=20.5) == [drilled]
    assert await storage.all_answers(since=31.0) == []
    assert [a.context for a in await storage.all_answers(since=10)] == ["group", "group", "private", "drill"]


async def test_chosen_counts_split_one_questions_answers_by_option(storage: SQLStorage) -> None:
    """What the projector shows after a reveal: per option, for one question of one session only."""
    picks = [(1, 0, 2), (2, 0, 2), (3, 0, 0), (4, 0, 3), (1, 1, 1), (5, 0, 2)]
    for user, position, chosen in picks:
        record = replace(group_answer(user, position=position), chosen=chosen)
        assert await storage.record_answer(record)
    assert await storage.record_answer(replace(group_answer(9, sid="other"), chosen=1))
    assert await storage.chosen_counts("g1", 0) == {0: 1, 2: 3, 3: 1}
    assert await storage.chosen_counts("g1", 1) == {1: 1}
    assert await storage.chosen_counts("g1", 2) == {}
