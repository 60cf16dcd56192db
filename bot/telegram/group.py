"""Group-chat handlers: lobby, answers (poll or buttons), deadlines on PTB's JobQueue, admin controls, membership.

Deadlines live in the database; the JobQueue only wakes the bot at them (timers.py), and `restore_timers` re-arms
every open session after a restart. Each wake-up asks the service what is due; if another update already moved the
quiz on, the service answers "nothing" and the job does nothing.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from telegram import Bot, CallbackQuery, Chat, Message, Update, User
from telegram.constants import ChatMemberStatus
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TelegramError

from ..core.echo import echo_safe
from ..core.group import (
    Control,
    GroupMoveRejected,
    GroupPhase,
    GroupRejection,
    GroupSession,
    Sender,
    admin_control,
    may_control,
)
from ..core.lang import Lang, lang_from_code
from ..core.loader import counted
from ..services.group import NobodyJoined, QuestionStep, RevealStep, Step
from . import callbacks as cb
from . import timers
from .callbacks import Action, Kind
from .context import BotApplication, BotContext, BotServices
from .render import LETTERS, Rendered
from .sending import patiently

log = logging.getLogger(__name__)

T = TypeVar("T")
LOBBY_REFRESH_SECONDS = 3.0  # joins are shown in batches: one edit per few seconds, not one per person
RESTART_GRACE_SECONDS = 3.0
SWEEP_SECONDS = 2.0
# After a restart, let the backlog of answers arrive before a deadline fires.
UNKNOWN_POLL_RETRIES, UNKNOWN_POLL_WAIT = 3, 0.2
GONE_POLL = ("poll to stop not found", "poll has already been closed", "message with poll to stop not found")


# Telegram's stand-ins for a sender it does not show: a channel posting in its discussion group (Channel_Bot), an
# admin posting as the group (GroupAnonymousBot), a channel post forwarded there automatically (Telegram). Whoever
# is behind them, it is never one person: none of them becomes a player, a starter or an admin under these ids.
STAND_IN_ACCOUNTS = frozenset({136817688, 1087968824, 777000})


def display_name(user: User) -> str:
    """A person's name as the group sees it, cleaned as every echo is (`echo_safe`)."""
    return echo_safe(user.full_name) or echo_safe(f"@{user.username}" if user.username else "") or str(user.id)


def chat_name(chat: Chat) -> str:
    """A chat's name (a channel, or the group for an anonymous admin), cleaned as every echo is."""
    return echo_safe(chat.title or "") or echo_safe(f"@{chat.username}" if chat.username else "") or str(chat.id)


def sender_of(message: Message) -> Sender:
    """Who sent a group message: the chat it was sent on behalf of (`sender_chat`: a channel, or the group itself for
    an anonymous admin), else the person. Never the stand-in account Telegram puts in `from` for a chat."""
    if message.sender_chat is not None:
        return Sender(message.sender_chat.id, is_chat=True)
    assert message.from_user is not None
    return Sender(message.from_user.id)


def sender_name(message: Message) -> str:
    if message.sender_chat is not None:
        return chat_name(message.sender_chat)
    assert message.from_user is not None
    return display_name(message.from_user)


def deadline_timer(session_id: str) -> str:
    return f"group:{session_id}"


def lobby_timer(session_id: str) -> str:
    return f"lobby:{session_id}"


async def to_group(context: BotContext, chat_id: int, send: Callable[[int], Awaitable[T]]) -> T | None:
    """Send to a group, following it if it became a supergroup; a group that removed the bot ends its quiz.

    A send Telegram refused with a server error is made again; one that may have gone through (a dropped connection,
    a time-out) is not, as it could show twice. If it still fails, None: the quiz goes on (its next deadline is armed
    by the caller) rather than stalling, or, after the last reveal, losing its podium."""
    try:
        return await patiently(lambda: send(chat_id))
    except ChatMigrated as moved:
        new_id = moved.new_chat_id
        await context.group.migrate(chat_id, new_id)
        return await send(new_id)
    except Forbidden as error:
        log.info("group %s is closed to the bot (%s): ending its quiz", chat_id, error.message)
        await context.group.close_group(chat_id)
        return None
    except (NetworkError, RetryAfter) as error:
        if isinstance(error, BadRequest):
            raise
        log.warning("could not send to group %s: %s", chat_id, error)
        return None


