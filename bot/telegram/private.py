"""Private-chat handlers: commands, menu buttons and the quiz itself. Each handler is thin: the services decide,
the renderer formats, and these functions only carry an update to one and the result to the other."""

from __future__ import annotations

import contextlib
import logging
from dataclasses import replace

from telegram import BotCommandScopeChat, CallbackQuery, Update
from telegram.error import TelegramError

from ..core.echo import echo_safe
from ..core.engine import MoveRejected, QuizMode, QuizSpec, Rejection, UserId
from ..core.lang import Lang
from ..core.users import UserProfile
from ..services import NothingToReview, ResultView, RevealView
from . import callbacks as cb
from . import drill
from .callbacks import Action, Kind, MenuItem
from .commands import command_menu
from .context import BotContext, profile_of
from .sending import drop_keyboard, edit, send

log = logging.getLogger(__name__)

NOTICES = {
    Rejection.STALE: "notice.stale",
    Rejection.ALREADY_ANSWERED: "notice.already",
    Rejection.NOT_RATING: "notice.stale",
    Rejection.NOT_REVEALED: "notice.stale",
    Rejection.BAD_CHOICE: "notice.invalid",
    Rejection.CLOSED: "notice.closed",
    Rejection.NOT_YOURS: "notice.not_yours",
}
# Refusals that mean "this message is behind the quiz": showing the current step again repairs a lost edit.
RESYNC = frozenset({Rejection.ALREADY_ANSWERED, Rejection.NOT_RATING, Rejection.NOT_REVEALED})
# Deep-link payloads (t.me/<bot>?start=PAYLOAD) this module answers; drills add their own.
TOPIC_LINK_PREFIX = "topic-"


async def start(update: Update, context: BotContext) -> None:
    """Greet in the person's language and offer the menu; route deep-link payloads."""
    profile = await profile_of(update, context)
    payload = context.args[0] if context.args else ""
    if payload == "quiz":
        await begin_quiz(update, context, profile, QuizSpec(count=context.settings.quiz_length))
        return
    if payload == "review":
        await begin_quiz(update, context, profile, QuizSpec(mode=QuizMode.REVIEW, count=context.settings.quiz_length))
        return
    if payload.startswith(TOPIC_LINK_PREFIX) and context.bank.topic(payload.removeprefix(TOPIC_LINK_PREFIX)):
        topic = payload.removeprefix(TOPIC_LINK_PREFIX)
        await begin_quiz(
            update, context, profile, QuizSpec(mode=QuizMode.TOPIC, topic=topic, count=context.settings.quiz_length)
        )
        return
    if payload and drill.looks_like_code(payload):
        await drill.join_flow(update, context, profile, payload)
        return
    if payload:
        log.info("unknown deep-link payload from user %s: %r", profile.id, payload[:64])
    user = update.effective_user
    # Their own name, cleaned as every echo is: an override character in it must not reverse the bot's line.
    await send(update, context.render.greeting(echo_safe(user.first_name) if user else "", profile.lang))
    if profile.lang is Lang.ZH_HANS and update.effective_chat is not None:
        await set_chat_menu(context, update.effective_chat.id, profile.lang)


async def help_command(update: Update, context: BotContext) -> None:
    """List the commands."""
    profile = await profile_of(update, context)
    await send(update, context.render.text_with_menu("help.text", profile.lang))


async def quiz_command(update: Update, context: BotContext) -> None:
    """Start a quick quiz, or one on the topic given after the command."""
    profile = await profile_of(update, context)
    wanted = " ".join(context.args or [])
    if not wanted:
        await begin_quiz(update, context, profile, QuizSpec(count=context.settings.quiz_length))
        return
    topic = context.bank.find_topic(wanted)
    if topic is None:
        await send(update, context.render.unknown_topic(echo_safe(wanted), profile.lang))
        return
    await begin_quiz(
        update, context, profile, QuizSpec(mode=QuizMode.TOPIC, topic=topic.id, count=context.settings.quiz_length)
    )


async def topics_command(update: Update, context: BotContext) -> None:
    """Offer the topics as buttons."""
    profile = await profile_of(update, context)
    await send(update, context.render.topics(profile.lang))


async def review_command(update: Update, context: BotContext) -> None:
    """Start a review of missed questions."""
    profile = await profile_of(update, context)
    await begin_quiz(update, context, profile, QuizSpec(mode=QuizMode.REVIEW, count=context.settings.quiz_length))


async def stats_command(update: Update, context: BotContext) -> None:
    """Show the person's progress."""
    profile = await profile_of(update, context)
    await send(update, context.render.progress(await context.quiz.progress(profile.id), profile.lang))


async def lang_command(update: Update, context: BotContext) -> None:
    """Offer the languages."""
    profile = await profile_of(update, context)
    await send(update, context.render.languages(profile.lang))


async def cancel_command(update: Update, context: BotContext) -> None:
    """Stop the current quiz; answers so far are kept."""
    profile = await profile_of(update, context)
    result = await context.quiz.cancel(profile.id)
    if result is None:
        await send(update, context.render.text("cancel.none", profile.lang))
        return
    await send(update, context.render.result(result, profile.lang, stopped=True))


async def forget_command(update: Update, context: BotContext) -> None:
    """Ask for confirmation before deleting everything about the person."""
    profile = await profile_of(update, context)
    await send(update, context.render.forget_confirm(profile.lang))


async def fallback_text(update: Update, context: BotContext) -> None:
    """Free text, stickers, photos...: a drill nickname if one is owed, else a pointer to /quiz and /help."""
    if await drill.take_nickname(update, context):
        return
    profile = await profile_of(update, context)
    await send(update, context.render.text("fallback.text", profile.lang))


