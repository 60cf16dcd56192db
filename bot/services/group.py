"""Group quiz use cases: lobby, joining, answers (buttons or polls), deadlines, reveal, podium, stop/skip/resume.

Every transition loads the session, applies a pure move and commits it with a version check, so the timer, the
"everyone has answered" shortcut, /skip and /stop can race freely: exactly one of them moves the quiz on, the
others find nothing to do. Answers never touch the session row; each is one insert, unique per member and question.
"""

from __future__ import annotations

import contextlib
import logging
import random
import secrets
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from typing import Protocol

from ..core.deadline import is_due
from ..core.engine import AnswerRecord, SessionId, UserId
from ..core.group import (
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
    advance,
    begin,
    open_lobby,
    resume,
    reveal,
    shown_late,
    stop,
    with_options,
)
from ..core.lang import Lang
from ..core.measures import Discernment
from ..core.model import Question, QuestionBank
from ..core.progress import summarize
from ..storage.base import StorageError
from .group_answers import AnswerAck, AnswerBatcher, GroupAnswerStore

Clock = Callable[[], float]
log = logging.getLogger(__name__)
LEADERBOARD_SIZE = 5
TRANSITION_ATTEMPTS = 5
SHOW_LEASE = 120.0  # seconds a worker may take to show one move before the sweep of any worker moves the session on
MAX_GROUP_QUESTIONS = 20
HISTORY_SHOWN = 5  # /stats in a group lists its latest sessions, this many
# ... and reckons what the group learned over at most this many latest sessions: one read of answers each.
LEARNING_SESSIONS = 50


def new_group_session_id() -> GroupSessionId:
    """8 characters of base64url: short enough to leave room in 64-byte callback data."""
    return GroupSessionId(secrets.token_urlsafe(6))


@dataclass(frozen=True, slots=True, kw_only=True)
class QuestionStep:
    """A question to put to the group."""

    session: GroupSession
    question: Question

    @property
    def order(self) -> tuple[int, ...]:
        return self.session.current.order

    @property
    def answer_shown(self) -> int:
        return self.order.index(self.question.answer)


@dataclass(frozen=True, slots=True, kw_only=True)
class RevealStep:
    """A closed question: the answer, how the group did, the leaderboard so far; then what comes next."""

    session: GroupSession  # after the move: REVEALING, PAUSED or FINISHED
    question: Question
    position: int
    order: tuple[int, ...]
    answered: int
    correct: int
    leaderboard: tuple[Standing, ...]

    @property
    def answer_shown(self) -> int:
        return self.order.index(self.question.answer)


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupLearning:
    """What a group's answers show it learned: right answers over answers given, never points (points reward speed
    too, and are for the game). `discernment` pools the members' calls on the judge items they answered."""

    answered: int
    correct: int
    discernment: Discernment

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.answered if self.answered else None


