"""Group-chat handlers: lobby, answers (poll or buttons), deadlines on PTB's JobQueue, admin controls, membership.

Deadlines live in the database; the JobQueue only wakes the bot at them, and `restore_timers` re-arms every open
session after a restart. Each wake-up asks the service what is due; if another update already moved the quiz on,
the service answers "nothing" and the job does nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from typing import TypeVar

from telegram import Bot, CallbackQuery, ChatMember, Message, Update, User
from telegram.constants import ChatMemberStatus
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application, ContextTypes

from ..core.group import GroupMoveRejected, GroupPhase, GroupRejection, GroupSession
from ..core.lang import Lang, lang_from_code
from ..services.group import NobodyJoined, QuestionStep, RevealStep
from . import callbacks as cb
from .callbacks import Action, Kind
from .context import BotServices, Context, services
from .render import LETTERS, Rendered
from .sending import echo_safe, patiently

log = logging.getLogger(__name__)

T = TypeVar("T")
ADMIN_CACHE_SECONDS = 60.0
LOBBY_REFRESH_SECONDS = 3.0  # joins are shown in batches: one edit per few seconds, not one per person
RESTART_GRACE_SECONDS = 3.0
UNKNOWN_POLL_RETRIES, UNKNOWN_POLL_WAIT = (
    3,
    0.2,
)  # after a restart, let the backlog of answers arrive before a deadline fires
ADMIN_STATUSES = frozenset({ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR})
GONE_POLL = ("poll to stop not found", "poll has already been closed", "message with poll to stop not found")


def display_name(user: User) -> str:
    name = user.full_name.strip() or (f"@{user.username}" if user.username else str(user.id))
    return name[:40]


class PollGate:
    """Poll answers can overtake the sendPoll reply that tells the bot the poll's id.

    An answer to a poll this process doesn't know yet waits until that very poll id is known (the send it came
    from finishes and maps it), or until no poll is being sent any more (then the poll is not this process's).
    Waiting for one id, not for every send in flight, keeps it quick when a hundred groups play at once.
    """

    def __init__(self) -> None:
        self._in_flight = 0
        self._waiting: dict[str, asyncio.Event] = {}

    @contextlib.asynccontextmanager
    async def sending(self) -> AsyncIterator[None]:
        self._in_flight += 1
        try:
            yield
        finally:
            self._in_flight -= 1
            if not self._in_flight:
                for event in self._waiting.values():  # nothing left in flight: unknown polls stay unknown
                    event.set()
                self._waiting.clear()

    def known(self, poll_id: str) -> None:
        event = self._waiting.pop(poll_id, None)
        if event is not None:
            event.set()

    async def wait_for(self, poll_id: str, timeout: float = 10.0) -> None:  # noqa: ASYNC109 - a bounded wait
        if not self._in_flight:
            return
        event = self._waiting.setdefault(poll_id, asyncio.Event())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)


class AdminCache:
    """Who administers which group, asked of Telegram at most once a minute per person and group."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._known: dict[tuple[int, int], tuple[bool, float]] = {}

    async def is_admin(self, bot: Bot, chat_id: int, user_id: int) -> bool:
        key = (chat_id, user_id)
        cached = self._known.get(key)
        now = self._clock()
        if cached is not None and cached[1] > now:
            return cached[0]
        try:
            member: ChatMember = await bot.get_chat_member(chat_id, user_id)
            admin = member.status in ADMIN_STATUSES
        except TelegramError as error:
            log.warning("could not check admin rights of %s in %s: %s", user_id, chat_id, error)
            admin = False
        self._known[key] = (admin, now + ADMIN_CACHE_SECONDS)
        return admin


async def group_lang(svc: BotServices, chat_id: int, default: Lang = Lang.ZH_HANT) -> Lang:
    info = await svc.group.group(chat_id, default_lang=default.value)
    return Lang(info.lang)


async def to_group(svc: BotServices, chat_id: int, send: Callable[[int], Awaitable[T]]) -> T | None:
    """Send to a group, following it if it became a supergroup; a group that removed the bot ends its quiz.

    A send Telegram refused with a server error is made again; one that may have gone through (a dropped connection,
    a time-out) is not, as it could show twice. If it still fails, None: the quiz goes on (its next deadline is armed
    by the caller) rather than stalling, or, after the last reveal, losing its podium."""
    try:
        return await patiently(lambda: send(chat_id))
    except ChatMigrated as moved:
        new_id = moved.new_chat_id
        await svc.group.migrate(chat_id, new_id)
        return await send(new_id)
    except Forbidden as error:
        log.info("group %s is closed to the bot (%s): ending its quiz", chat_id, error.message)
        await close_group(svc, chat_id)
        return None
    except (NetworkError, RetryAfter) as error:
        if isinstance(error, BadRequest):
            raise
        log.warning("could not send to group %s: %s", chat_id, error)
        return None


async def close_group(svc: BotServices, chat_id: int) -> None:
    info = await svc.group.storage.get_group(chat_id)
    if info is not None and info.active:
        await svc.group.save_group(replace(info, active=False))
    session = await svc.group.active(chat_id)
    if session is not None:
        await svc.group.stop(session.id)


def cancel_jobs(application: Application, session_id: str) -> None:
    if application.job_queue is None:
        return
    for name in (f"group:{session_id}", f"lobby:{session_id}"):
        for job in application.job_queue.get_jobs_by_name(name):
            job.schedule_removal()


def schedule(application: Application, session: GroupSession, *, at_least: float = 0.0) -> None:
    """Wake the bot at the session's deadline (replacing any earlier wake-up)."""
    assert application.job_queue is not None
    name = f"group:{session.id}"
    for job in application.job_queue.get_jobs_by_name(name):
        job.schedule_removal()
    if session.deadline is None or not session.is_active:
        return
    delay = max(at_least, session.deadline - time.time(), 0.0)
    application.job_queue.run_once(on_deadline, delay, data=session.id, name=name)


async def restore_timers(application: Application, svc: BotServices) -> int:
    """After a start: every open session's deadline is armed again (overdue ones after a short grace)."""
    sessions = await svc.group.live_sessions()
    for session in sessions:
        schedule(application, session, at_least=RESTART_GRACE_SECONDS)
    assert application.job_queue is not None
    application.job_queue.run_repeating(
        sweep_deadlines, interval=SWEEP_SECONDS, first=RESTART_GRACE_SECONDS + SWEEP_SECONDS, name="sweep"
    )
    if sessions:
        log.info("resumed %d group quiz session(s) from the store", len(sessions))
    return len(sessions)


SWEEP_SECONDS = 2.0


async def sweep_deadlines(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Every worker looks for overdue sessions now and then, so a timer armed by a worker that died still fires.

    Several workers may find the same session: the version-checked move lets exactly one of them act. A session
    whose last move a worker is still showing (a reveal retried through Telegram's errors) is not found: its
    deadline only looks overdue, and moving on would put the next question above the reveal (found by
    tests/telegram/test_group_faults.py).
    """
    svc = services(context)
    for session_id in await svc.group.due_sessions():
        await carry_out(context.application, svc, await svc.group.due(session_id))


async def on_deadline(context: ContextTypes.DEFAULT_TYPE) -> None:
    """A session's deadline: lobby -> first question, question -> reveal, reveal -> next question."""
    assert context.job is not None
    svc = services(context)
    step = await svc.group.due(str(context.job.data))
    await carry_out(context.application, svc, step)


async def carry_out(application: Application, svc: BotServices, step: object) -> None:
    """Show what a move produced, then arm the next deadline."""
    if not isinstance(step, QuestionStep | RevealStep | NobodyJoined):
        return  # None: another move got there first
    bot = application.bot
    async with svc.group.showing(step.session.id):
        if isinstance(step, QuestionStep):
            await ask(application, svc, step)
        elif isinstance(step, RevealStep):
            await show_reveal(application, svc, step)
        elif isinstance(step, NobodyJoined):
            lang = await group_lang(svc, step.session.chat_id)
            await edit_lobby(bot, svc, step.session, svc.group_render.text("group.nobody", lang))


async def ask(application: Application, svc: BotServices, step: QuestionStep) -> None:
    session = step.session
    lang = await group_lang(svc, session.chat_id)
    if session.position == 0 and session.lobby_message_id is not None:
        await refresh_lobby(application.bot, svc, session, final=True)
    if svc.group_render.fits_poll(step, lang):
        poll = svc.group_render.poll(step, lang)
        async with svc.polls.sending():
            message = await to_group(svc, session.chat_id, lambda chat: application.bot.send_poll(chat, **poll.kwargs))
            if message is not None:
                # Noted before the poll is known, so no answer to it is scored on a clock that is about to move.
                session = await note_question(svc, session, message)
                if message.poll is not None:
                    await svc.group.map_poll(message.poll.id, session.id, session.position)
                    svc.polls.known(message.poll.id)
    else:
        rendered = svc.group_render.buttons_question(step, lang)
        message = await to_group(
            svc,
            session.chat_id,
            lambda chat: application.bot.send_message(chat, rendered.text, reply_markup=rendered.markup),
        )
        if message is not None:
            session = await note_question(svc, session, message)
    schedule(application, session)


async def note_question(svc: BotServices, session: GroupSession, message: Message) -> GroupSession:
    """Remember the question's message; when it reached the group late, its clock (deadline, speed points) starts
    now. Returns the session as stored, which the timer follows."""
    noted = await svc.group.note_messages(session.id, question=message.message_id, position=session.position)
    return noted or session


async def show_reveal(application: Application, svc: BotServices, step: RevealStep) -> None:
    bot = application.bot
    before = await svc.group.get(step.session.id)
    session = before or step.session
    lang = await group_lang(svc, session.chat_id)
    rendered = svc.group_render.reveal(step, lang)
    message_id = session.question_message_id
    as_poll = svc.group_render.fits_poll(
        QuestionStep(session=replace(session, position=step.position), question=step.question), lang
    )
    if as_poll:
        if message_id is not None:
            await stop_poll(bot, session.chat_id, message_id)
        await to_group(svc, session.chat_id, lambda chat: bot.send_message(chat, rendered.text))
    else:
        # The buttons message becomes the reveal: one edit instead of a new message.
        sent = False
        if message_id is not None:
            try:
                # The same edit twice is harmless, so even a dropped connection is worth trying again.
                await patiently(
                    lambda: bot.edit_message_text(rendered.text, chat_id=session.chat_id, message_id=message_id),
                    repeatable=True,
                )
                sent = True
            except BadRequest as error:
                # "Not modified": an attempt whose reply was lost had already made this edit.
                sent = "not modified" in error.message.lower()
                if not sent:
                    log.info("could not edit question %s in %s: %s", message_id, session.chat_id, error.message)
            except (NetworkError, RetryAfter) as error:
                # Telegram is failing: a new message might show the reveal twice; the quiz goes on regardless.
                log.warning("could not show the answer on question %s in %s: %s", message_id, session.chat_id, error)
                sent = True
        if not sent:
            await to_group(svc, session.chat_id, lambda chat: bot.send_message(chat, rendered.text))
    after = step.session
    if after.phase is GroupPhase.REVEALING:
        schedule(application, after)
    elif after.phase is GroupPhase.PAUSED:
        paused = svc.group_render.paused(after, lang)
        await to_group(svc, after.chat_id, lambda chat: bot.send_message(chat, paused.text, reply_markup=paused.markup))
    elif after.phase is GroupPhase.FINISHED:
        podium = svc.group_render.podium(await svc.group.podium(after), lang)
        await to_group(svc, after.chat_id, lambda chat: bot.send_message(chat, podium.text))


async def stop_poll(bot: Bot, chat_id: int, message_id: int) -> None:
    try:
        await patiently(lambda: bot.stop_poll(chat_id, message_id), repeatable=True)
    except BadRequest as error:
        # Deleted by an admin, or closed by its own timer: either way it is closed.
        if not any(words in error.message.lower() for words in GONE_POLL):
            log.info("could not close poll %s in %s: %s", message_id, chat_id, error.message)
    except (NetworkError, RetryAfter) as error:
        # The poll closes by itself when its open_period ends; the reveal must not be lost waiting for it.
        log.warning("could not close poll %s in %s: %s", message_id, chat_id, error)


async def edit_lobby(bot: Bot, svc: BotServices, session: GroupSession, rendered: Rendered) -> None:
    if session.lobby_message_id is None:
        return
    try:
        await bot.edit_message_text(
            rendered.text, chat_id=session.chat_id, message_id=session.lobby_message_id, reply_markup=rendered.markup
        )
    except BadRequest as error:
        if "not modified" not in error.message.lower():
            log.info("could not edit lobby %s: %s", session.lobby_message_id, error.message)
    except Forbidden:
        await close_group(svc, session.chat_id)
    except (NetworkError, RetryAfter) as error:
        # The lobby is only a list of names: an edit Telegram failed must not stop the first question from being
        # sent right after it (found by tests/telegram/test_group_faults.py: a 500 here lost question 1).
        log.info("could not edit lobby %s: %s", session.lobby_message_id, error)


async def refresh_lobby(bot: Bot, svc: BotServices, session: GroupSession, *, final: bool = False) -> None:
    """Show who has joined; `final` when the quiz starts (the Start button goes, Join stays)."""
    lang = await group_lang(svc, session.chat_id)
    members = await svc.group.members(session.id)
    starter = next((m.name for m in members if m.user_id == session.starter_id), "")
    rendered = svc.group_render.lobby(session, members, starter, lang, time.time())
    if final and rendered.markup is not None:
        join_only = [[rendered.markup.inline_keyboard[0][0]]]
        rendered = Rendered(rendered.text, type(rendered.markup)(join_only))
    await edit_lobby(bot, svc, session, rendered)


async def on_lobby_refresh(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Batched lobby update after people joined."""
    assert context.job is not None
    svc = services(context)
    session = await svc.group.get(str(context.job.data))
    if session is not None and session.phase is GroupPhase.LOBBY:
        await refresh_lobby(context.bot, svc, session)


def schedule_lobby_refresh(application: Application, session_id: str) -> None:
    assert application.job_queue is not None
    name = f"lobby:{session_id}"
    if not application.job_queue.get_jobs_by_name(name):
        application.job_queue.run_once(on_lobby_refresh, LOBBY_REFRESH_SECONDS, data=session_id, name=name)


async def may_control(context: Context, svc: BotServices, session: GroupSession, user: User) -> bool:
    """The starter or a group admin."""
    return user.id == session.starter_id or await svc.admins.is_admin(context.bot, session.chat_id, user.id)


# ---------------------------------------------------------------- commands


async def reply(update: Update, rendered: Rendered) -> Message | None:
    assert update.effective_chat is not None
    try:
        return await update.effective_chat.send_message(rendered.text, reply_markup=rendered.markup)
    except Forbidden:
        return None


async def group_quiz(update: Update, context: Context) -> None:
    """/quiz [topic] [count] in a group: open a lobby."""
    svc = services(context)
    chat, user = update.effective_chat, update.effective_user
    assert chat is not None and user is not None
    lang = await group_lang(svc, chat.id, lang_from_code(user.language_code, default=Lang.ZH_HANT))
    if await svc.group.active(chat.id) is not None:
        await reply(update, svc.group_render.text("group.running", lang))
        return
    count, words = svc.settings.quiz_length, []
    for arg in context.args or []:
        if arg.isascii() and arg.isdigit():  # not '²': str.isdigit() accepts digits int() refuses
            count = int(arg)
        else:
            words.append(arg)
    topic = None
    if words:
        found = svc.bank.find_topic(" ".join(words))
        if found is None:
            names = ", ".join(t.id for t in svc.bank.topics)
            await reply(
                update,
                svc.group_render.text("quiz.unknown_topic", lang, topic=echo_safe(" ".join(words)), topics=names),
            )
            return
        topic = found.id
    session = await svc.group.open(
        chat.id, starter_id=user.id, starter_name=display_name(user), topic=topic, count=count
    )
    if session is None:
        await reply(update, svc.group_render.text("quiz.no_questions", lang))
        return
    members = await svc.group.members(session.id)
    message = await reply(update, svc.group_render.lobby(session, members, display_name(user), lang, time.time()))
    if message is not None:
        await svc.group.note_messages(session.id, lobby=message.message_id)
    schedule(context.application, session)


async def controlled_session(update: Update, context: Context) -> tuple[BotServices, GroupSession, Lang] | None:
    """The group's open session if the sender started it or administers the group; else says why, returns None."""
    svc = services(context)
    chat, user = update.effective_chat, update.effective_user
    assert chat is not None and user is not None
    lang = await group_lang(svc, chat.id)
    session = await svc.group.active(chat.id)
    if session is None:
        await reply(update, svc.group_render.text("group.no_session", lang))
        return None
    if not await may_control(context, svc, session, user):
        await reply(update, svc.group_render.text("group.only_starter", lang))
        return None
    return svc, session, lang


async def group_stop(update: Update, context: Context) -> None:
    """/stop: the starter or an admin ends the quiz with the results so far."""
    controlled = await controlled_session(update, context)
    if controlled is None:
        return
    svc, session, lang = controlled
    chat, user = update.effective_chat, update.effective_user
    assert chat is not None and user is not None
    stopped = await svc.group.stop(session.id)
    if stopped is None:
        return
    cancel_jobs(context.application, session.id)
    if session.phase is GroupPhase.ASKING and session.question_message_id is not None:
        await stop_poll(context.bot, chat.id, session.question_message_id)
    if session.phase is GroupPhase.LOBBY:
        await edit_lobby(
            context.bot, svc, session, svc.group_render.text("group.stopped", lang, name=display_name(user))
        )
        return
    podium = svc.group_render.podium(await svc.group.podium(stopped), lang, stopped_by=display_name(user))
    await reply(update, podium)


async def group_skip(update: Update, context: Context) -> None:
    """/skip: the starter or an admin closes the open question now."""
    controlled = await controlled_session(update, context)
    if controlled is None:
        return
    svc, session, _ = controlled
    if session.phase is GroupPhase.LOBBY:
        await carry_out(context.application, svc, await svc.group.start_now(session.id))
    elif session.phase is GroupPhase.ASKING:
        await carry_out(context.application, svc, await svc.group.close_question(session.id, position=session.position))
    elif session.phase is GroupPhase.REVEALING:
        await carry_out(context.application, svc, await svc.group.due_now(session.id))


async def group_resume(update: Update, context: Context) -> None:
    """/resume a paused quiz."""
    svc = services(context)
    chat = update.effective_chat
    assert chat is not None
    session = await svc.group.active(chat.id)
    if session is None or session.phase is not GroupPhase.PAUSED:
        await reply(update, svc.group_render.text("group.no_session", await group_lang(svc, chat.id)))
        return
    await carry_out(context.application, svc, await svc.group.resume(session.id))


async def group_lang_command(update: Update, context: Context) -> None:
    """/lang in a group: admins choose the group's language."""
    svc = services(context)
    chat, user = update.effective_chat, update.effective_user
    assert chat is not None and user is not None
    lang = await group_lang(svc, chat.id)
    if not await svc.admins.is_admin(context.bot, chat.id, user.id):
        await reply(update, svc.group_render.text("group.only_admin", lang))
        return
    await reply(update, svc.group_render.languages(lang))


async def group_stats(update: Update, context: Context) -> None:
    """/stats in a group: its history."""
    svc = services(context)
    chat = update.effective_chat
    assert chat is not None
    lang = await group_lang(svc, chat.id)
    total, records = await svc.group.history(chat.id)
    await reply(update, svc.group_render.history(total, records, lang))


async def group_help(update: Update, context: Context) -> None:
    """/start or /help in a group: the introduction."""
    svc = services(context)
    chat = update.effective_chat
    assert chat is not None
    await reply(update, svc.group_render.intro(await group_lang(svc, chat.id)))


# ---------------------------------------------------------------- buttons and polls


async def group_button(update: Update, context: Context) -> None:
    """Join, Start, an answer, Resume, or a language, pressed in a group."""
    query = update.callback_query
    assert query is not None and query.from_user is not None
    svc = services(context)
    action = cb.parse(query.data)
    chat = query.message.chat if query.message is not None else None
    if action is None or chat is None or chat.type not in (chat.GROUP, chat.SUPERGROUP):
        # Group buttons only mean something in a group; checked before anything is looked up or stored.
        await query.answer(svc.t("notice.invalid", Lang.EN))
        return
    chat_id = chat.id
    lang = await group_lang(svc, chat_id)
    session = await svc.group.get(action.session_id) if action.session_id else None
    if action.session_id and (session is None or session.chat_id != chat_id):
        await query.answer(svc.t("notice.closed", lang))
        return
    if action.kind is Kind.JOIN:
        await press_join(context, svc, query, action, lang)
    elif action.kind is Kind.BEGIN:
        assert session is not None
        if not await may_control(context, svc, session, query.from_user):
            await query.answer(svc.t("group.only_starter", lang), show_alert=True)
            return
        await acknowledge(query)
        await carry_out(context.application, svc, await svc.group.start_now(session.id))
    elif action.kind is Kind.GROUP_ANSWER:
        await press_answer(context, svc, query, action, lang)
    elif action.kind is Kind.RESUME:
        await acknowledge(query)
        assert session is not None
        await carry_out(context.application, svc, await svc.group.resume(session.id))
    elif action.kind is Kind.GROUP_LANG:
        if not await svc.admins.is_admin(context.bot, chat_id, query.from_user.id):
            await query.answer(svc.t("group.only_admin", lang), show_alert=True)
            return
        chosen = Lang(action.value)
        info = await svc.group.group(chat_id, default_lang=chosen.value)
        await svc.group.save_group(replace(info, lang=chosen.value))
        await query.answer()
        await edit_query(query, svc.group_render.text("group.lang_set", chosen))
    else:
        await query.answer(svc.t("notice.invalid", lang))


async def acknowledge(query: CallbackQuery, text: str | None = None) -> None:
    """Answer a press whose work goes on afterwards. The answer only stops the button's spinner: when Telegram fails
    it (a 500, a dropped connection, 429s past the rate limiter's retries), the start, resume, join or answer that
    follows must still happen. Found by tests/telegram/test_group_faults.py: a 500 here used to cancel Start."""
    try:
        await query.answer(text)
    except TelegramError as error:
        log.info("could not answer a button press in a group: %s", error)


async def edit_query(query: CallbackQuery, rendered: Rendered) -> None:
    try:
        await query.edit_message_text(rendered.text, reply_markup=rendered.markup)
    except BadRequest as error:
        if "not modified" not in error.message.lower():
            raise


async def press_join(context: Context, svc: BotServices, query: CallbackQuery, action: Action, lang: Lang) -> None:
    joined = await svc.group.join(action.session_id, query.from_user.id, display_name(query.from_user))
    if joined is None:
        await query.answer(svc.t("notice.closed", lang))
        return
    await acknowledge(query, svc.t("group.joined" if joined else "group.already_joined", lang))
    if joined:
        session = await svc.group.get(action.session_id)
        if session is not None and session.phase is GroupPhase.LOBBY:
            schedule_lobby_refresh(context.application, session.id)


REFUSALS = {
    GroupRejection.NOT_OPEN: "group.answer_closed",
    GroupRejection.STALE: "group.answer_closed",
    GroupRejection.CLOSED: "notice.closed",
    GroupRejection.BAD_CHOICE: "notice.invalid",
}


async def press_answer(context: Context, svc: BotServices, query: CallbackQuery, action: Action, lang: Lang) -> None:
    user = query.from_user
    try:
        ack = await svc.group.answer(
            action.session_id, position=action.position, user_id=user.id, name=display_name(user), shown=action.option
        )
    except GroupMoveRejected as rejected:
        await query.answer(svc.t(REFUSALS.get(rejected.reason, "notice.invalid"), lang))
        return
    if not ack.recorded:
        await query.answer(svc.t("group.answer_already", lang))
        return
    await acknowledge(query, svc.t("group.answer_recorded", lang, letter=LETTERS[action.option]))
    if ack.everyone_answered:
        await carry_out(
            context.application, svc, await svc.group.close_question(action.session_id, position=action.position)
        )


async def poll_answer(update: Update, context: Context) -> None:
    """An answer to a group quiz poll. It carries no chat: the stored poll id leads to the session."""
    answer = update.poll_answer
    assert answer is not None
    user = answer.user
    if user is None:  # an anonymous voter on behalf of a chat: quiz polls here are never anonymous
        return
    svc = services(context)
    if await svc.group.poll_target(answer.poll_id) is None:
        # Maybe the poll is still being sent here, or another worker has just sent it: look again shortly.
        await svc.polls.wait_for(answer.poll_id)
        for _ in range(UNKNOWN_POLL_RETRIES):
            if await svc.group.poll_target(answer.poll_id) is not None:
                break
            await asyncio.sleep(UNKNOWN_POLL_WAIT)
        else:
            log.debug("answer to unknown poll %s ignored", answer.poll_id)
            return
    try:
        result = await svc.group.answer_poll(
            answer.poll_id, user_id=user.id, name=display_name(user), option_ids=list(answer.option_ids)
        )
    except GroupMoveRejected as rejected:
        log.debug("poll answer to %s refused: %s", answer.poll_id, rejected.reason)
        return
    if result is None:
        return
    session_id, ack = result
    if ack.recorded and ack.everyone_answered:
        target = await svc.group.poll_target(answer.poll_id)
        if target is not None:
            await carry_out(context.application, svc, await svc.group.close_question(session_id, position=target[1]))


# ---------------------------------------------------------------- membership


async def bot_membership(update: Update, context: Context) -> None:
    """The bot was added to or removed from a group."""
    change = update.my_chat_member
    assert change is not None
    svc = services(context)
    chat = change.chat
    if chat.type not in ("group", "supergroup"):
        return
    was_in = change.old_chat_member.status not in (ChatMemberStatus.LEFT, ChatMemberStatus.BANNED)
    is_in = change.new_chat_member.status not in (ChatMemberStatus.LEFT, ChatMemberStatus.BANNED)
    if is_in and not was_in:
        adder = change.from_user
        default = lang_from_code(adder.language_code if adder else None, default=Lang.ZH_HANT)
        info = await svc.group.group(
            chat.id, default_lang=default.value, title=chat.title or "", added_by=adder.id if adder else None
        )
        if not info.active:
            info = replace(info, active=True)
            await svc.group.save_group(info)
        await to_group(
            svc, chat.id, lambda c: context.bot.send_message(c, svc.group_render.intro(Lang(info.lang)).text)
        )
    elif was_in and not is_in:
        session = await svc.group.active(chat.id)
        if session is not None:
            cancel_jobs(context.application, session.id)
        await close_group(svc, chat.id)


async def group_migrated(update: Update, context: Context) -> None:
    """The group became a supergroup: its data follows it to the new chat id."""
    message = update.effective_message
    assert message is not None
    if message.migrate_to_chat_id:
        await services(context).group.migrate(message.chat.id, message.migrate_to_chat_id)


async def member_left(update: Update, context: Context) -> None:
    """A member left the group: they no longer count towards "everyone has answered"."""
    message = update.effective_message
    assert message is not None and message.left_chat_member is not None
    await services(context).group.member_left(message.chat.id, message.left_chat_member.id)