async def unknown_command(update: Update, context: BotContext) -> None:
    """A command the bot does not have."""
    profile = await profile_of(update, context)
    await send(update, context.render.text("fallback.command", profile.lang))


async def begin_quiz(update: Update, context: BotContext, profile: UserProfile, spec: QuizSpec) -> None:
    spec = replace(spec, ask_confidence=profile.ask_confidence)
    step = await context.quiz.start(profile.id, spec)
    lang = profile.lang
    if step is None:
        await send(update, context.render.text("quiz.no_questions", lang))
    elif isinstance(step, NothingToReview):
        await send(update, context.render.text_with_menu("review.empty", lang))
    else:
        await send(update, context.render.question(step, lang))


async def button(update: Update, context: BotContext) -> None:
    """Every inline button in private chat: parse strictly, act, answer the callback query."""
    query = update.callback_query
    assert query is not None
    action = cb.parse(query.data)
    if action is None or query.message is None:
        lang = (await profile_of(update, context)).lang
        await query.answer(context.t("notice.invalid", lang))
        return
    if action.kind is Kind.FORGET:
        await forget_answer(update, context, query, action)
        return
    profile = await profile_of(update, context)
    try:
        notice = await act(update, context, profile, query, action)
    except MoveRejected as rejected:
        await query.answer(context.t(NOTICES[rejected.reason], profile.lang))
        if rejected.reason in RESYNC:
            await resync(context, profile, query, action)
        return
    except Exception:
        # The move is stored; only showing it failed (Telegram 5xx, network). Stop the button's spinner anyway:
        # pressing again brings the message up to date.
        with contextlib.suppress(TelegramError):
            await query.answer(context.t("notice.error", profile.lang))
        raise
    await query.answer(notice)


async def act(
    update: Update, context: BotContext, profile: UserProfile, query: CallbackQuery, action: Action
) -> str | None:
    """Carry out one parsed button press; returns the short notice to answer with, if any."""
    lang = profile.lang
    if action.kind is Kind.ANSWER:
        step = await context.quiz.choose(profile.id, action.session_id, position=action.position, shown=action.option)
        if isinstance(step, RevealView):  # scored now (no "how sure?" step): a drill's panel counts it
            await drill.answered_privately(context, profile.id, action.session_id)
        await edit(query, context.render.step(step, lang))
    elif action.kind is Kind.CONFIDENCE:
        reveal = await context.quiz.rate(
            profile.id, action.session_id, position=action.position, confidence=action.confidence
        )
        await drill.answered_privately(context, profile.id, action.session_id)
        await edit(query, context.render.reveal(reveal, lang))
    elif action.kind is Kind.NEXT:
        following = await context.quiz.next(profile.id, action.session_id, position=action.position)
        await drop_keyboard(query)
        if isinstance(following, ResultView):
            await send(update, context.render.result(following, lang))
        else:
            await send(update, context.render.question(following, lang))
    elif action.kind is Kind.MENU:
        await menu_choice(update, context, profile, MenuItem(action.value))
    elif action.kind is Kind.TOPIC:
        if context.bank.topic(action.value) is None:
            return context.t("notice.invalid", lang)
        spec = QuizSpec(mode=QuizMode.TOPIC, topic=action.value, count=context.settings.quiz_length)
        await begin_quiz(update, context, profile, spec)
    elif action.kind is Kind.LANG:
        chosen = Lang(action.value)
        await context.quiz.update_user(replace(profile, lang=chosen))
        await edit(query, context.render.text("lang.set", chosen))
        if query.message is not None:
            await set_chat_menu(context, query.message.chat.id, chosen)
    return None


async def menu_choice(update: Update, context: BotContext, profile: UserProfile, item: MenuItem) -> None:
    lang = profile.lang
    if item is MenuItem.QUICK:
        await begin_quiz(update, context, profile, QuizSpec(count=context.settings.quiz_length))
    elif item is MenuItem.REVIEW:
        await begin_quiz(update, context, profile, QuizSpec(mode=QuizMode.REVIEW, count=context.settings.quiz_length))
    elif item is MenuItem.TOPICS:
        await send(update, context.render.topics(lang))
    elif item is MenuItem.STATS:
        await send(update, context.render.progress(await context.quiz.progress(profile.id), lang))
    else:
        await send(update, context.render.languages(lang))


async def resync(context: BotContext, profile: UserProfile, query: CallbackQuery, action: Action) -> None:
    """Show the quiz's current step on the pressed message when it is that step's message but fell behind."""
    current = await context.quiz.current(profile.id)
    if current is None:
        return
    view = current.view if isinstance(current, RevealView) else current
    if view.session_id == action.session_id and view.position == action.position:
        await edit(query, context.render.step(current, profile.lang))


async def forget_answer(update: Update, context: BotContext, query: CallbackQuery, action: Action) -> None:
    """Delete everything about the person, or keep it; never recreates the profile it deletes."""
    user = update.effective_user
    assert user is not None
    lang = await context.quiz.known_lang(UserId(user.id)) or Lang.EN
    if action.value == "yes":
        await context.quiz.forget(UserId(user.id))
        await edit(query, context.render.text("forget.done", lang))
    else:
        await edit(query, context.render.text("forget.kept", lang))
    await query.answer()


async def set_chat_menu(context: BotContext, chat_id: int, lang: Lang) -> None:
    """Give one chat its own command menu: Telegram's `language_code` menus can't tell the two Chinese scripts apart."""
    try:
        await context.bot.set_my_commands(command_menu(context.t, lang), scope=BotCommandScopeChat(chat_id))
    except TelegramError as error:
        log.warning("could not set the command menu for chat %s: %s", chat_id, error)