# ---------------------------------------------------------------- timers


def schedule(application: BotApplication, session: GroupSession, *, at_least: float = 0.0) -> None:
    """Wake the bot at the session's deadline (replacing any earlier wake-up)."""
    timers.arm(application, deadline_timer(session.id), session.due_at, on_deadline, session.id, at_least=at_least)


async def restore_timers(application: BotApplication, services: BotServices) -> int:
    """After a start: every open session's deadline is armed again (overdue ones after a short grace)."""
    sessions = await services.group.live_sessions()
    for session in sessions:
        schedule(application, session, at_least=RESTART_GRACE_SECONDS)
    timers.sweep(
        application, "sweep", sweep_deadlines, every=SWEEP_SECONDS, first=RESTART_GRACE_SECONDS + SWEEP_SECONDS
    )
    if sessions:
        log.info("resumed %s from the store", counted(len(sessions), "group quiz session"))
    return len(sessions)


async def sweep_deadlines(context: BotContext) -> None:
    """Every worker looks for overdue sessions now and then, so a timer armed by a worker that died still fires.

    Several workers may find the same session: the version-checked move lets exactly one of them act. A session
    whose last move a worker is still showing (a reveal retried through Telegram's errors) is not found: its
    deadline only looks overdue, and moving on would put the next question above the reveal (found by
    tests/telegram/test_group_faults.py).
    """
    for session_id in await context.group.due_sessions():
        await carry_out(context, await context.group.due(session_id))


async def on_deadline(context: BotContext) -> None:
    """A session's deadline: lobby -> first question, question -> reveal, reveal -> next question."""
    await carry_out(context, await context.group.due(timers.job_data(context)))


# ---------------------------------------------------------------- showing a move


async def carry_out(context: BotContext, step: Step) -> None:
    """Show what a move produced, then arm the next deadline."""
    if step is None:
        return  # another move got there first
    async with context.group.showing(step.session.id):
        if isinstance(step, QuestionStep):
            await ask(context, step)
        elif isinstance(step, RevealStep):
            await show_reveal(context, step)
        elif isinstance(step, NobodyJoined):
            lang = await context.group.lang(step.session.chat_id)
            await edit_lobby(context, step.session, context.group_render.text("group.nobody", lang))


async def ask(context: BotContext, step: QuestionStep) -> None:
    session = step.session
    bot = context.bot
    lang = await context.group.lang(session.chat_id)
    if session.position == 0 and session.lobby_message_id is not None:
        await refresh_lobby(context, session, started=True)
    if context.group_render.fits_poll(step, lang):
        poll = context.group_render.poll(step, lang)
        async with context.polls.sending():
            message = await to_group(context, session.chat_id, lambda chat: bot.send_poll(chat, **poll.kwargs))
            if message is not None:
                # Noted before the poll is known, so no answer to it is scored on a clock that is about to move.
                session = await note_question(context, session, message)
                if message.poll is not None:
                    await context.group.map_poll(message.poll.id, session.id, session.position)
                    context.polls.known(message.poll.id)
    else:
        rendered = context.group_render.buttons_question(step, lang)
        message = await to_group(
            context, session.chat_id, lambda chat: bot.send_message(chat, rendered.text, reply_markup=rendered.markup)
        )
        if message is not None:
            session = await note_question(context, session, message)
    schedule(context.application, session)


async def note_question(context: BotContext, session: GroupSession, message: Message) -> GroupSession:
    """Remember the question's message; when it reached the group late, its clock (deadline, speed points) starts
    now. Returns the session as stored, which the timer follows."""
    noted = await context.group.note_messages(session.id, question=message.message_id, position=session.position)
    return noted or session


