"""Classroom drill use cases: create, join with a code and a nickname, live and self-paced rounds, the report.

Only a drill's teacher may control it or read its report; students are known to the teacher by nickname only.
Every move returns a view or an outcome (drill_views) for the adapter to show; the rules of what may happen when
are the core's (core/drill).
"""

from __future__ import annotations

import logging
import random
import secrets
import time
from collections import defaultdict, deque
from collections.abc import Callable
from typing import Protocol

from ..core.deadline import is_due
from ..core.drill import (
    Drill,
    DrillAnswer,
    DrillId,
    DrillMode,
    DrillPhase,
    DrillRefused,
    DrillRejection,
    DrillRound,
    DrillSpec,
    DrillStudent,
    DueMove,
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
from ..core.echo import echo_safe
from ..core.engine import AnswerRecord, Confidence, SessionId, UserId
from ..core.group import QuestionTally
from ..core.model import QuestionBank, QuestionId
from ..core.projector import new_token
from ..core.review import ReviewItem
from ..storage.base import ReviewUpdate
from .drill_views import (
    DrillDue,
    DrillSummary,
    Joined,
    LiveAnswer,
    LiveItem,
    LiveQuestion,
    LiveReveal,
    Named,
    Panel,
    ReportWithAnswers,
    RoundFinished,
    RoundOpened,
    RoundOver,
    StudentScore,
)
from .quiz import QuizService
from .views import QuestionView

Clock = Callable[[], float]
log = logging.getLogger(__name__)
# The phases a drill enters when a round opens or closes: what an operator wants in the log (not every question).
ROUND_EDGES = {
    DrillPhase.OPEN: "opened",
    DrillPhase.WAITING: "opened",
    DrillPhase.BETWEEN: "closed",
    DrillPhase.CLOSED: "closed",
}
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


def clean_nickname(text: str) -> str | None:
    """A nickname as typed, cleaned as every echo is (`echo_safe`: no bidi or invisible characters, one line) and
    cut to 1-24 characters; None when nothing usable is left."""
    return echo_safe(text, NICKNAME_MAX) or None


class DrillStore(Protocol):
    """What drills need stored: drills, students with nicknames, which session holds each round, and the live
    answers (in the shared answers table, keyed by the round)."""

    async def create_drill(self, drill: Drill) -> bool:
        """False when the code is taken."""
        ...

    async def commit_drill(self, drill: Drill, *, expected_version: int) -> bool:
        """Update only if the stored version still equals `expected_version`."""
        ...

    async def get_drill(self, drill_id: DrillId) -> Drill | None: ...

    async def drill_by_code(self, code: str) -> Drill | None: ...

    async def teacher_drills(self, teacher_id: int) -> list[Drill]: ...

    async def timed_drills(self) -> list[Drill]: ...

    async def add_student(self, drill_id: DrillId, user_id: int, now: float, *, limit: int) -> str:
        """ "joined", "already" or "full"."""
        ...

    async def set_nickname(self, drill_id: DrillId, user_id: int, nickname: str) -> str: ...

    async def set_student_message(self, drill_id: DrillId, user_id: int, message_id: int | None) -> None: ...

    async def student(self, drill_id: DrillId, user_id: int) -> DrillStudent | None: ...

    async def students(self, drill_id: DrillId) -> list[DrillStudent]: ...

    async def awaiting_nickname(self, user_id: int) -> DrillStudent | None: ...

    async def link_session(self, drill_id: DrillId, round_: DrillRound, user_id: int, session_id: str) -> None: ...

    async def drill_session(self, drill_id: DrillId, round_: DrillRound, user_id: int) -> str | None: ...

    async def drill_answers(self, drill_id: DrillId) -> list[DrillAnswer]: ...

    async def session_drill(self, user_id: int, session_id: str) -> DrillId | None: ...

    async def record_answer(self, record: AnswerRecord, *, review: ReviewUpdate | None = None) -> bool: ...

    async def review_item(self, user_id: UserId, question_id: QuestionId) -> ReviewItem | None: ...

    async def answers(
        self, *, user_id: UserId | None = None, session_id: SessionId | None = None
    ) -> list[AnswerRecord]: ...

    async def count_answers(self, session_id: str, position: int) -> int: ...

    async def question_tallies(self, session_id: str) -> list[QuestionTally]: ...


class DrillService:
    """Drills over the engine and storage."""

    def __init__(
        self,
        bank: QuestionBank,
        storage: DrillStore,
        quiz: QuizService,
        *,
        max_students: int = 200,
        clock: Clock = time.time,
        rng: random.Random | None = None,
        guesses: GuessLimiter | None = None,
    ) -> None:
        self.bank = bank
        self._storage = storage
        self._quiz = quiz
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
                projector_token=new_token(),
            )
            if drill is None:
                return None
            if await self._storage.create_drill(drill):
                log.info(
                    "drill %s created by %s: %s, %s round", drill.code, teacher_id, spec.mode.value, drill.round.value
                )
                return drill
        raise RuntimeError("could not draw an unused join code")

    async def teacher_drills(self, teacher_id: int) -> list[Drill]:
        return await self._storage.teacher_drills(teacher_id)

    async def overview(self, teacher_id: int, *, limit: int) -> list[DrillSummary]:
        """The teacher's latest drills with how many students each has (named ones: the others never finished
        joining)."""
        drills = await self._storage.teacher_drills(teacher_id)
        return [DrillSummary(drill=d, students=len(await self.named(d.id))) for d in drills[:limit]]

    async def get(self, drill_id: str) -> Drill | None:
        return await self._storage.get_drill(DrillId(drill_id))

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
        if code is None:
            raise DrillRefused(DrillRejection.BAD_CODE)
        drill = await self._storage.drill_by_code(code)
        if drill is None:
            raise DrillRefused(DrillRejection.NOT_FOUND)
        if drill.teacher_id != teacher_id:
            raise DrillRefused(DrillRejection.NOT_TEACHER)
        return drill

    async def by_code(self, code_text: str) -> Drill | None:
        """Any drill by its code, for whoever runs the bot (`python -m bot report`)."""
        code = normalize_code(code_text)
        return await self._storage.drill_by_code(code) if code else None

    async def _move(self, drill_id: str, move: Callable[[Drill, float], Drill]) -> Drill:
        """Apply a move, retrying a lost version race while it still applies."""
        for _ in range(5):
            drill = await self.get(drill_id)
            if drill is None:
                raise DrillRefused(DrillRejection.NOT_FOUND)
            moved = move(drill, self._clock())
            if await self._storage.commit_drill(moved, expected_version=drill.version):
                if moved.phase is not drill.phase and moved.phase in ROUND_EDGES:
                    log.info("drill %s: %s round %s", moved.code, moved.round.value, ROUND_EDGES[moved.phase])
                return moved
        raise DrillRefused(DrillRejection.NOT_NOW)

    async def note_control_message(self, drill_id: str, message_id: int) -> None:
        await self._move(drill_id, lambda d, now: d.bump(control_message_id=message_id))

    async def live_next(self, teacher_id: int, drill_id: str) -> LiveQuestion:
        await self.owned(teacher_id, drill_id)
        drill = await self._move(drill_id, lambda d, now: live_next(d, now=now))
        return LiveQuestion(drill=drill, item=self.item(drill, drill.position), students=await self.named(drill.id))

    async def live_reveal(self, drill_id: str, *, teacher_id: int | None = None) -> LiveReveal:
        """Reveal the open question (by the teacher, or by the timer when `teacher_id` is None)."""
        if teacher_id is not None:
            await self.owned(teacher_id, drill_id)
        drill = await self._move(drill_id, lambda d, now: live_reveal(d))
        answers: dict[int, AnswerRecord] = {
            a.user_id: a
            for a in await self._storage.answers(session_id=SessionId(drill.round_key))
            if a.position == drill.position
        }
        return LiveReveal(
            drill=drill, item=self.item(drill, drill.position), students=await self.named(drill.id), answers=answers
        )

    async def finish_round(self, teacher_id: int, drill_id: str) -> RoundOver:
        """The teacher ends the round: a pre-test waits for its post-test, anything else closes the drill."""
        await self.owned(teacher_id, drill_id)
        drill = await self._move(drill_id, lambda d, now: finish_round(d, now=now))
        return RoundOver(drill=drill, scores=await self.scores(drill) if drill.spec.mode is DrillMode.LIVE else [])

    async def scores(self, drill: Drill) -> list[StudentScore]:
        """Each student's score in the live round just finished (its answers share the round's session id)."""
        marks: dict[int, list[bool]] = {}
        for answer in await self._storage.answers(session_id=SessionId(drill.round_key)):
            marks.setdefault(answer.user_id, []).append(answer.correct)
        return [
            StudentScore(
                user_id=s.user_id, correct=sum(marks.get(s.user_id, [])), answered=len(marks.get(s.user_id, []))
            )
            for s in await self.named(drill.id)
        ]

    async def start_post(self, teacher_id: int, drill_id: str) -> RoundOpened:
        """After the lesson: the post-test over the same questions; self-paced students each get a start button."""
        await self.owned(teacher_id, drill_id)
        drill = await self._move(drill_id, lambda d, now: start_post(d, now=now))
        tell = await self.named(drill.id) if drill.spec.mode is DrillMode.SELF_PACED else []
        return RoundOpened(drill=drill, round=drill.round, tell=tell)

    async def close(self, teacher_id: int, drill_id: str) -> Drill:
        """Close the drill; unfinished self-paced quizzes of its students end with what they answered."""
        await self.owned(teacher_id, drill_id)
        return await self._move(drill_id, lambda d, now: close(d, now=now))

    async def due(self, drill_id: str) -> DrillDue | None:
        """A drill's timer fired: reveal a timed question, end a self-paced round, or open the re-test. None: not
        due (yet), or another move (another worker's timer, the teacher) got there first."""
        drill = await self.get(drill_id)
        if drill is None or not is_due(drill.due_at, self._clock()):
            return None
        try:
            if drill.due_move is DueMove.REVEAL:
                return await self.live_reveal(drill.id)
            if drill.due_move is DueMove.FINISH_ROUND:
                return RoundFinished(drill=await self._move(drill.id, lambda d, now: finish_round(d, now=now)))
            sent = await self._move(drill.id, lambda d, now: d.bump(retest_sent=True, retest_at=None))
        except DrillRefused:
            return None
        log.info("drill %s: re-test opened", sent.code)
        return RoundOpened(drill=sent, round=DrillRound.RETEST, tell=await self.named(sent.id))

    async def timed(self) -> list[Drill]:
        """Drills with a timer to arm (see `Drill.due_at`)."""
        return await self._storage.timed_drills()

    async def overdue(self) -> list[Drill]:
        """Timed drills whose time has come: the sweep re-arms them, in case the worker that armed them died."""
        now = self._clock()
        return [d for d in await self._storage.timed_drills() if is_due(d.due_at, now)]

    async def panel(self, drill_id: str) -> Panel | None:
        """The teacher's panel as it stands; None when there is none to update."""
        drill = await self.get(drill_id)
        if drill is None or drill.control_message_id is None:
            return None
        nicknames = [s.nickname for s in await self._storage.students(drill.id) if s.nickname]
        if drill.phase is DrillPhase.ASKING:
            return Panel(drill=drill, nicknames=nicknames, answered=await self.answered_count(drill))
        if drill.phase is DrillPhase.REVEALED:
            tally = next(
                (t for t in await self._storage.question_tallies(drill.round_key) if t.position == drill.position), None
            )
            return Panel(
                drill=drill,
                nicknames=nicknames,
                answered=tally.answered if tally else 0,
                correct=tally.correct if tally else 0,
            )
        if drill.phase is DrillPhase.OPEN:
            return Panel(drill=drill, nicknames=nicknames, answered=await self.finished_count(drill))
        return Panel(drill=drill, nicknames=nicknames)

    async def panel_to_refresh(self, user_id: int, session_id: str) -> str | None:
        """A student answered in their own quiz `session_id`: the drill whose teacher's panel counts that answer
        (a self-paced round, post-test or re-test), or None when the quiz is no drill's or the drill has no panel."""
        drill_id = await self._storage.session_drill(user_id, session_id)
        drill = await self.get(drill_id) if drill_id is not None else None
        return drill.id if drill is not None and drill.control_message_id is not None else None

    async def finished_count(self, drill: Drill) -> int:
        """Students who have finished the open self-paced round: they answered its last question."""
        return len(
            {
                a.user_id
                for a in await self._storage.drill_answers(drill.id)
                if a.round is drill.round and a.position == drill.total - 1
            }
        )

    async def answered_count(self, drill: Drill) -> int:
        """Answers so far to the open live question."""
        return await self._storage.count_answers(drill.round_key, drill.position)

    async def report(self, drill: Drill) -> ReportWithAnswers:
        answers = await self._storage.drill_answers(drill.id)
        report: DrillReport = build_report(drill, answers, students=len(await self.named(drill.id)), bank=self.bank)
        return ReportWithAnswers(report=report, answers=answers)

    # ---------------------------------------------------------------- students

    async def join(self, user_id: int, code_text: str) -> Joined:
        """Join with a code: wrong codes are counted against the person, a closed or full drill says so."""
        if self.guesses.blocked(user_id):
            raise DrillRefused(DrillRejection.TOO_MANY_GUESSES)
        code = normalize_code(code_text)
        drill = await self._storage.drill_by_code(code) if code else None
        if drill is None:
            self.guesses.miss(user_id)  # a malformed code counts too: it is still a guess
            raise DrillRefused(DrillRejection.NOT_FOUND if code else DrillRejection.BAD_CODE)
        existing = await self._storage.student(drill.id, user_id)
        if existing is not None:
            if not drill.is_open:
                raise DrillRefused(DrillRejection.CLOSED)
            return Joined(drill=drill, student=existing, new=False)
        if not drill.is_open:
            raise DrillRefused(DrillRejection.CLOSED)
        if drill.phase is DrillPhase.OPEN and drill.deadline is not None and self._clock() > drill.deadline:
            raise DrillRefused(DrillRejection.EXPIRED)
        if user_id == drill.teacher_id:
            raise DrillRefused(DrillRejection.OWN_DRILL)
        outcome = await self._storage.add_student(drill.id, user_id, self._clock(), limit=self.max_students)
        if outcome == "full":
            raise DrillRefused(DrillRejection.FULL)
        student = await self._storage.student(drill.id, user_id)
        assert student is not None
        return Joined(drill=drill, student=student, new=outcome == "joined")

    async def awaiting_nickname(self, user_id: int) -> DrillStudent | None:
        return await self._storage.awaiting_nickname(user_id)

    async def name_student(self, student: DrillStudent, text: str, *, ask_confidence: bool) -> Named:
        """The nickname a student typed; in an open self-paced round their quiz starts right away."""
        name = clean_nickname(text)
        if name is None:
            return Named(drill=None, nickname=None)
        nickname = await self._storage.set_nickname(student.drill_id, student.user_id, name)
        drill = await self.get(student.drill_id)
        if drill is None or drill.spec.mode is DrillMode.LIVE or drill.phase is not DrillPhase.OPEN:
            return Named(drill=drill, nickname=nickname)
        question = await self._start_self_paced(student.user_id, drill, drill.round, ask_confidence=ask_confidence)
        return Named(drill=drill, nickname=nickname, question=question)

    async def live_question(self, drill_id: str, position: int) -> LiveItem:
        """The open live question, for a student about to rate their choice; refused once it has moved on."""
        drill = await self.get(drill_id)
        if drill is None or drill.phase is not DrillPhase.ASKING or drill.position != position:
            raise DrillRefused(DrillRejection.NOT_NOW)
        return self.item(drill, position)

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
        student = await self._storage.student(drill.id, user_id)
        if student is None or not student.nickname:
            raise DrillRefused(DrillRejection.NOT_FOUND)
        item = self.item(drill, position)
        if not 0 <= shown < len(item.order):
            raise DrillRefused(DrillRejection.NOT_NOW)
        question = item.question
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
            answered_at=self._clock(),
            context="drill",
        )
        review = ReviewUpdate.after(record, await self._storage.review_item(UserId(user_id), question.id))
        await self._storage.link_session(drill.id, round_, user_id, drill.round_key)
        recorded = await self._storage.record_answer(record, review=review)
        return LiveAnswer(recorded=recorded, item=item)

    async def start_round(
        self, user_id: int, drill_id: str, round_: DrillRound, *, ask_confidence: bool
    ) -> QuestionView | None:
        """A student presses Start on a round they take on their own (a self-paced post-test, a re-test). None: no
        question could be put (the bank changed)."""
        drill = await self.get(drill_id)
        if drill is None or await self._storage.student(drill.id, user_id) is None:
            raise DrillRefused(DrillRejection.NOT_FOUND)
        if not drill.may_start(round_):
            raise DrillRefused(DrillRejection.CLOSED)
        # A re-test can be pressed again later; pressing it while still taking it must not start it over.
        if (
            round_ is DrillRound.RETEST
            and await self._storage.drill_session(drill.id, round_, user_id) is not None
            and await self._quiz.current(UserId(user_id)) is not None
        ):
            raise DrillRefused(DrillRejection.IN_PROGRESS)
        return await self._start_self_paced(user_id, drill, round_, ask_confidence=ask_confidence)

    async def _start_self_paced(
        self, user_id: int, drill: Drill, round_: DrillRound, *, ask_confidence: bool
    ) -> QuestionView | None:
        """A student's own quiz over the drill's questions for one round (self-paced, post-test or re-test)."""
        ids = [item.question_id for item in drill.items]
        view = await self._quiz.start_fixed(UserId(user_id), ids, ask_confidence=ask_confidence)
        if view is not None:
            await self._storage.link_session(drill.id, round_, user_id, view.session_id)
        return view

    async def set_student_message(self, drill_id: str, user_id: int, message_id: int | None) -> None:
        await self._storage.set_student_message(DrillId(drill_id), user_id, message_id)

    async def named(self, drill_id: str) -> list[DrillStudent]:
        """The drill's students who chose a nickname: the ones taking part."""
        return [s for s in await self._storage.students(DrillId(drill_id)) if s.nickname]

    def item(self, drill: Drill, position: int) -> LiveItem:
        item = drill.items[position]
        question = self.bank.get(item.question_id)
        assert question is not None  # a drill's questions stay in the bank: retired ids keep theirs
        return LiveItem(
            drill_id=drill.id,
            round=drill.round,
            position=position,
            total=drill.total,
            question=question,
            order=item.order,
        )