def group_learning(answers: list[AnswerRecord], bank: QuestionBank) -> GroupLearning:
    """The group's figures, counted as a person's progress is (`summarize`): an answer to a question no longer in
    the bank still counts as answered, but not in discernment, which needs the item's truth."""
    summary = summarize(answers, bank)
    return GroupLearning(
        answered=summary.total.answered, correct=summary.total.correct, discernment=summary.discernment
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Podium:
    """The end of a session: every member's score, the group's accuracy per question and what it learned."""

    session: GroupSession
    standings: tuple[Standing, ...]
    tallies: tuple[QuestionTally, ...]
    learning: GroupLearning


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupStats:
    """A group's /stats: how many sessions it finished, the latest few, and what its answers in the latest
    `sessions` of them (all of them, up to LEARNING_SESSIONS) show it learned."""

    played: int
    latest: tuple[GroupRecord, ...]
    learning: GroupLearning
    sessions: int


@dataclass(frozen=True, slots=True, kw_only=True)
class NobodyJoined:
    session: GroupSession


Step = QuestionStep | RevealStep | NobodyJoined | None


@dataclass(frozen=True, slots=True, kw_only=True)
class LobbyJoin:
    """Someone pressed Join: whether they are newly in, and whether the lobby (which lists them) is still open."""

    new: bool
    in_lobby: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class PollAnswered:
    """A poll answer taken: the question it answers, and whether it counted."""

    session_id: GroupSessionId
    position: int
    ack: AnswerAck


class GroupStore(GroupAnswerStore, Protocol):
    """What group quizzes need stored: groups, sessions, members and poll ids; answers share the answers table."""

    async def get_group(self, chat_id: ChatId) -> GroupInfo | None: ...

    async def save_group(self, info: GroupInfo) -> None: ...

    async def move_group(self, old_chat_id: ChatId, new_chat_id: ChatId) -> None: ...

    async def group_history(self, chat_id: ChatId, *, limit: int = 5) -> tuple[int, list[GroupRecord]]: ...

    async def commit_group(self, session: GroupSession, *, expected_version: int | None) -> bool:
        """Insert (`expected_version` None) or update only if the stored version still equals it."""
        ...

    async def get_group_session(self, session_id: GroupSessionId) -> GroupSession | None: ...

    async def active_group_session(self, chat_id: ChatId) -> GroupSession | None: ...

    async def active_group_sessions(self) -> list[GroupSession]: ...

    async def due_group_sessions(self, now: float) -> list[GroupSessionId]: ...

    async def hold_group_session(self, session_id: GroupSessionId, until: float | None) -> None: ...

    async def add_member(self, session_id: GroupSessionId, user_id: int, name: str, now: float) -> bool: ...

    async def members(self, session_id: GroupSessionId) -> list[GroupMember]: ...

    async def count_members(self, session_id: GroupSessionId) -> int: ...

    async def member_left(self, session_id: GroupSessionId, user_id: int, now: float) -> None: ...

    async def map_poll(self, poll_id: str, session_id: GroupSessionId, position: int) -> None: ...

    async def poll_target(self, poll_id: str) -> tuple[GroupSessionId, int] | None: ...

    async def count_answers(self, session_id: str, position: int) -> int: ...

    async def leaderboard(self, session_id: GroupSessionId, *, limit: int | None = None) -> list[Standing]: ...

    async def question_tallies(self, session_id: str) -> list[QuestionTally]: ...

    async def answers(
        self, *, user_id: UserId | None = None, session_id: SessionId | None = None
    ) -> list[AnswerRecord]: ...


class GroupService:
    """Group quizzes over the engine and storage."""

    def __init__(
        self,
        bank: QuestionBank,
        storage: GroupStore,
        *,
        rules: GroupRules,
        clock: Clock = time.time,
        rng: random.Random | None = None,
        session_ids: Callable[[], GroupSessionId] = new_group_session_id,
    ) -> None:
        self.bank = bank
        self._storage = storage
        self.rules = rules
        self._clock = clock
        self._rng = rng or random.Random()
        self._session_ids = session_ids
        # Polls this process sent, known before the database write that records them is through: under load that
        # write waits behind hundreds of answers, and an answer must not arrive at a poll nobody knows yet.
        self._polls: dict[str, tuple[GroupSessionId, int]] = {}
        self._answers = AnswerBatcher(storage, bank, self.get, clock)

    # ---------------------------------------------------------------- the group itself

    async def group(
        self, chat_id: int, *, default_lang: str, title: str = "", added_by: int | None = None
    ) -> GroupInfo:
        """The group's settings, created on first contact."""
        info = await self._storage.get_group(ChatId(chat_id))
        if info is None:
            info = GroupInfo(
                chat_id=ChatId(chat_id), lang=default_lang, title=title, added_by=added_by, created_at=self._clock()
            )
            await self._storage.save_group(info)
        return info

    async def lang(self, chat_id: int, *, default: Lang = Lang.ZH_HANT) -> Lang:
        """The group's language (a group first met here gets `default`)."""
        info = await self.group(chat_id, default_lang=default.value)
        return Lang(info.lang)

    async def set_lang(self, chat_id: int, lang: Lang) -> None:
        info = await self.group(chat_id, default_lang=lang.value)
        await self._storage.save_group(replace(info, lang=lang.value))

    async def bot_added(self, chat_id: int, *, default_lang: Lang, title: str, added_by: int | None) -> GroupInfo:
        """The bot was added to a group (again): it is active from now on."""
        info = await self.group(chat_id, default_lang=default_lang.value, title=title, added_by=added_by)
        if not info.active:
            info = replace(info, active=True)
            await self._storage.save_group(info)
        return info

    async def close_group(self, chat_id: int) -> None:
        """The group is closed to the bot (removed, or sending is forbidden): it is inactive and its quiz ends."""
        info = await self._storage.get_group(ChatId(chat_id))
        if info is not None and info.active:
            await self._storage.save_group(replace(info, active=False))
        session = await self.active(chat_id)
        if session is not None:
            await self.stop(session.id)

    async def migrate(self, old_chat_id: int, new_chat_id: int) -> None:
        await self._storage.move_group(ChatId(old_chat_id), ChatId(new_chat_id))

    async def history(self, chat_id: int) -> tuple[int, list[GroupRecord]]:
        return await self._storage.group_history(ChatId(chat_id), limit=HISTORY_SHOWN)

    async def stats(self, chat_id: int) -> GroupStats:
        """The group's record and what its answers show it learned, over its latest LEARNING_SESSIONS sessions."""
        played, records = await self._storage.group_history(ChatId(chat_id), limit=LEARNING_SESSIONS)
        answers: list[AnswerRecord] = []
        for record in records:
            answers += await self._storage.answers(session_id=SessionId(record.session_id))
        return GroupStats(
            played=played,
            latest=tuple(records[:HISTORY_SHOWN]),
            learning=group_learning(answers, self.bank),
            sessions=len(records),
        )

    # ---------------------------------------------------------------- a session

    async def active(self, chat_id: int) -> GroupSession | None:
        return await self._storage.active_group_session(ChatId(chat_id))

    async def get(self, session_id: str) -> GroupSession | None:
        return await self._storage.get_group_session(GroupSessionId(session_id))

    async def open(
        self,
        chat_id: int,
        *,
        starter_id: int,
        starter_name: str,
        topic: str | None,
        count: int,
        starter_is_chat: bool = False,
        accuracy_only: bool = False,
        no_clock: bool = False,
    ) -> GroupSession | None:
        """A lobby for a new session (the starter joins it). None: no question matches. Check `active` first.
        `accuracy_only` and `no_clock`: the accessible-play options (`core.group.GroupRules`) for this session.

        `starter_is_chat`: opened on behalf of a chat (a channel, or the group itself for an anonymous admin),
        `starter_id` being the chat's: nobody joins then, as there is no person to play (see `core.group.Sender`)."""
        session = open_lobby(
            self.bank,
            session_id=self._session_ids(),
            chat_id=ChatId(chat_id),
            starter_id=starter_id,
            starter_is_chat=starter_is_chat,
            topic=topic,
            count=max(1, min(count, MAX_GROUP_QUESTIONS)),
            rules=with_options(self.rules, accuracy_only=accuracy_only, no_clock=no_clock),
            rng=self._rng,
            now=self._clock(),
        )
        if session is None:
            return None
        await self._storage.commit_group(session, expected_version=None)
        log.info("group quiz %s opened in chat %s: %d questions", session.id, chat_id, session.total)
        if not starter_is_chat:
            await self._storage.add_member(session.id, starter_id, starter_name, self._clock())
        return session

    async def note_messages(
        self, session_id: str, *, lobby: int | None = None, question: int | None = None, position: int | None = None
    ) -> GroupSession | None:
        """Remember which message shows the lobby or a question, for later edits (also after a restart). A question
        that took long to reach the group gets its full time from now (`shown_late`). Returns the session as
        stored, or None when it has moved past `position` or is gone."""
        for _ in range(5):
            session = await self.get(session_id)
            if session is None or (position is not None and session.position != position):
                return None
            changed = session.bump(
                lobby_message_id=lobby if lobby is not None else session.lobby_message_id,
                question_message_id=question if question is not None else session.question_message_id,
            )
            if question is not None:
                changed = shown_late(changed, shown_at=self._clock())
            if await self._storage.commit_group(changed, expected_version=session.version):
                return changed
        return None

    async def join(self, session_id: str, user_id: int, name: str) -> LobbyJoin | None:
        """Join; None when the session is over."""
        session = await self.get(session_id)
        if session is None or not session.is_active:
            return None
        new = await self._storage.add_member(session.id, user_id, name, self._clock())
        if not new:
            return LobbyJoin(new=False, in_lobby=False)
        # Read again: the lobby may have closed while the member was being added, and a closed lobby is not redrawn.
        after = await self.get(session_id)
        return LobbyJoin(new=True, in_lobby=after is not None and after.phase is GroupPhase.LOBBY)

    async def members(self, session_id: str) -> list[GroupMember]:
        return await self._storage.members(GroupSessionId(session_id))

    async def member_left(self, chat_id: int, user_id: int) -> None:
        session = await self.active(chat_id)
        if session is not None:
            await self._storage.member_left(session.id, user_id, self._clock())

    async def answer(self, session_id: str, *, position: int, user_id: int, name: str, shown: int) -> AnswerAck:
        """A member's answer; the first one per question counts. Raises GroupMoveRejected when it can't.

        Returns once the answer is stored; answers arriving together share one transaction (see group_answers)."""
        return await self._answers.submit(session_id, position=position, user_id=user_id, name=name, shown=shown)

    async def answer_poll(self, poll_id: str, *, user_id: int, name: str, option_ids: list[int]) -> PollAnswered | None:
        """A poll answer (it carries no chat: the poll id leads to the session). None: not ours or a retraction."""
        target = await self.poll_target(poll_id)
        if target is None or not option_ids:
            return None
        session_id, position = target
        ack = await self.answer(session_id, position=position, user_id=user_id, name=name, shown=option_ids[0])
        return PollAnswered(session_id=session_id, position=position, ack=ack)

    async def map_poll(self, poll_id: str, session_id: str, position: int) -> None:
        self._polls[poll_id] = (GroupSessionId(session_id), position)
        await self._storage.map_poll(poll_id, GroupSessionId(session_id), position)

    async def poll_target(self, poll_id: str) -> tuple[GroupSessionId, int] | None:
        """The session and question a poll belongs to: this process's own polls first, then the database."""
        return self._polls.get(poll_id) or await self._storage.poll_target(poll_id)

    # ---------------------------------------------------------------- moving the quiz on

    async def _transition(
        self, session_id: str, move: Callable[[GroupSession, float], GroupSession | None]
    ) -> tuple[GroupSession, GroupSession] | None:
        """Apply `move` to the stored session and commit it. `move` returns None when it does not apply (another
        move got there first). A lost version race on a move that still applies (say, a message id noted at the
        same moment) is retried on the fresh session."""
        for _ in range(TRANSITION_ATTEMPTS):
            session = await self.get(session_id)
            if session is None:
                return None
            moved = move(session, self._clock())
            if moved is None:
                return None
            if await self._storage.commit_group(moved, expected_version=session.version):
                if session.is_active and not moved.is_active:
                    log.info("group quiz %s in chat %s ended: %s", moved.id, moved.chat_id, moved.phase.value)
                return session, moved
        return None

    async def start_now(self, session_id: str) -> QuestionStep | None:
        """The starter or an admin starts early."""
        done = await self._transition(
            session_id, lambda s, now: begin(s, now=now) if s.phase is GroupPhase.LOBBY else None
        )
        return self._question(done[1]) if done else None

    async def due(self, session_id: str) -> Step:
        """The session's deadline has come: do what is due, or nothing if another move got there first."""
        session = await self.get(session_id)
        if session is None or not is_due(session.deadline, self._clock()):
            return None
        if session.phase is GroupPhase.LOBBY:
            nobody = await self._storage.count_members(session.id) == 0

            def leave_lobby(s: GroupSession, now: float) -> GroupSession | None:
                if s.phase is not GroupPhase.LOBBY:
                    return None
                return stop(s, now=now) if nobody else begin(s, now=now)

            done = await self._transition(session_id, leave_lobby)
            if done is None:
                return None
            return NobodyJoined(session=done[1]) if nobody else self._question(done[1])
        if session.phase is GroupPhase.ASKING:
            return await self.close_question(session_id, position=session.position)
        if session.phase is GroupPhase.REVEALING:
            return await self.due_now(session_id)
        return None

    async def due_now(self, session_id: str) -> Step:
        """The reveal pause is over (or /skip during it): the next question."""
        done = await self._transition(
            session_id, lambda s, now: advance(s, now=now) if s.phase is GroupPhase.REVEALING else None
        )
        return self._question(done[1]) if done else None

    async def close_question(self, session_id: str, *, position: int) -> RevealStep | None:
        """Reveal question `position` (its deadline, everyone answered, or /skip), if it is still open."""
        answered = await self._storage.count_answers(session_id, position)

        def close(s: GroupSession, now: float) -> GroupSession | None:
            if s.phase is not GroupPhase.ASKING or s.position != position:
                return None
            return reveal(s, answered=answered, now=now)

        done = await self._transition(session_id, close)
        if done is None:
            return None
        before, moved = done
        tally = next((t for t in await self._storage.question_tallies(before.id) if t.position == position), None)
        question = self.bank.get(before.current.question_id)
        assert question is not None
        return RevealStep(
            session=moved,
            question=question,
            position=position,
            order=before.current.order,
            answered=tally.answered if tally else 0,
            correct=tally.correct if tally else 0,
            leaderboard=tuple(await self._storage.leaderboard(before.id, limit=LEADERBOARD_SIZE)),
        )

    async def skip(self, session: GroupSession) -> Step:
        """/skip: the lobby starts, the open question is revealed, or the reveal pause ends, now."""
        if session.phase is GroupPhase.LOBBY:
            return await self.start_now(session.id)
        if session.phase is GroupPhase.ASKING:
            return await self.close_question(session.id, position=session.position)
        if session.phase is GroupPhase.REVEALING:
            return await self.due_now(session.id)
        return None

    async def resume(self, session_id: str) -> QuestionStep | None:
        done = await self._transition(
            session_id, lambda s, now: resume(s, now=now) if s.phase is GroupPhase.PAUSED else None
        )
        return self._question(done[1]) if done else None

    async def stop(self, session_id: str) -> GroupSession | None:
        done = await self._transition(session_id, lambda s, now: stop(s, now=now) if s.is_active else None)
        return done[1] if done else None

    async def podium(self, session: GroupSession) -> Podium:
        return Podium(
            session=session,
            standings=tuple(await self._storage.leaderboard(session.id)),
            tallies=tuple(await self._storage.question_tallies(session.id)),
            learning=group_learning(await self._storage.answers(session_id=SessionId(session.id)), self.bank),
        )

    async def due_sessions(self) -> list[GroupSessionId]:
        """Overdue sessions no worker is showing a move of right now."""
        return await self._storage.due_group_sessions(self._clock())

    @contextlib.asynccontextmanager
    async def showing(self, session_id: GroupSessionId) -> AsyncIterator[None]:
        """Hold the session while this worker shows its last move (a reveal retried through Telegram's errors can
        outlast the reveal's own time): no worker's sweep moves it on until the move is shown or SHOW_LEASE ends.
        The lease bounds how long a worker that died while showing keeps the session waiting."""
        await self._hold(session_id, self._clock() + SHOW_LEASE)
        try:
            yield
        finally:
            await self._hold(session_id, None)

    async def _hold(self, session_id: GroupSessionId, until: float | None) -> None:
        # The move is stored already: a database that fails here must not keep it from being shown. Without the
        # hold, at worst another worker's sweep moves on early; a lease left behind ends by itself.
        try:
            await self._storage.hold_group_session(session_id, until)
        except StorageError as error:
            log.warning("could not %s group session %s: %s", "hold" if until else "release", session_id, error)

    async def live_sessions(self) -> list[GroupSession]:
        """Every unfinished session, for re-scheduling timers after a restart."""
        return await self._storage.active_group_sessions()

    def _question(self, session: GroupSession) -> QuestionStep:
        question = self.bank.get(session.current.question_id)
        assert question is not None
        return QuestionStep(session=session, question=question)
