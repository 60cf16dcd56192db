"""What every handler can reach: the services, wired once at start-up, through a typed context.

PTB builds one `BotContext` per update or job (`ContextTypes(context=BotContext)` in app.py, as in
python-telegram-bot's examples/contexttypesbot.py), so a handler reads `context.quiz` or `context.drill_render`
rather than looking the services up itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from telegram import Update
from telegram.ext import Application, CallbackContext, ExtBot

from ..config import Settings
from ..core.engine import UserId
from ..core.lang import lang_from_code
from ..core.model import QuestionBank
from ..core.users import UserProfile
from ..i18n import Translator
from ..services import QuizService
from ..services.drill import DrillService
from ..services.group import GroupService
from .admins import AdminCache
from .drill_render import DrillRenderer
from .group_render import GroupRenderer
from .polls import PollGate
from .ratelimit import UserThrottle
from .render import Renderer

SERVICES_KEY = "services"


@dataclass(slots=True, kw_only=True)
class BotServices:
    """The use cases and renderers the handlers share, kept in `bot_data`."""

    quiz: QuizService
    group: GroupService
    drill: DrillService
    render: Renderer
    group_render: GroupRenderer
    drill_render: DrillRenderer
    admins: AdminCache
    polls: PollGate
    throttle: UserThrottle
    t: Translator
    bank: QuestionBank
    settings: Settings


class BotContext(CallbackContext[ExtBot[Any], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """PTB's callback context with the services as typed properties."""

    __slots__ = ()

    @property
    def services(self) -> BotServices:
        """Everything at once (set by the runtime before the first update)."""
        return cast(BotServices, self.bot_data[SERVICES_KEY])

    @property
    def quiz(self) -> QuizService:
        return self.services.quiz

    @property
    def group(self) -> GroupService:
        return self.services.group

    @property
    def drill(self) -> DrillService:
        return self.services.drill

    @property
    def render(self) -> Renderer:
        return self.services.render

    @property
    def group_render(self) -> GroupRenderer:
        return self.services.group_render

    @property
    def drill_render(self) -> DrillRenderer:
        return self.services.drill_render

    @property
    def admins(self) -> AdminCache:
        return self.services.admins

    @property
    def polls(self) -> PollGate:
        return self.services.polls

    @property
    def throttle(self) -> UserThrottle:
        return self.services.throttle

    @property
    def t(self) -> Translator:
        return self.services.t

    @property
    def bank(self) -> QuestionBank:
        return self.services.bank

    @property
    def settings(self) -> Settings:
        return self.services.settings


# PTB's CallbackContext leaves its application's context type open, so what takes the application (to arm a timer)
# takes any; the typing that matters to handlers is BotContext's.
BotApplication = Application[Any, Any, Any, Any, Any, Any]


async def profile_of(update: Update, context: BotContext) -> UserProfile:
    """The sender's profile, created on first contact with a language from Telegram's `language_code`."""
    user = update.effective_user
    assert user is not None  # handlers that call this only see updates with a sender
    return await context.quiz.contact(UserId(user.id), default_lang=lang_from_code(user.language_code))
