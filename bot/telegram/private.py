"""Private-chat handlers: commands, menu buttons and the quiz itself. Each handler is thin: the services decide,
the renderer formats, and these functions only carry an update to one and the result to the other."""

from __future__ import annotations

import contextlib
import logging
from dataclasses import replace

from telegram import BotCommandScopeChat, CallbackQuery, Update
from telegram.error import TelegramError

from ..core.engine import MoveRejected, QuizMode, QuizSpec, Rejection, UserId
from ..core.lang import Lang
from ..core.users import UserProfile
from ..services import NothingToReview, ResultView, RevealView
from . import callbacks as cb
from . import drill
from .callbacks import Action, Kind, MenuItem
from .commands import command_menu
from .context import BotServices, Context, profile_of, services
from .sending import drop_keyboard, echo_safe, edit, send

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


async def start(update: Update, context: Context) -> None:
    """Greet in the person's language and offer the menu; route deep-link payloads."""
    svc = services(context)
    profile = await profile_of(update, svc)
    payload = context.args[0] if context.args else ""
    if payload == "quiz":
        await begin_quiz(update, svc, profile, QuizSpec(count=svc.settings.quiz_length))
        return
    if payload == "review":
        await begin_quiz(update, svc, profile, QuizSpec(mode=QuizMode.REVIEW, count=svc.settings.quiz_length))
        return
    if payload.startswith(TOPIC_LINK_PREFIX) and svc.bank.topic(payload.removeprefix(TOPIC_LINK_PREFIX)):
        topic = payload.removeprefix(TOPIC_LINK_PREFIX)
        await begin_quiz(
            update, svc, profile, QuizSpec(mode=QuizMode.TOPIC, topic=topic, count=svc.settings.quiz_length)
        )
        return
    if payload and drill.looks_like_code(payload):
        await drill.join_flow(update, svc, profile, payload)
        return
    if payload:
        log.info("unknown deep-link payload from user %s: %r", profile.id, payload[:64])
    user = update.effective_user
    await send(update, svc.render.greeting(user.first_name if user else "", profile.lang))
    if profile.lang is Lang.ZH_HANS:
        await set_chat_menu(context, update.effective_chat.id, profile.lang)


async def help_command(update: Update, context: Context) -> None:
    """List the commands."""
    svc = services(context)
    profile = await profile_of(update, svc)
    await send(update, replace(svc.render.text("help.text", profile.lang), markup=svc.render.menu(profile.lang)))


async def quiz_command(update: Update, context: Context) -> None:
    """Start a quick quiz, or one on the topic given after the command."""
    svc = services(context)
    profile = await profile_of(update, svc)
    wanted = " ".join(context.args or [])
    if not wanted:
        await begin_quiz(update, svc, profile, QuizSpec(count=svc.settings.quiz_length))
        return
    topic = svc.bank.find_topic(wanted)
    if topic is None:
        names = ", ".join(t.id for t in svc.bank.topics)
        notice = svc.render.text("quiz.unknown_topic", profile.lang, topic=echo_safe(wanted), topics=names)
        await send(update, replace(svc.render.topics(profile.lang), text=notice.text))
        return
    await begin_quiz(
        update, svc, profile, QuizSpec(mode=QuizMode.TOPIC, topic=topic.id, count=svc.settings.quiz_length)
    )


async def topics_command(update: Update, context: Context) -> None:
    """Offer the topics as buttons."""
    svc = services(context)
    profile = await profile_of(update, svc)
    await send(update, svc.render.topics(profile.lang))


async def review_command(update: Update, context: Context) -> None:
    """Start a review of missed questions."""
    svc = services(context)
    profile = await profile_of(update, svc)
    await begin_quiz(update, svc, profile, QuizSpec(mode=QuizMode.REVIEW, count=svc.settings.quiz_length))


async def stats_command(update: Update, context: Context) -> None:
    """Show the person's progress."""
    svc = services(context)
    profile = await profile_of(update, svc)
    await send(update, svc.render.progress(await svc.quiz.progress(profile.id), profile.lang))


async def lang_command(update: Update, context: Context) -> None:
    """Offer the languages."""
    svc = services(context)
    profile = await profile_of(update, svc)
    await send(update, svc.render.languages(profile.lang))


async def cancel_command(update: Update, context: Context) -> None:
    """Stop the current quiz; answers so far are kept."""
    svc = services(context)
    profile = await profile_of(update, svc)
    result = await svc.quiz.cancel(profile.id)
    if result is None:
        await send(update, svc.render.text("cancel.none", profile.lang))
        return
    await send(update, svc.render.result(result, profile.lang, stopped=True))


async def forget_command(update: Update, context: Context) -> None:
    """Ask for confirmation before deleting everything about the person."""
    svc = services(context)
    profile = await profile_of(update, svc)
    await send(update, svc.render.forget_confirm(profile.lang))


async def fallback_text(update: Update, context: Context) -> None:
    """Free text, stickers, photos...: a drill nickname if one is owed, else a pointer to /quiz and /help."""
    if await drill.take_nickname(update, context):
        return
    svc = services(context)
    profile = await profile_of(update, svc)
    await send(update, svc.render.text("fallback.text", profile.lang))


async def unknown_command(update: Update, context: Context) -> None:
    """A command the bot does not have."""
    svc = services(context)
    profile = await profile_of(update, svc)
    await send(update, svc.render.text("fallback.command", profile.lang))