async def show_reveal(context: BotContext, step: RevealStep) -> None:
    bot = context.bot
    before = await context.group.get(step.session.id)
    session = before or step.session
    lang = await context.group.lang(session.chat_id)
    rendered = context.group_render.reveal(step, lang)
    message_id = session.question_message_id
    if context.group_render.fits_poll(step, lang):
        if message_id is not None:
            await stop_poll(bot, session.chat_id, message_id)
        await to_group(context, session.chat_id, lambda chat: bot.send_message(chat, rendered.text))
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
            await to_group(context, session.chat_id, lambda chat: bot.send_message(chat, rendered.text))
    after = step.session
    if after.phase is GroupPhase.REVEALING:
        schedule(context.application, after)
    elif after.phase is GroupPhase.PAUSED:
        paused = context.group_render.paused(after, lang)
        await to_group(
            context, after.chat_id, lambda chat: bot.send_message(chat, paused.text, reply_markup=paused.markup)
        )
    elif after.phase is GroupPhase.FINISHED:
        podium = context.group_render.podium(await context.group.podium(after), lang)
        await to_group(context, after.chat_id, lambda chat: bot.send_message(chat, podium.text))


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


async def edit_lobby(context: BotContext, session: GroupSession, rendered: Rendered) -> None:
    if session.lobby_message_id is None:
        return
    try:
        await context.bot.edit_message_text(
            rendered.text, chat_id=session.chat_id, message_id=session.lobby_message_id, reply_markup=rendered.markup
        )
    except BadRequest as error:
        if "not modified" not in error.message.lower():
            log.info("could not edit lobby %s: %s", session.lobby_message_id, error.message)
    except Forbidden:
        await context.group.close_group(session.chat_id)
    except (NetworkError, RetryAfter) as error:
        # The lobby is only a list of names: an edit Telegram failed must not stop the first question from being
        # sent right after it (found by tests/telegram/test_group_faults.py: a 500 here lost question 1).
        log.info("could not edit lobby %s: %s", session.lobby_message_id, error)


async def refresh_lobby(context: BotContext, session: GroupSession, *, started: bool = False) -> None:
    """Show who has joined; `started` when the quiz starts (the Start button goes, Join stays)."""
    lang = await context.group.lang(session.chat_id)
    members = await context.group.members(session.id)
    starter = next((m.name for m in members if m.user_id == session.starter_id and not session.starter_is_chat), "")
    rendered = context.group_render.lobby(session, members, starter, lang, time.time(), started=started)
    await edit_lobby(context, session, rendered)


async def on_lobby_refresh(context: BotContext) -> None:
    """Batched lobby update after people joined."""
    session = await context.group.get(timers.job_data(context))
    if session is not None and session.phase is GroupPhase.LOBBY:
        await refresh_lobby(context, session)


async def allowed(context: BotContext, chat_id: int, rule: Control, sender: Sender) -> bool:
    """A rule of `core.group` carried out: Telegram is asked whether the sender is an admin only when it decides."""
    if rule is Control.IF_ADMIN:
        return await context.admins.is_admin(context.bot, chat_id, sender.id)
    return rule is Control.YES


async def controls(context: BotContext, session: GroupSession, sender: Sender) -> bool:
    """The starter or a group admin (`core.group.may_control`: also for lobbies opened on behalf of a chat)."""
    return await allowed(context, session.chat_id, may_control(session, sender), sender)


# ---------------------------------------------------------------- commands


async def reply(update: Update, rendered: Rendered) -> Message | None:
    assert update.effective_chat is not None
    try:
        return await update.effective_chat.send_message(rendered.text, reply_markup=rendered.markup)
    except Forbidden:
        return None


# /quiz options, the same words in every language: one per accessible-play rule (`core.group.GroupRules`).
QUIZ_OPTIONS = ("accuracy", "noclock")


@dataclass(frozen=True, slots=True)
class QuizRequest:
    """What `/quiz` asked for: topic words, a question count and the accessible-play options."""

    words: list[str]
    count: int
    accuracy_only: bool = False
    no_clock: bool = False


