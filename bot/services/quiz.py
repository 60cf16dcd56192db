"""The private quiz: start, choose, rate, next, cancel, review, progress, forget."""

from __future__ import annotations

import logging
import random
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Protocol

from ..core.engine import (
    AnswerRecord,
    Confidence,
    MoveRejected,
    Phase,
    QuizMode,
    QuizSession,
    QuizSpec,
    Rejection,
    SessionId,
    Transition,
    UserId,
    advance,
    cancel,
    choose,
    rate,
    start_quiz,
)
from ..core.lang import Lang
from ..core.model import QuestionBank, QuestionId
from ..core.progress import summarize
from ..core.review import ReviewItem, review_order
from ..core.users import UserProfile
from ..storage.base import ReviewUpdate
from .views import NothingToReview, ProgressView, QuestionView, ResultView, RevealView

Clock = Callable[[], float]
log = logging.getLogger(__name__)


class QuizStore(Protocol):
    """What private quizzes need stored: people, their sessions, answers and review queues. Each call is one
    transaction; both back-ends satisfy it as they are."""

    async def get_user(self, user_id: UserId) -> UserProfile | None: ...

    async def save_user(self, profile: UserProfile) -> None: ...

    async def get_session(self, session_id: SessionId) -> QuizSession | None: ...

    async def active_session(self, user_id: UserId) -> QuizSession | None: ...

    async def commit(
        self,
        session: QuizSession,
        *,
        expected_version: int | None,
        answer: AnswerRecord | None = None,
        review: ReviewUpdate | None = None,
    ) -> bool:
        """Insert (`expected_version` None) or update a session only if its stored version still equals
        `expected_version`, with at most one answer per (session, position, user); False: the move lost a race."""
        ...

    async def answers(
        self, *, user_id: UserId | None = None, session_id: SessionId | None = None
    ) -> list[AnswerRecord]: ...

    async def review_item(self, user_id: UserId, question_id: QuestionId) -> ReviewItem | None: ...

    async def review_items(self, user_id: UserId) -> list[ReviewItem]: ...

    async def forget_user(self, user_id: UserId) -> None: ...


def new_session_id() -> SessionId:
    """Short, unguessable, URL- and callback-safe: 12 characters of base64url."""
    return SessionId(secrets.token_urlsafe(9))


