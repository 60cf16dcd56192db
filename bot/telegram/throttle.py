"""Per-person rate limiting: someone hammering buttons or commands gets a polite "slow down" and costs little.

Checked before any handler runs (the buckets are in ratelimit.py). Poll answers are exempt (Telegram allows one per
poll), so are updates without a sender.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import ApplicationHandlerStop

from ..core.engine import UserId
from ..core.lang import lang_from_code
from .context import BotContext


async def throttle(update: Update, context: BotContext) -> None:
    """Runs before every handler: over the limit, answer briefly and stop the update here."""
    user = update.effective_user
    if user is None or update.poll_answer is not None:
        return
    # A message on behalf of a chat (a channel, an anonymous admin) comes from an account Telegram shares between
    # every such chat: its bucket is the chat's, or one busy channel would slow down all the others.
    message = update.effective_message
    sender_chat = message.sender_chat if message is not None and update.callback_query is None else None
    key = sender_chat.id if sender_chat is not None else user.id
    if context.throttle.allow(key):
        return
    lang = await context.quiz.known_lang(UserId(user.id)) or lang_from_code(user.language_code)
    if update.callback_query is not None:
        await update.callback_query.answer(context.t("notice.slow_down", lang))
    elif (
        update.effective_chat is not None
        and update.effective_chat.type == "private"
        and context.throttle.should_warn(key)
    ):
        await update.effective_chat.send_message(context.t("notice.slow_down", lang))
    raise ApplicationHandlerStop