def parse_quiz_args(args: list[str], *, default_count: int) -> QuizRequest | None:
    """`/quiz [topic] [count] [accuracy] [noclock]`: digits are the count, the two option words (any case, with or
    without leading dashes) switch the options on, anything else is the topic. None: a word with leading dashes that
    is not an option (say `--fast`), which is refused rather than taken for a topic."""
    count, words, options = default_count, [], set()
    for arg in args:
        word = arg.lower().lstrip("-")
        if arg.isascii() and arg.isdigit():  # not '²': str.isdigit() accepts digits int() refuses
            count = int(arg)
        elif word in QUIZ_OPTIONS:
            options.add(word)
        elif arg.startswith("-"):
            return None
        else:
            words.append(arg)
    return QuizRequest(words=words, count=count, accuracy_only="accuracy" in options, no_clock="noclock" in options)


async def group_quiz(update: Update, context: BotContext) -> None:
    """/quiz [topic] [count] [accuracy] [noclock] in a group: open a lobby (`parse_quiz_args`). Sent on behalf of a
    chat (a channel, an anonymous admin), the lobby has no personal starter and nobody joins with it: see
    `core.group.may_control` for who controls it."""
    chat, user, message = update.effective_chat, update.effective_user, update.effective_message
    assert chat is not None and user is not None and message is not None
    render = context.group_render
    lang = await context.group.lang(chat.id, default=lang_from_code(user.language_code, default=Lang.ZH_HANT))
    if await context.group.active(chat.id) is not None:
        await reply(update, render.text("group.running", lang))
        return
    wanted = parse_quiz_args(context.args or [], default_count=context.settings.quiz_length)
    if wanted is None:
        await reply(update, render.text("group.quiz_usage", lang))
        return
    words = wanted.words
    topic = None
    if words:
        found = context.bank.find_topic(" ".join(words))
        if found is None:
            await reply(update, render.unknown_topic(echo_safe(" ".join(words)), lang))
            return
        topic = found.id
    starter, starter_name = sender_of(message), sender_name(message)
    session = await context.group.open(
        chat.id,
        starter_id=starter.id,
        starter_name=starter_name,
        starter_is_chat=starter.is_chat,
        topic=topic,
        count=wanted.count,
        accuracy_only=wanted.accuracy_only,
        no_clock=wanted.no_clock,
    )
    if session is None:
        await reply(update, render.text("quiz.no_questions", lang))
        return
    members = await context.group.members(session.id)
    lobby = await reply(update, render.lobby(session, members, starter_name, lang, time.time()))
    if lobby is not None:
        await context.group.note_messages(session.id, lobby=lobby.message_id)
    schedule(context.application, session)


async def controlled_session(update: Update, context: BotContext) -> tuple[GroupSession, Lang] | None:
    """The group's open session if the sender started it or administers the group; else says why, returns None."""
    chat, message = update.effective_chat, update.effective_message
    assert chat is not None and message is not None
    lang = await context.group.lang(chat.id)
    session = await context.group.active(chat.id)
    if session is None:
        await reply(update, context.group_render.text("group.no_session", lang))
        return None
    if not await controls(context, session, sender_of(message)):
        await reply(update, context.group_render.text("group.only_starter", lang))
        return None
    return session, lang


async def group_stop(update: Update, context: BotContext) -> None:
    """/stop: the starter or an admin ends the quiz with the results so far."""
    controlled = await controlled_session(update, context)
    if controlled is None:
        return
    session, lang = controlled
    chat, message = update.effective_chat, update.effective_message
    assert chat is not None and message is not None
    stopped_by = sender_name(message)
    stopped = await context.group.stop(session.id)
    if stopped is None:
        return
    timers.disarm(context.application, deadline_timer(session.id), lobby_timer(session.id))
    if session.phase is GroupPhase.ASKING and session.question_message_id is not None:
        await stop_poll(context.bot, chat.id, session.question_message_id)
    if session.phase is GroupPhase.LOBBY:
        await edit_lobby(context, session, context.group_render.text("group.stopped", lang, name=stopped_by))
        return
    podium = context.group_render.podium(await context.group.podium(stopped), lang, stopped_by=stopped_by)
    await reply(update, podium)


async def group_skip(update: Update, context: BotContext) -> None:
    """/skip: the starter or an admin closes the open question now."""
    controlled = await controlled_session(update, context)
    if controlled is not None:
        session, _ = controlled
        await carry_out(context, await context.group.skip(session))