class QuizService:
    """Quiz use cases over the engine and one storage. Adapters call these and render what they return."""

    def __init__(
        self,
        bank: QuestionBank,
        storage: QuizStore,
        *,
        clock: Clock = time.time,
        rng: random.Random | None = None,
        session_ids: Callable[[], SessionId] = new_session_id,
    ) -> None:
        self.bank = bank
        self._storage = storage
        self._clock = clock
        self._rng = rng or random.Random()
        self._session_ids = session_ids

    async def user(self, user_id: UserId, *, default_lang: Lang) -> UserProfile:
        """The person's profile, created with `default_lang` on first contact."""
        profile = await self._storage.get_user(user_id)
        if profile is None:
            profile = UserProfile(id=user_id, lang=default_lang, created_at=self._clock())
            await self._storage.save_user(profile)
        return profile

    async def contact(self, user_id: UserId, *, default_lang: Lang) -> UserProfile:
        """The profile of someone who just wrote to the bot: created on first contact, and active again if they had
        blocked the bot (writing to it means they have unblocked it)."""
        profile = await self.user(user_id, default_lang=default_lang)
        if not profile.active:
            profile = replace(profile, active=True)
            await self._storage.save_user(profile)
        return profile

    async def known_lang(self, user_id: UserId) -> Lang | None:
        """The person's language if they have a profile; never creates one."""
        profile = await self._storage.get_user(user_id)
        return profile.lang if profile else None

    async def mark_unreachable(self, user_id: UserId) -> None:
        """The person blocked the bot: nothing is sent to them until they write again (see `contact`)."""
        profile = await self._storage.get_user(user_id)
        if profile is not None and profile.active:
            await self._storage.save_user(replace(profile, active=False))

    async def update_user(self, profile: UserProfile) -> None:
        await self._storage.save_user(profile)

    async def start(self, user_id: UserId, spec: QuizSpec) -> QuestionView | NothingToReview | None:
        """Begin a quiz, replacing any unfinished one (its buttons go stale). None: no question matches."""
        now = self._clock()
        first: list[str] = []
        if spec.mode is QuizMode.REVIEW:
            items = review_order(await self._storage.review_items(user_id), now=now)
            if not items:
                return NothingToReview(next_due_at=None)
            first = [item.question_id for item in items]
        session = start_quiz(
            self.bank, spec, session_id=self._session_ids(), user_id=user_id, rng=self._rng, now=now, first=first
        )
        if session is None:
            return None
        await self.cancel(user_id)
        await self._storage.commit(session, expected_version=None)
        log.info("quiz %s started: user %s, %s, %d questions", session.id, user_id, session.mode.value, session.total)
        return self._question_view(session)

    async def start_fixed(
        self, user_id: UserId, question_ids: Sequence[str], *, ask_confidence: bool
    ) -> QuestionView | None:
        """A quiz over exactly these questions, in this order (a self-paced drill round or a re-test)."""
        spec = QuizSpec(mode=QuizMode.DRILL, count=len(question_ids), ask_confidence=ask_confidence)
        session = start_quiz(
            self.bank,
            spec,
            session_id=self._session_ids(),
            user_id=user_id,
            rng=self._rng,
            now=self._clock(),
            first=question_ids,
        )
        if session is None:
            return None
        await self.cancel(user_id)
        await self._storage.commit(session, expected_version=None)
        log.info("quiz %s started: user %s, %s, %d questions", session.id, user_id, session.mode.value, session.total)
        return self._question_view(session)

    async def current(self, user_id: UserId) -> QuestionView | RevealView | None:
        """The unfinished quiz's current step, to resume it."""
        session = await self._storage.active_session(user_id)
        if session is None:
            return None
        if session.phase is Phase.REVEALED:
            answers = await self._storage.answers(session_id=session.id)
            record = next(a for a in answers if a.position == session.position)
            return self._reveal_view(session, record)
        return self._question_view(session)

    async def choose(self, user_id: UserId, session_id: str, *, position: int, shown: int) -> QuestionView | RevealView:
        """An option was picked: ask "how sure?" next, or reveal when the person skips that step."""
        session = await self._own_session(user_id, session_id)
        transition = choose(session, self.bank, position=position, shown_choice=shown, now=self._clock())
        view = await self._apply(session, transition)
        assert not isinstance(view, ResultView)  # a choice never ends the quiz: the reveal comes first
        return view

    async def rate(
        self, user_id: UserId, session_id: str, *, position: int, confidence: Confidence | None
    ) -> RevealView:
        """The person said how sure they were: score and reveal."""
        session = await self._own_session(user_id, session_id)
        transition = rate(session, self.bank, position=position, confidence=confidence, now=self._clock())
        view = await self._apply(session, transition)
        assert isinstance(view, RevealView)
        return view

    async def next(self, user_id: UserId, session_id: str, *, position: int) -> QuestionView | ResultView:
        """Move on from a revealed answer to the next question or the result card."""
        session = await self._own_session(user_id, session_id)
        transition = advance(session, position=position, now=self._clock())
        view = await self._apply(session, transition)
        assert not isinstance(view, RevealView)  # moving on scores nothing
        return view

    async def cancel(self, user_id: UserId) -> ResultView | None:
        """Stop the unfinished quiz, if any; what was answered stays recorded."""
        session = await self._storage.active_session(user_id)
        if session is None:
            return None
        transition = cancel(session, now=self._clock())
        if not await self._storage.commit(transition.session, expected_version=session.version):
            return None
        log.info("quiz %s ended: cancelled at question %d of %d", session.id, session.position + 1, session.total)
        return await self._result(transition.session)

    async def progress(self, user_id: UserId) -> ProgressView:
        """Everything this person answered, and their review queue."""
        now = self._clock()
        answers = await self._storage.answers(user_id=user_id)
        items = tuple(await self._storage.review_items(user_id))
        return ProgressView(
            summary=summarize(answers, self.bank),
            quizzes_finished=len({a.session_id for a in answers}),
            review_items=items,
            review_due=sum(1 for item in items if item.due_at <= now),
        )

    async def forget(self, user_id: UserId) -> None:
        """Delete everything stored about this person."""
        await self._storage.forget_user(user_id)

    async def _own_session(self, user_id: UserId, session_id: str) -> QuizSession:
        session = await self._storage.get_session(SessionId(session_id))
        if session is None:
            raise MoveRejected(Rejection.CLOSED)
        if session.user_id != user_id:
            raise MoveRejected(Rejection.NOT_YOURS)
        return session

    async def _apply(self, before: QuizSession, transition: Transition) -> QuestionView | RevealView | ResultView:
        after = transition.session
        outcome = transition.outcome
        review = None
        if outcome is not None:
            record = outcome.record
            review = ReviewUpdate.after(record, await self._storage.review_item(record.user_id, record.question_id))
        committed = await self._storage.commit(
            after, expected_version=before.version, answer=outcome.record if outcome else None, review=review
        )
        if not committed:
            # Another update (a double press, a second device) moved this session first: this one must not count.
            raise MoveRejected(Rejection.ALREADY_ANSWERED)
        if outcome is not None:
            return self._reveal_view(after, outcome.record)
        if after.phase in (Phase.FINISHED, Phase.CANCELLED):
            log.info("quiz %s ended: %s", after.id, after.phase.value)
            return await self._result(after)
        return self._question_view(after)

    def _question_view(self, session: QuizSession) -> QuestionView:
        item = session.current
        question = self.bank.get(item.question_id)
        if question is None:
            raise MoveRejected(Rejection.CLOSED)
        pending = item.order.index(session.pending_choice) if session.phase is Phase.RATING else None
        return QuestionView(
            session_id=session.id,
            position=session.position,
            total=session.total,
            question=question,
            order=item.order,
            phase=session.phase,
            pending_shown=pending,
        )

    def _reveal_view(self, session: QuizSession, record: AnswerRecord) -> RevealView:
        view = self._question_view(session)
        return RevealView(
            view=view,
            record=record,
            chosen_shown=view.order.index(record.chosen),
            streak=session.streak,
            is_last=session.is_last,
        )

    async def _result(self, session: QuizSession) -> ResultView:
        now = self._clock()
        answers = await self._storage.answers(session_id=session.id)
        items = await self._storage.review_items(session.user_id)
        return ResultView(
            session=session,
            summary=summarize(answers, self.bank),
            review_queue=len(items),
            review_due=sum(1 for item in items if item.due_at <= now),
        )
