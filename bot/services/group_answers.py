"""Group answers stored in batches: what arrives while the previous batch is being written goes in the next one.

Why: when a big group answers a poll, hundreds of answers arrive within a second. One transaction each made the
p99 the length of a queue of commits (and, with SQLite, of hops to its one connection thread). Now the answers that
arrive together are scored together: one read of each session, one read of the members' review entries, one
transaction for all the answers, one count per question. Nobody waits for a timer: a lone answer is written at
once, exactly as before. Each caller is acknowledged only after its own answer is committed, so an acknowledged
answer survives a crash, and the unique constraint still decides which answer counts.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from ..core.engine import AnswerRecord, SessionId, UserId
from ..core.group import GroupMoveRejected, GroupRejection, GroupSession, GroupSessionId, score
from ..core.model import QuestionBank, QuestionId
from ..core.review import ReviewItem
from ..storage.base import GroupAnswerEntry, ReviewUpdate

MAX_BATCH = 256  # answers a transaction: large enough for a burst, small enough to keep each commit short


class GroupAnswerStore(Protocol):
    """What storing a batch of group answers needs."""

    async def record_group_answers(self, answers: Sequence[GroupAnswerEntry]) -> list[bool]:
        """Many answers in one transaction; True for each that counts (a member's first to that question)."""
        ...

    async def review_items_for(
        self, keys: Sequence[tuple[UserId, QuestionId]]
    ) -> dict[tuple[UserId, QuestionId], ReviewItem]: ...

    async def answer_tally(self, session_id: GroupSessionId, position: int) -> tuple[int, int]:
        """(answers to this question, members still in the session), read together."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class AnswerAck:
    """A member's answer: whether it counted, and whether everyone has now answered."""

    recorded: bool
    correct: bool
    points: int
    everyone_answered: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class _Arrival:
    session_id: str
    position: int
    user_id: int
    name: str
    shown: int
    at: float  # when the answer arrived: it is scored for speed as of then, not as of its batch
    done: asyncio.Future[AnswerAck]


class AnswerBatcher:
    """Collects answers and stores each batch in one transaction; `submit` returns once the answer is stored."""

    def __init__(
        self,
        storage: GroupAnswerStore,
        bank: QuestionBank,
        session: Callable[[str], Awaitable[GroupSession | None]],
        clock: Callable[[], float],
    ) -> None:
        self._storage = storage
        self._bank = bank
        self._session = session
        self._clock = clock
        self._waiting: list[_Arrival] = []
        self._writer: asyncio.Task[None] | None = None

    async def submit(self, session_id: str, *, position: int, user_id: int, name: str, shown: int) -> AnswerAck:
        """Raises GroupMoveRejected when the answer can't be taken (session over, question closed, bad option)."""
        arrival = _Arrival(
            session_id=session_id,
            position=position,
            user_id=user_id,
            name=name,
            shown=shown,
            at=self._clock(),
            done=asyncio.get_running_loop().create_future(),
        )
        self._waiting.append(arrival)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_all())
        return await arrival.done

    async def _write_all(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting[:MAX_BATCH], self._waiting[MAX_BATCH:]
            try:
                await self._write(batch)
            except Exception as error:  # the database failed: every answer of the batch learns it
                for arrival in batch:
                    if not arrival.done.done():
                        arrival.done.set_exception(error)
            finally:
                for arrival in batch:  # cancelled mid-batch (shutting down): nobody waits forever
                    if not arrival.done.done():
                        arrival.done.cancel()

    async def _write(self, batch: list[_Arrival]) -> None:
        sessions = {sid: await self._session(sid) for sid in dict.fromkeys(a.session_id for a in batch)}
        taken: list[tuple[_Arrival, GroupAnswerEntry]] = []
        for arrival in batch:
            session = sessions[arrival.session_id]
            try:
                if session is None:
                    raise GroupMoveRejected(GroupRejection.CLOSED)
                scored = score(session, self._bank, position=arrival.position, shown=arrival.shown, now=arrival.at)
            except GroupMoveRejected as rejected:
                arrival.done.set_exception(rejected)
                continue
            record = AnswerRecord(
                session_id=SessionId(arrival.session_id),
                user_id=UserId(arrival.user_id),
                question_id=scored.question.id,
                topic=scored.question.topic,
                position=arrival.position,
                chosen=scored.chosen,
                correct=scored.correct,
                confidence=None,
                elapsed_ms=round(scored.elapsed * 1000),
                answered_at=arrival.at,
                context="group",
                points=scored.points,
            )
            taken.append((arrival, GroupAnswerEntry(record=record, name=arrival.name)))
        if not taken:
            return
        answers = await self._with_reviews([answer for _, answer in taken])
        counted = await self._storage.record_group_answers(answers)
        # "Everyone has answered" is news once per question: the last answer of the batch that counted carries it.
        last: dict[tuple[str, int], _Arrival] = {}
        for (arrival, _), counts in zip(taken, counted, strict=True):
            if counts:
                last[(arrival.session_id, arrival.position)] = arrival
        everyone: dict[tuple[str, int], bool] = {}
        for (session_id, position), _ in last.items():
            answered, present = await self._storage.answer_tally(GroupSessionId(session_id), position)
            everyone[(session_id, position)] = answered >= present
        for (arrival, answer), counts in zip(taken, counted, strict=True):
            key = (arrival.session_id, arrival.position)
            ack = AnswerAck(
                recorded=counts,
                correct=answer.record.correct,
                points=answer.record.points,
                everyone_answered=counts and last.get(key) is arrival and everyone[key],
            )
            if not arrival.done.done():
                arrival.done.set_result(ack)

    async def _with_reviews(self, answers: list[GroupAnswerEntry]) -> list[GroupAnswerEntry]:
        """Each answer with the review-queue change it makes (a miss goes to review, a hit moves it on)."""
        keys = [(a.record.user_id, a.record.question_id) for a in answers]
        current = await self._storage.review_items_for(keys)
        return [
            GroupAnswerEntry(
                record=answer.record, name=answer.name, review=ReviewUpdate.after(answer.record, current.get(key))
            )
            for answer, key in zip(answers, keys, strict=True)
        ]
