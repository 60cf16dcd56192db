"""Classroom drill use cases: create, join with a code and a nickname, live and self-paced rounds, the report.

Only a drill's teacher may control it or read its report; students are known to the teacher by nickname only.
"""

from __future__ import annotations

import random
import secrets
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass

from ..core.drill import (
    Drill,
    DrillId,
    DrillPhase,
    DrillRefused,
    DrillRejection,
    DrillRound,
    DrillSpec,
    DrillStudent,
    close,
    create_drill,
    finish_round,
    live_next,
    live_reveal,
    new_code,
    normalize_code,
    start_post,
)
from ..core.drill_report import DrillReport, build_report
from ..core.engine import AnswerRecord, Confidence, SessionId, UserId
from ..core.model import Question, QuestionBank
from ..storage.base import FullStorage, ReviewUpdate
from .quiz import QuizService
from .views import QuestionView

Clock = Callable[[], float]
NICKNAME_MAX = 24
CODE_ATTEMPTS = 10


class GuessLimiter:
    """At most `limit` wrong codes per person per `window` seconds: codes can't be found by trying them all."""

    def __init__(self, *, limit: int = 5, window: float = 600.0, clock: Clock = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._misses: dict[int, deque[float]] = defaultdict(deque)

    def blocked(self, user_id: int) -> bool:
        misses = self._misses[user_id]
        cutoff = self._clock() - self.window
        while misses and misses[0] < cutoff:
            misses.popleft()
        return len(misses) >= self.limit

    def miss(self, user_id: int) -> None:
        self._misses[user_id].append(self._clock())


@dataclass(frozen=True, slots=True, kw_only=True)
class Joined:
    drill: Drill
    student: DrillStudent
    new: bool  # False: they were in already (and may resume)


@dataclass(frozen=True, slots=True, kw_only=True)
class LiveQuestion:
    """A live question for the whole class."""

    drill: Drill
    question: Question
    students: list[DrillStudent]

    @property
    def order(self) -> tuple[int, ...]:
        return self.drill.items[self.drill.position].order


@dataclass(frozen=True, slots=True, kw_only=True)
class LiveAnswer:
    recorded: bool
    answered: int
    students: int


def clean_nickname(text: str) -> str | None:
    """A nickname as typed: printable, one line, 1-24 characters; None when nothing usable is left."""
    name = " ".join("".join(ch for ch in text if ch.isprintable()).split())
    return name[:NICKNAME_MAX] or None


class DrillService:
    """Drills over the engine and storage."""

    def __init__(
        self,
        bank: QuestionBank,
        storage: FullStorage,
        quiz: QuizService,
        *,
        max_students: int = 200,
        clock: Clock = time.time,
        rng: random.Random | None = None,
        guesses: GuessLimiter | None = None,
    ) -> None:
        self.bank = bank
        self.storage = storage
        self.quiz = quiz
        self.max_students = max_students
        self._clock = clock
        self._rng = rng or random.Random()
        self._codes = rng  # a seeded rng makes codes reproducible in tests; None: secrets
        self.guesses = guesses or GuessLimiter()

    # ---------------------------------------------------------------- teacher

    async def create(self, teacher_id: int, spec: DrillSpec) -> Drill | None:
        """A new drill with a fresh code; None when no question matches the topics."""
        for _ in range(CODE_ATTEMPTS):
            drill = create_drill(
                self.bank,
                spec,
                drill_id=DrillId(secrets.token_urlsafe(6)),
                code=new_code(self._codes),
                teacher_id=teacher_id,
                rng=self._rng,
                now=self._clock(),
            )
            if drill is None:
                return None
            if await self.storage.create_drill(drill):
                return drill
        raise RuntimeError("could not draw an unused join code")

    async def teacher_drills(self, teacher_id: int) -> list[Drill]:
        return await self.storage.teacher_drills(teacher_id)

    async def get(self, drill_id: str) -> Drill | None:
        return await self.storage.get_drill(DrillId(drill_id))

    async def owned(self, teacher_id: int, drill_id: str) -> Drill:
        """The drill, if this person is its teacher."""
        drill = await self.get(drill_id)
        if drill is None:
            raise DrillRefused(DrillRejection.NOT_FOUND)
        if drill.teacher_id != teacher_id:
            raise DrillRefused(DrillRejection.NOT_TEACHER)
        return drill

    async def owned_by_code(self, teacher_id: int, code_text: str) -> Drill:
        code = normalize_code(code_text)
        drill = await self.storage.drill_by_code(code) if code else None
        if drill is None:
            raise DrillRefused(DrillRejection.NOT_FOUND)
        if drill.teacher_id != teacher_id:
            raise DrillRefused(DrillRejection.NOT_TEACHER)
        return drill

    async def _move(self, drill_id: str, move: Callable[[Drill, float], Drill]) -> Drill:
        """Apply a move, retrying a lost version race while it still applies."""
        for _ in range(5):
            drill = await self.get(drill_id)
            if drill is None:
                raise DrillRefused(DrillRejection.NOT_FOUND)
            moved = move(drill, self._clock())
            if await self.storage.commit_drill(moved, expected_version=drill.version):
                return moved
        raise DrillRefused(DrillRejection.NOT_NOW)

    async def note_control_message(self, drill_id: str, message_id: int) -> None:
        await self._move(drill_id, lambda d, now: d.bump(control_message_id=message_id))

    async def live_next(self, teacher_id: int, drill_id: str) -> LiveQuestion:
        await self.owned(teacher_id, drill_id)
        drill = await self._move(drill_id, lambda d, now: live_next(d, now=now))
        return await self._live_question(drill)

    async def _live_question(self, drill: Drill) -> LiveQuestion:
        question = self.bank.get(drill.items[drill.position].question_id)
        assert question is not None
        students = [s for s in await self.storage.students(drill.id) if s.nickname]
        return LiveQuestion(drill=drill, question=question, students=students)

    async def live_reveal(
        self, drill_id: str, *, teacher_id: int | None = None
    ) -> tuple[LiveQuestion, dict[int, AnswerRecord]]:
        """Reveal the open question (by the teacher, or by the timer when `teacher_id` is None)."""
        if teacher_id is not None:
            await self.owned(teacher_id, drill_id)
        drill = await self._move(drill_id, lambda d, now: live_reveal(d))
        answers = {
            a.user_id: a
            for a in await self.storage.answers(session_id=SessionId(drill.round_key))
            if a.position == drill.position
        }
        return await self._live_question(drill), answers

    async def finish_round(self, teacher_id: int | None, drill_id: str) -> Drill:
        if teacher_id is not None:
            await self.owned(teacher_id, drill_id)
        return await self._move(drill_id, lambda d, now: finish_round(d, now=now))

    async def start_post(self, teacher_id: int, drill_id: str) -> Drill:
        await self.owned(teacher_id, drill_id)
        return await self._move(drill_id, lambda d, now: start_post(d, now=now))

    async def close(self, teacher_id: int | None, drill_id: str) -> Drill:
        """Close the drill; unfinished self-paced quizzes of its students end with what they answered."""
        if teacher_id is not None:
            await self.owned(teacher_id, drill_id)
        return await self._move(drill_id, lambda d, now: close(d, now=now))

    async def mark_retest_sent(self, drill_id: str) -> Drill:
        return await self._move(drill_id, lambda d, now: d.bump(retest_sent=True, retest_at=None))

    async def timed(self) -> list[Drill]:
        return await self.storage.timed_drills()

    async def students(self, drill_id: str) -> list[DrillStudent]:
        return await self.storage.students(DrillId(drill_id))

    async def answered_count(self, drill: Drill) -> int:
        return await self.storage.count_answers(drill.round_key, drill.position)

    async def report(self, drill: Drill) -> DrillReport:
        answers = await self.storage.drill_answers(drill.id)
        students = len([s for s in await self.storage.students(drill.id) if s.nickname])
        return build_report(drill, answers, students=students)

    async def report_answers(self, drill: Drill):
        return await self.storage.drill_answers(drill.id)

    # ---------------------------------------------------------------- students

    async def join(self, user_id: int, code_text: str) -> Joined:
        """Join with a code: wrong codes are counted against the person, a closed or full drill says so."""
        if self.guesses.blocked(user_id):
            raise DrillRefused(DrillRejection.TOO_MANY_GUESSES)
        code = normalize_code(code_text)
        drill = await self.storage.drill_by_code(code) if code else None
        if drill is None:
            self.guesses.miss(user_id)
            raise DrillRefused(DrillRejection.NOT_FOUND)
        existing = await self.storage.student(drill.id, user_id)
        if existing is not None:
            if not drill.is_open:
                raise DrillRefused(DrillRejection.CLOSED)
            return Joined(drill=drill, student=existing, new=False)
        if not drill.is_open:
            raise DrillRefused(DrillRejection.CLOSED)
        if drill.phase is DrillPhase.OPEN and drill.deadline is not None and self._clock() > drill.deadline:
            raise DrillRefused(DrillRejection.EXPIRED)
        if user_id == drill.teacher_id:
            raise DrillRefused(DrillRejection.NOT_NOW)
        outcome = await self.storage.add_student(drill.id, user_id, self._clock(), limit=self.max_students)
        if outcome == "full":
            raise DrillRefused(DrillRejection.FULL)
        student = await self.storage.student(drill.id, user_id)
        assert student is not None
        return Joined(drill=drill, student=student, new=outcome == "joined")

    async def awaiting_nickname(self, user_id: int) -> DrillStudent | None:
        return await self.storage.awaiting_nickname(user_id)

    async def choose_nickname(self, student: DrillStudent, text: str) -> str | None:
        name = clean_nickname(text)
        if name is None:
            return None
        return await self.storage.set_nickname(student.drill_id, student.user_id, name)

    async def live_answer(
        self,
        user_id: int,
        drill_id: str,
        *,
        round_: DrillRound,
        position: int,
        shown: int,
        confidence: Confidence | None,
    ) -> LiveAnswer:
        """A student's answer to the open live question; the first one counts."""
        drill = await self.get(drill_id)
        if drill is None or not drill.is_open:
            raise DrillRefused(DrillRejection.CLOSED)
        if drill.phase is not DrillPhase.ASKING or drill.round is not round_ or drill.position != position:
            raise DrillRefused(DrillRejection.NOT_NOW)
        student = await self.storage.student(drill.id, user_id)
        if student is None or not student.nickname:
            raise DrillRefused(DrillRejection.NOT_FOUND)
        item = drill.items[position]
        if not 0 <= shown < len(item.order):
            raise DrillRefused(DrillRejection.NOT_NOW)
        question = self.bank.get(item.question_id)
        assert question is not None
        now = self._clock()
        chosen = item.order[shown]
        record = AnswerRecord(
            session_id=SessionId(drill.round_key),
            user_id=UserId(user_id),
            question_id=question.id,
            topic=question.topic,
            position=position,
            chosen=chosen,
            correct=chosen == question.answer,
            confidence=confidence,
            elapsed_ms=0,
            answered_at=now,
            context="drill",
        )
        review = ReviewUpdate.after(record, await self.storage.review_item(UserId(user_id), question.id))
        await self.storage.link_session(drill.id, round_, user_id, drill.round_key)
        recorded = await self.storage.record_answer(record, review=review)
        answered = await self.storage.count_answers(drill.round_key, position)
        students = len([s for s in await self.storage.students(drill.id) if s.nickname])
        return LiveAnswer(recorded=recorded, answered=answered, students=students)

    async def start_self_paced(
        self, user_id: int, drill: Drill, round_: DrillRound, *, ask_confidence: bool
    ) -> QuestionView | None:
        """A student's own quiz over the drill's questions for one round (self-paced, post-test or re-test)."""
        ids = [item.question_id for item in drill.items]
        view = await self.quiz.start_fixed(UserId(user_id), ids, ask_confidence=ask_confidence)
        if view is not None:
            await self.storage.link_session(drill.id, round_, user_id, view.session_id)
        return view

    async def set_student_message(self, drill_id: str, user_id: int, message_id: int | None) -> None:
        await self.storage.set_student_message(DrillId(drill_id), user_id, message_id)