async def begin_quiz(update: Update, svc: BotServices, profile: UserProfile, spec: QuizSpec) -> None:
    spec = replace(spec, ask_confidence=profile.ask_confidence)
    step = await svc.quiz.start(profile.id, spec)
    lang = profile.lang
    if step is None:
        await send(update, svc.render.text("quiz.no_questions", lang))
    elif isinstance(step, NothingToReview):
        await send(update, replace(svc.render.text("review.empty", lang), markup=svc.render.menu(lang)))
    else:
        await send(update, svc.render.question(step, lang))


async def button(update: Update, context: Context) -> None:
    """Every inline button in private chat: parse strictly, act, answer the callback query."""
    query = update.callback_query
    assert query is not None
    svc = services(context)
    action = cb.parse(query.data)
    if action is None or query.message is None:
        lang = (await profile_of(update, svc)).lang
        await query.answer(svc.t("notice.invalid", lang))
        return
    if action.kind is Kind.FORGET:
        await forget_answer(update, svc, query, action)
        return
    profile = await profile_of(update, svc)
    try:
        notice = await act(update, context, svc, profile, query, action)
    except MoveRejected as rejected:
        await query.answer(svc.t(NOTICES[rejected.reason], profile.lang))
        if rejected.reason in RESYNC:
            await resync(svc, profile, query, action)
        return
    except Exception:
        # The move is stored; only showing it failed (Telegram 5xx, network). Stop the button's spinner anyway:
        # pressing again brings the message up to date.
        with contextlib.suppress(TelegramError):
            await query.answer(svc.t("notice.error", profile.lang))
        raise
    await query.answer(notice)


async def act(
    update: Update, context: Context, svc: BotServices, profile: UserProfile, query: CallbackQuery, action: Action
) -> str | None:
    """Carry out one parsed button press; returns the short notice to answer with, if any."""
    lang = profile.lang
    if action.kind is Kind.ANSWER:
        step = await svc.quiz.choose(profile.id, action.session_id, position=action.position, shown=action.option)
        await edit(query, svc.render.step(step, lang))
    elif action.kind is Kind.CONFIDENCE:
        reveal = await svc.quiz.rate(
            profile.id, action.session_id, position=action.position, confidence=action.confidence
        )
        await edit(query, svc.render.reveal(reveal, lang))
    elif action.kind is Kind.NEXT:
        following = await svc.quiz.next(profile.id, action.session_id, position=action.position)
        await drop_keyboard(query)
        if isinstance(following, ResultView):
            await send(update, svc.render.result(following, lang))
        else:
            await send(update, svc.render.question(following, lang))
    elif action.kind is Kind.MENU:
        await menu_choice(update, svc, profile, MenuItem(action.value))
    elif action.kind is Kind.TOPIC:
        if svc.bank.topic(action.value) is None:
            return svc.t("notice.invalid", lang)
        spec = QuizSpec(mode=QuizMode.TOPIC, topic=action.value, count=svc.settings.quiz_length)
        await begin_quiz(update, svc, profile, spec)
    elif action.kind is Kind.LANG:
        chosen = Lang(action.value)
        await svc.quiz.update_user(replace(profile, lang=chosen))
        await edit(query, svc.render.text("lang.set", chosen))
        await set_chat_menu(context, query.message.chat.id, chosen)
    return None


async def menu_choice(update: Update, svc: BotServices, profile: UserProfile, item: MenuItem) -> None:
    lang = profile.lang
    if item is MenuItem.QUICK:
        await begin_quiz(update, svc, profile, QuizSpec(count=svc.settings.quiz_length))
    elif item is MenuItem.REVIEW:
        await begin_quiz(update, svc, profile, QuizSpec(mode=QuizMode.REVIEW, count=svc.settings.quiz_length))
    elif item is MenuItem.TOPICS:
        await send(update, svc.render.topics(lang))
    elif item is MenuItem.STATS:
        await send(update, svc.render.progress(await svc.quiz.progress(profile.id), lang))
    else:
        await send(update, svc.render.languages(lang))


async def resync(svc: BotServices, profile: UserProfile, query: CallbackQuery, action: Action) -> None:
    """Show the quiz's current step on the pressed message when it is that step's message but fell behind."""
    current = await svc.quiz.current(profile.id)
    if current is None:
        return
    view = current.view if isinstance(current, RevealView) else current
    if view.session_id == action.session_id and view.position == action.position:
        await edit(query, svc.render.step(current, profile.lang))


async def forget_answer(update: Update, svc: BotServices, query: CallbackQuery, action: Action) -> None:
    """Delete everything about the person, or keep it; never recreates the profile it deletes."""
    user = update.effective_user
    assert user is not None
    stored = await svc.quiz.storage.get_user(UserId(user.id))
    lang = stored.lang if stored else Lang.EN
    if action.value == "yes":
        await svc.quiz.forget(UserId(user.id))
        await edit(query, svc.render.text("forget.done", lang))
    else:
        await edit(query, svc.render.text("forget.kept", lang))
    await query.answer()


async def set_chat_menu(context: Context, chat_id: int, lang: Lang) -> None:
    """Give one chat its own command menu: Telegram's `language_code` menus can't tell the two Chinese scripts apart."""
    svc = services(context)
    try:
        await context.bot.set_my_commands(command_menu(svc.t, lang), scope=BotCommandScopeChat(chat_id))
    except TelegramError as error:
        log.warning("could not set the command menu for chat %s: %s", chat_id, error)
