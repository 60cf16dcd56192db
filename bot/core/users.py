"""What the bot keeps about a person: their chosen language and settings."""

from __future__ import annotations

from dataclasses import dataclass

from .engine import UserId
from .lang import Lang


@dataclass(frozen=True, slots=True, kw_only=True)
class UserProfile:
    """A person's settings. `active` turns False when they block the bot."""

    id: UserId
    lang: Lang
    ask_confidence: bool = True
    active: bool = True
    created_at: float = 0.0
