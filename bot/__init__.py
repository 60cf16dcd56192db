"""A deepfake-awareness quiz bot: a pure quiz core with Telegram and terminal adapters."""

__version__ = "0.1.0"
__all__ = ["__version__"]
