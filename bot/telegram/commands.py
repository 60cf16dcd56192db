"""The command menu, in each language: one list of commands, described in the locale files."""

from __future__ import annotations

from telegram import BotCommand

from ..core.lang import Lang
from ..i18n import Translator

PRIVATE_COMMANDS = (
    "start",
    "quiz",
    "topics",
    "review",
    "stats",
    "lang",
    "help",
    "cancel",
    "forget",
    "drill",
    "join",
    "report",
)


def command_menu(t: Translator, lang: Lang) -> list[BotCommand]:
    return [BotCommand(name, t(f"cmd.{name}", lang)) for name in PRIVATE_COMMANDS]


GROUP_COMMANDS = ("quiz", "stop", "skip", "resume", "stats", "lang", "help")


def group_command_menu(t: Translator, lang: Lang) -> list[BotCommand]:
    return [BotCommand(name, t(f"gcmd.{name}", lang)) for name in GROUP_COMMANDS]
