"""Sending and editing messages the way every handler needs: edits that change nothing are fine, and a quiz whose
message is gone goes on in a new one."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from telegram import CallbackQuery, Message, Update
from telegram.error import BadRequest, NetworkError, TelegramError, TimedOut

from .render import Rendered

log = logging.getLogger(__name__)
T = TypeVar("T")

# Telegram's words for a message that can no longer be edited (deleted, too old, never existed).
GONE = ("message to edit not found", "message can't be edited")
SEND_ATTEMPTS = 3
RESEND_WAIT = 0.5  # seconds before the second attempt; twice that before the third


def refused(error: NetworkError) -> bool:
    """Did Telegram answer with an error status (a 5xx) rather than the connection failing? Then nothing was done
    and doing it again cannot show anything twice. A dropped connection or a time-out (PTB raises those `from` the
    transport's exception) may come after the message went out."""
    return not isinstance(error, TimedOut) and (error.__cause__ is None or isinstance(error.__cause__, TelegramError))


async def patiently(call: Callable[[], Awaitable[T]], *, repeatable: bool = False) -> T:
    """`call`, made again (up to SEND_ATTEMPTS times in all) when Telegram refused it with a server error.
    `repeatable`: doing it twice is harmless (closing a poll), so a dropped connection or a time-out is retried too.
    429s are not handled here: PTB's rate limiter already waits and retries them.

    Found by tests/telegram/test_group_faults.py: one 500 on a group quiz's sendPoll or reveal used to lose that
    question or reveal for good (and the podium, on the last one)."""
    for attempt in range(1, SEND_ATTEMPTS + 1):
        try:
            return await call()
        except BadRequest:
            raise  # PTB's BadRequest is a NetworkError, but asking again gets the same answer
        except NetworkError as error:
            if attempt == SEND_ATTEMPTS or not (repeatable or refused(error)):
                if attempt == SEND_ATTEMPTS:
                    log.warning("Telegram failed a request %d times (%s); giving up", SEND_ATTEMPTS, error)
                raise
            # Each retry is routine; only giving up is worth an operator's attention.
            log.debug("Telegram failed a request (%s); trying again", error)
            await asyncio.sleep(RESEND_WAIT * attempt)
    raise AssertionError("unreachable")  # the last attempt returns or raises


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


MESSAGE_LIMIT = 4096  # Telegram's most characters in one message
CAPTION_LIMIT = 1024  # ... and in a photo's caption


def in_messages(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """`text` cut at line ends into messages of at most `limit` characters. Our markup never spans lines, so no
    tag is cut in two; a single line over the limit (never written by us) is cut where it must be."""
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                parts.append(current)
                current = ""
            parts.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            parts.append(current)
            current = line
        else:
            current = candidate
    if current.strip():
        parts.append(current)
    return parts
