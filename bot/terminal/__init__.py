"""The terminal quiz: the same services as the bot, over text streams."""

from .language import choose_lang, served_lang
from .play import TerminalQuiz
from .screen import Screen

__all__ = ["Screen", "TerminalQuiz", "choose_lang", "served_lang"]
