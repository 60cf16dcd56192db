"""A local Telegram Bot API emulator for end-to-end tests of the python-telegram-bot (22.8) bot.

Start :class:`BotApiEmulator` on a free local port, point PTB at it with
``ApplicationBuilder().base_url(emu.base_url)`` (or ``emu.application_builder()``), drive the bot with the
synchronous user helpers (``send_text``, ``press_button``, ``answer_poll``...) and assert on the recorded
:class:`ApiCall` list (``calls_to``, ``await wait_for(...)``). See ``test_emulator.py`` for examples.
"""

from . import objects
from .emulator import BotApiEmulator, ChatRef, MessageRef, UserRef
from .errors import ApiError
from .markup import escape_html, parse_html, parse_markdown, parse_markdown_v2
from .records import ApiCall, ChatState, GroupMembers, PollState, UploadedFile
from .server import DEFAULT_EXCLUDED_UPDATES

__all__ = [
    "DEFAULT_EXCLUDED_UPDATES",
    "ApiCall",
    "ApiError",
    "BotApiEmulator",
    "ChatRef",
    "ChatState",
    "GroupMembers",
    "MessageRef",
    "PollState",
    "UploadedFile",
    "UserRef",
    "escape_html",
    "objects",
    "parse_html",
    "parse_markdown",
    "parse_markdown_v2",
]