async def group_resume(update: Update, context: BotContext) -> None:
    """/resume a paused quiz."""
    chat = update.effective_chat
    assert chat is not None
    session = await context.group.active(chat.id)
    if session is None or session.phase is not GroupPhase.PAUSED:
        await reply(update, context.group_render.text("group.no_session", await context.group.lang(chat.id)))
        return
    await carry_out(context, await context.group.resume(session.id))


async def group_lang_command(update: Update, context: BotContext) -> None:
    """/lang in a group: admins choose the group's language (an anonymous admin too; a channel not)."""
    chat, message = update.effective_chat, update.effective_message
    assert chat is not None and message is not None
    lang = await context.group.lang(chat.id)
    sender = sender_of(message)
    if not await allowed(context, chat.id, admin_control(sender, chat.id), sender):
        await reply(update, context.group_render.text("group.only_admin", lang))
        return
    await reply(update, context.group_render.languages(lang))


async def group_stats(update: Update, context: BotContext) -> None:
    """/stats in a group: its history and what its answers show it learned."""
    chat = update.effective_chat
    assert chat is not None
    lang = await context.group.lang(chat.id)
    await reply(update, context.group_render.stats(await context.group.stats(chat.id), lang))


async def group_help(update: Update, context: BotContext) -> None:
    """/start or /help in a group: the introduction."""
    chat = update.effective_chat
    assert chat is not None
    await reply(update, context.group_render.intro(await context.group.lang(chat.id)))


# ---------------------------------------------------------------- buttons and polls


async def group_button(update: Update, context: BotContext) -> None:
    """Join, Start, an answer, Resume, or a language, pressed in a group."""
    query = update.callback_query
    assert query is not None and query.from_user is not None
    action = cb.parse(query.data)
    chat = query.message.chat if query.message is not None else None
    if action is None or chat is None or chat.type not in (chat.GROUP, chat.SUPERGROUP):
        # Group buttons only mean something in a group; checked before anything is looked up or stored.
        await query.answer(context.t("notice.invalid", Lang.EN))
        return
    chat_id = chat.id
    lang = await context.group.lang(chat_id)
    if query.from_user.id in STAND_IN_ACCOUNTS:
        # A press always carries the person who made it; should one ever come from a stand-in, it plays for nobody.
        await query.answer(context.t("notice.invalid", lang))
        return
    session = await context.group.get(action.session_id) if action.session_id else None
    if action.session_id and (session is None or session.chat_id != chat_id):
        await query.answer(context.t("notice.closed", lang))
        return
    if action.kind is Kind.JOIN:
        await press_join(context, query, action, lang)
    elif action.kind is Kind.BEGIN:
        assert session is not None
        if not await controls(context, session, Sender(query.from_user.id)):
            await query.answer(context.t("group.only_starter", lang), show_alert=True)
            return
        await acknowledge(query)
        await carry_out(context, await context.group.start_now(session.id))
    elif action.kind is Kind.GROUP_ANSWER:
        await press_answer(context, query, action, lang)
    elif action.kind is Kind.RESUME:
        await acknowledge(query)
        assert session is not None
        await carry_out(context, await context.group.resume(session.id))
    elif action.kind is Kind.GROUP_LANG:
        if not await context.admins.is_admin(context.bot, chat_id, query.from_user.id):
            await query.answer(context.t("group.only_admin", lang), show_alert=True)
            return
        chosen = Lang(action.value)
        await context.group.set_lang(chat_id, chosen)
        await query.answer()
        await edit_query(query, context.group_render.text("group.lang_set", chosen))
    else:
        await query.answer(context.t("notice.invalid", lang))


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


async def press_join(context: BotContext, query: CallbackQuery, action: Action, lang: Lang) -> None:
    joined = await context.group.join(action.session_id, query.from_user.id, display_name(query.from_user))
    if joined is None:
        await query.answer(context.t("notice.closed", lang))
        return
    await acknowledge(query, context.t("group.joined" if joined.new else "group.already_joined", lang))
    if joined.in_lobby:
        timers.batch(
            context.application,
            lobby_timer(action.session_id),
            LOBBY_REFRESH_SECONDS,
            on_lobby_refresh,
            action.session_id,
        )


