"""Who administers which group, asked of Telegram sparingly."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from telegram import Bot, ChatMember
from telegram.constants import ChatMemberStatus
from telegram.error import TelegramError

log = logging.getLogger(__name__)

ADMIN_CACHE_SECONDS = 60.0
ADMIN_STATUSES = frozenset({ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR})


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
