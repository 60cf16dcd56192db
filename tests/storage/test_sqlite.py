"""SQLite storage on a real temporary file: round trips, exactly-once answers, schema version, forget."""

from __future__ import annotations

import asyncio
import random
from dataclasses import replace
from pathlib import Path

import pytest

from bot.core.engine import (
    AnswerRecord,
    Confidence,
    QuizSpec,
    SessionId,
    UserId,
    advance,
    choose,
    start_quiz,
)
from bot.core.lang import Lang
from bot.core.model import QuestionBank, QuestionId
from bot.core.review import ReviewItem
from bot.core.users import UserProfile
from bot.storage import ReviewUpdate, StorageError, open_storage
from bot.storage.factory import sqlite_path
from bot.storage.sqlite import SCHEMA_VERSION, SQLiteStorage

USER = UserId(42)


@pytest.fixture
async def storage(tmp_path: Path):
    store = await SQLiteStorage.open(str(tmp_path / "quiz.db"))
    yield store
    await store.close()


def new_session(bank: QuestionBank, sid: str = "s1"):
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


async def test_user_round_trip_and_update(storage: SQLiteStorage) -> None:
    assert await storage.get_user(USER) is None
    profile = UserProfile(id=USER, lang=Lang.ZH_HANS, created_at=5.0)
    await storage.save_user(profile)
    assert await storage.get_user(USER) == profile
    await storage.save_user(replace(profile, lang=Lang.EN, active=False, ask_confidence=False))
    assert await storage.get_user(USER) == replace(profile, lang=Lang.EN, active=False, ask_confidence=False)


async def test_session_insert_update_and_version_check(storage: SQLiteStorage, small_bank: QuestionBank) -> None:
    session = new_session(small_bank)
    assert await storage.commit(session, expected_version=None)
    assert not await storage.commit(session, expected_version=None)  # same id twice
    assert await storage.get_session(session.id) == session
    assert await storage.active_session(USER) == session
    moved = choose(session, small_bank, position=0, shown_choice=0, now=11).session
    assert await storage.commit(moved, expected_version=session.version)
    assert not await storage.commit(moved, expected_version=session.version)  # stale writer loses
    assert await storage.get_session(session.id) == moved


async def test_an_answer_is_recorded_exactly_once(storage: SQLiteStorage, small_bank: QuestionBank) -> None:
    session = new_session(small_bank)
    await storage.commit(session, expected_version=None)
    answered = choose(session, small_bank, position=0, shown_choice=0, now=11).session
    assert await storage.commit(answered, expected_version=0, answer=record())
    again = replace(answered, version=answered.version + 1)
    assert not await storage.commit(again, expected_version=answered.version, answer=record())
    # The losing commit wrote nothing: not even its session change.
    assert (await storage.get_session(session.id)).version == answered.version
    assert await storage.answers(user_id=USER) == [record()]


async def test_concurrent_commits_of_one_move_count_once(storage: SQLiteStorage, small_bank: QuestionBank) -> None:
    session = new_session(small_bank)
    await storage.commit(session, expected_version=None)
    answered = choose(session, small_bank, position=0, shown_choice=0, now=11).session
    results = await asyncio.gather(*(storage.commit(answered, expected_version=0, answer=record()) for _ in range(10)))
    assert results.count(True) == 1
    assert len(await storage.answers(session_id=session.id)) == 1


async def test_review_items_upsert_and_delete(storage: SQLiteStorage, small_bank: QuestionBank) -> None:
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


async def test_finished_sessions_are_not_active(storage: SQLiteStorage, small_bank: QuestionBank) -> None:
    session = new_session(small_bank)
    s = session
    await storage.commit(s, expected_version=None)
    for position in range(3):
        answered = choose(s, small_bank, position=position, shown_choice=0, now=11).session
        await storage.commit(answered, expected_version=s.version)
        s = advance(answered, position=position, now=12).session
        await storage.commit(s, expected_version=answered.version)
    assert await storage.active_session(USER) is None


async def test_forget_removes_every_row_of_the_user(storage: SQLiteStorage, small_bank: QuestionBank) -> None:
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
    await storage.forget_user(USER)
    assert await storage.get_user(USER) is None
    assert await storage.answers(user_id=USER) == []
    assert await storage.review_items(USER) == []
    assert await storage.get_session(session.id) is None
    assert await storage.get_user(other) is not None


async def test_schema_version_and_data_survive_reopening(tmp_path: Path) -> None:
    path = str(tmp_path / "quiz.db")
    store = await SQLiteStorage.open(path)
    assert await store.schema_version() == SCHEMA_VERSION
    await store.save_user(UserProfile(id=USER, lang=Lang.ZH_HANT))
    await store.close()
    store = await SQLiteStorage.open(path)
    assert (await store.get_user(USER)).lang is Lang.ZH_HANT
    await store.close()


async def test_a_newer_schema_is_refused_clearly(tmp_path: Path) -> None:
    path = str(tmp_path / "quiz.db")
    store = await SQLiteStorage.open(path)
    await store._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    await store.close()
    with pytest.raises(StorageError, match="newer than this program"):
        await SQLiteStorage.open(path)


async def test_open_storage_urls(tmp_path: Path) -> None:
    assert sqlite_path("sqlite:///data/quiz.db", base=tmp_path) == str(tmp_path / "data" / "quiz.db")
    assert sqlite_path("sqlite:////abs/q.db", base=tmp_path) == "/abs/q.db"
    store = await open_storage("sqlite:///nested/dir/q.db", base=tmp_path)
    assert (tmp_path / "nested" / "dir" / "q.db").exists()
    await store.close()
    with pytest.raises(StorageError, match="unsupported DATABASE_URL scheme"):
        await open_storage("mysql://x")
    with pytest.raises(StorageError, match="bad SQLite URL"):
        await open_storage("sqlite://relative.db")