REFUSALS = {
    GroupRejection.NOT_OPEN: "group.answer_closed",
    GroupRejection.STALE: "group.answer_closed",
    GroupRejection.CLOSED: "notice.closed",
    GroupRejection.BAD_CHOICE: "notice.invalid",
}


async def press_answer(context: BotContext, query: CallbackQuery, action: Action, lang: Lang) -> None:
    user = query.from_user
    try:
        ack = await context.group.answer(
            action.session_id, position=action.position, user_id=user.id, name=display_name(user), shown=action.option
        )
    except GroupMoveRejected as rejected:
        await query.answer(context.t(REFUSALS.get(rejected.reason, "notice.invalid"), lang))
        return
    if not ack.recorded:
        await query.answer(context.t("group.answer_already", lang))
        return
    await acknowledge(query, context.t("group.answer_recorded", lang, letter=LETTERS[action.option]))
    if ack.everyone_answered:
        await carry_out(context, await context.group.close_question(action.session_id, position=action.position))


async def poll_answer(update: Update, context: BotContext) -> None:
    """An answer to a group quiz poll. It carries no chat: the stored poll id leads to the session."""
    answer = update.poll_answer
    assert answer is not None
    user = answer.user
    if user is None or answer.voter_chat is not None or user.id in STAND_IN_ACCOUNTS:
        # A vote on behalf of a chat (a channel): Telegram still fills `user` with Channel_Bot, for old clients.
        # Nobody plays as a channel, so it is not counted (and nothing is said: a poll answer comes from no chat).
        return
    if await context.group.poll_target(answer.poll_id) is None:
        # Maybe the poll is still being sent here, or another worker has just sent it: look again shortly.
        await context.polls.wait_for(answer.poll_id)
        for _ in range(UNKNOWN_POLL_RETRIES):
            if await context.group.poll_target(answer.poll_id) is not None:
                break
            await asyncio.sleep(UNKNOWN_POLL_WAIT)
        else:
            log.debug("answer to unknown poll %s ignored", answer.poll_id)
            return
    try:
        answered = await context.group.answer_poll(
            answer.poll_id, user_id=user.id, name=display_name(user), option_ids=list(answer.option_ids)
        )
    except GroupMoveRejected as rejected:
        log.debug("poll answer to %s refused: %s", answer.poll_id, rejected.reason)
        return
    if answered is not None and answered.ack.recorded and answered.ack.everyone_answered:
        step = await context.group.close_question(answered.session_id, position=answered.position)
        await carry_out(context, step)


# ---------------------------------------------------------------- membership


async def bot_membership(update: Update, context: BotContext) -> None:
    """The bot was added to or removed from a group."""
    change = update.my_chat_member
    assert change is not None
    chat = change.chat
    if chat.type not in ("group", "supergroup"):
        return
    was_in = change.old_chat_member.status not in (ChatMemberStatus.LEFT, ChatMemberStatus.BANNED)
    is_in = change.new_chat_member.status not in (ChatMemberStatus.LEFT, ChatMemberStatus.BANNED)
    if is_in and not was_in:
        adder = change.from_user
        info = await context.group.bot_added(
            chat.id,
            default_lang=lang_from_code(adder.language_code if adder else None, default=Lang.ZH_HANT),
            title=chat.title or "",
            added_by=adder.id if adder else None,
        )
        intro = context.group_render.intro(Lang(info.lang))
        await to_group(context, chat.id, lambda c: context.bot.send_message(c, intro.text))
    elif was_in and not is_in:
        session = await context.group.active(chat.id)
        if session is not None:
            timers.disarm(context.application, deadline_timer(session.id), lobby_timer(session.id))
        await context.group.close_group(chat.id)


async def group_migrated(update: Update, context: BotContext) -> None:
    """The group became a supergroup: its data follows it to the new chat id."""
    message = update.effective_message
    assert message is not None
    if message.migrate_to_chat_id:
        await context.group.migrate(message.chat.id, message.migrate_to_chat_id)


async def member_left(update: Update, context: BotContext) -> None:
    """A member left the group: they no longer count towards "everyone has answered"."""
    message = update.effective_message
    assert message is not None and message.left_chat_member is not None
    await context.group.member_left(message.chat.id, message.left_chat_member.id)
