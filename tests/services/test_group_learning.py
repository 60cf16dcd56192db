"""What a group learned: accuracy (right answers, never points) and discernment pooled over its members' calls."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.core.article import Article
from bot.core.engine import AnswerRecord, SessionId, UserId
from bot.core.group import GroupPhase, GroupRules
from bot.core.loader import load_bank
from bot.core.measures import DiscernmentReading
from bot.core.model import Question, QuestionBank, QuestionId
from bot.services import group as group_service
from bot.services.group import GroupService, QuestionStep, RevealStep, group_learning
from bot.storage.sqlite import SQLiteStorage
from tests.conftest import question_yaml, topic_yaml
from tests.core.test_drill_questions import mixed_bank  # noqa: F401  (a fixture)
from tests.core.test_judge_items import OPTIONS, judge_yaml
from tests.core.test_quality import SOURCES, refs
from tests.services.conftest import FakeClock

CHAT = -100
SAYS_GENUINE, SAYS_FAKE = 0, 1  # a judge item's authored options (JUDGE_ORDER)


@pytest.fixture
def judged_bank(write_bank: Callable[[dict[str, str]], Path], article: Article) -> QuestionBank:
    """Exactly what a five-question session asks: two genuine and two manipulated judge items, one plain question."""
    judge = [judge_yaml(f"real-{n}", "genuine", prompt_en=f"Real {n}") for n in range(2)]
    judge += [judge_yaml(f"fake-{n}", "manipulated", prompt_en=f"Fake {n}") for n in range(2)]
    folder = write_bank(
        {
            "alpha.yaml": topic_yaml("alpha", [refs(question_yaml("plain-0"))]),
            "judgment.yaml": topic_yaml("judgment", judge),
            "_sources.yaml": SOURCES,
            "_judge_options.yaml": OPTIONS,
        }
    )
    report = load_bank([folder], article=article)
    assert report.bank is not None, report.render()
    return report.bank


def record(bank: QuestionBank, question_id: str, chosen: int, *, user: int = 1, position: int = 0) -> AnswerRecord:
    question = bank.get(question_id)
    return AnswerRecord(
        session_id=SessionId("s1"),
        user_id=UserId(user),
        question_id=QuestionId(question_id),
        topic=question.topic if question else "gone",
        position=position,
        chosen=chosen,
        correct=question is None or chosen == question.answer,
        confidence=None,
        elapsed_ms=1000,
        answered_at=1000.0 + position,
        context="group",
        points=0,
    )


def test_figures_worked_by_hand_over_judge_and_plain_items(mixed_bank: QuestionBank) -> None:  # noqa: F811
    calls = [
        # member 1: catches 3 of 4 fakes, doubts 1 of 3 genuine items
        ("fake-0", SAYS_FAKE, 1),
        ("fake-1", SAYS_FAKE, 1),
        ("fake-2", SAYS_FAKE, 1),
        ("fake-3", SAYS_GENUINE, 1),
        ("real-0", SAYS_GENUINE, 1),
        ("real-1", SAYS_GENUINE, 1),
        ("real-2", SAYS_FAKE, 1),
        # member 2: catches the one fake, trusts the one genuine item
        ("fake-4", SAYS_FAKE, 2),
        ("real-3", SAYS_GENUINE, 2),
    ]
    answers = [record(mixed_bank, qid, chosen, user=user, position=n) for n, (qid, chosen, user) in enumerate(calls)]
    plain = mixed_bank.get("plain-0")
    assert plain is not None
    answers += [
        record(mixed_bank, "plain-0", plain.answer, user=1, position=10),  # right
        record(mixed_bank, "plain-1", (plain.answer + 1) % len(plain.options), user=2, position=11),  # wrong
        record(mixed_bank, "gone-1", 0, user=2, position=12),  # right, to a question the bank no longer has
    ]
    assert not answers[-2].correct and answers[-1].correct
    learning = group_learning(answers, mixed_bank)
    # Right: 4 fakes caught + 3 genuine trusted + plain-0 + gone-1 = 9 of 12 answers.
    assert (learning.answered, learning.correct, learning.accuracy) == (12, 9, 0.75)
    d = learning.discernment
    # Pooled: hits 3 + 1 of fakes 4 + 1; false alarms 1 of genuine 3 + 1. The answer to gone-1 has no truth to judge.
    assert (d.hits, d.fakes, d.false_alarms, d.genuine) == (4, 5, 1, 4)
    assert d.discernment == pytest.approx(0.8 - 0.25)
    assert d.reading is DiscernmentReading.DISCERNING


def test_no_answers_no_accuracy(mixed_bank: QuestionBank) -> None:  # noqa: F811
    learning = group_learning([], mixed_bank)
    assert (learning.answered, learning.correct, learning.accuracy) == (0, 0, None)
    assert learning.discernment.reading is DiscernmentReading.NOT_ENOUGH


def choice(question: Question, member: int) -> int:
    """Member 1 calls everything fake, 2 is always right, 3 calls everything genuine; on a plain question 1 is
    wrong and 2 and 3 are right."""
    if question.verdict is not None:
        return {1: SAYS_FAKE, 2: question.answer, 3: SAYS_GENUINE}[member]
    return (question.answer + 1) % len(question.options) if member == 1 else question.answer


async def play(service: GroupService, clock: FakeClock, *, fast: int) -> str:
    """A whole five-question session; member `fast` answers first each time (and so earns the most points a
    right answer)."""
    lobby = await service.open(CHAT, starter_id=1, starter_name="M1", topic=None, count=5)
    assert lobby is not None
    step = await service.start_now(lobby.id)
    for position in range(5):
        assert isinstance(step, QuestionStep)
        for member in sorted((1, 2, 3), key=lambda m: m != fast):
            clock.now += 1.0
            shown = step.order.index(choice(step.question, member))
            ack = await service.answer(lobby.id, position=position, user_id=member, name=f"M{member}", shown=shown)
            assert ack.recorded
        revealed = await service.close_question(lobby.id, position=position)
        assert isinstance(revealed, RevealStep)
        clock.now += 1.0
        step = await service.due_now(lobby.id) if position < 4 else None
    return lobby.id


async def test_the_podium_counts_right_answers_and_pools_the_calls(
    store: SQLiteStorage, judged_bank: QuestionBank
) -> None:
    clock = FakeClock()
    service = GroupService(judged_bank, store, rules=GroupRules(), clock=clock, rng=random.Random(5))
    session_id = await play(service, clock, fast=1)
    session = await service.get(session_id)
    assert session is not None and session.phase is GroupPhase.FINISHED
    podium = await service.podium(session)
    learning = podium.learning
    # M1: 2 fakes right, 2 genuine and the plain question wrong; M2: all 5; M3: 2 genuine and the plain one right.
    assert {s.user_id: s.correct for s in podium.standings} == {1: 2, 2: 5, 3: 3}
    assert (learning.answered, learning.correct) == (15, 10)
    assert round(100 * learning.accuracy) == 67
    d = learning.discernment
    # 4 judge items x 3 members: fakes caught by M1 and M2 (4 of 6), genuine doubted by M1 (2 of 6).
    assert (d.hits, d.fakes, d.false_alarms, d.genuine) == (4, 6, 2, 6)
    assert d.bias_c == pytest.approx(0.0) and d.reading is DiscernmentReading.GUESSING


async def test_stats_pool_the_groups_latest_sessions(
    store: SQLiteStorage, judged_bank: QuestionBank, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FakeClock()
    service = GroupService(judged_bank, store, rules=GroupRules(), clock=clock, rng=random.Random(6))
    sessions = [await play(service, clock, fast=2), await play(service, clock, fast=3)]
    podiums = [await service.podium(session) for session in [await service.get(sid) for sid in sessions] if session]
    # Points reward speed, so who was fastest changes them; the learning figures count right answers alone.
    points = [{s.user_id: s.points for s in podium.standings} for podium in podiums]
    assert points[0][2] > points[1][2] and points[0][3] < points[1][3]
    assert podiums[0].learning == podiums[1].learning
    stats = await service.stats(CHAT)
    assert (stats.played, stats.sessions, len(stats.latest)) == (2, 2, 2)
    assert (stats.learning.answered, stats.learning.correct) == (30, 20)
    assert (stats.learning.discernment.hits, stats.learning.discernment.false_alarms) == (8, 4)
    # Over more sessions than it reckons, the figures cover the latest ones and say how many.
    monkeypatch.setattr(group_service, "LEARNING_SESSIONS", 1)
    stats = await service.stats(CHAT)
    assert (stats.played, stats.sessions, len(stats.latest)) == (2, 1, 1)
    assert (stats.learning.answered, stats.learning.correct) == (15, 10)
    empty = await service.stats(-200)
    assert (empty.played, empty.sessions, empty.learning.accuracy) == (0, 0, None)
