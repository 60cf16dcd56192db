"""Sending and editing messages the way every handler needs: edits that change nothing are fine, and a quiz whose
message is gone goes on in a new one."""

from __future__ import annotations

import unicodedata

from telegram import CallbackQuery, Message, Update
from telegram.error import BadRequest

from .render import Rendered

# Telegram's words for a message that can no longer be edited (deleted, too old, never existed).
GONE = ("message to edit not found", "message can't be edited")


async def send(update: Update, rendered: Rendered) -> Message:
    assert update.effective_chat is not None
    return await update.effective_chat.send_message(rendered.text, reply_markup=rendered.markup)


async def edit(query: CallbackQuery, rendered: Rendered) -> None:
    """Edit the pressed message. An edit that changes nothing is not an error; when the message is gone, the
    quiz goes on in a new message rather than stalling."""
    try:
        await query.edit_message_text(rendered.text, reply_markup=rendered.markup)
    except BadRequest as error:
        reason = error.message.lower()
        if "not modified" in reason:
            return
        if any(words in reason for words in GONE) and query.message is not None:
            await query.get_bot().send_message(query.message.chat.id, rendered.text, reply_markup=rendered.markup)
            return
        raise


async def drop_keyboard(query: CallbackQuery) -> None:
    """Take the buttons off a message that is done with, so the chat holds no stale keyboards."""
    try:
        await query.edit_message_reply_markup(reply_markup=None)
    except BadRequest as error:
        if "not modified" not in error.message.lower():
            raise


def echo_safe(text: str, limit: int = 40) -> str:
    """Someone's own words, fit to repeat back: no control or bidi format characters (which could reverse the rest
    of the bot's line), cut to `limit`."""
    return "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cf"))[:limit]
