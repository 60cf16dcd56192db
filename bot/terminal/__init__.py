"""The terminal quiz: the same services as the bot, over text streams."""

from .play import TerminalQuiz

__all__ = ["TerminalQuiz"]
