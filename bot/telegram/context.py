"""What every handler can reach: the services, wired once at start-up and kept in `bot_data`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from telegram import Update
from telegram.ext import ContextTypes

from ..config import Settings
from ..core.engine import UserId
from ..core.lang import lang_from_code
from ..core.model import QuestionBank
from ..core.users import UserProfile
from ..i18n import Translator
from ..services import QuizService
from ..services.drill import DrillService
from ..services.group import GroupService
from .render import Renderer

if TYPE_CHECKING:
    from .drill_render import DrillRenderer
    from .group import AdminCache, PollGate
    from .group_render import GroupRenderer
    from .throttle import UserThrottle

SERVICES_KEY = "services"
Context = ContextTypes.DEFAULT_TYPE


@dataclass(slots=True, kw_only=True)
class BotServices:
    """The use cases and renderer the handlers share."""

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


def services(context: Context) -> BotServices:
    """The services of this application (set by the runtime before polling starts)."""
    return context.bot_data[SERVICES_KEY]


async def profile_of(update: Update, svc: BotServices) -> UserProfile:
    """The sender's profile, created on first contact with a language from Telegram's `language_code`."""
    user = update.effective_user
    assert user is not None  # handlers that call this only see updates with a sender
    profile = await svc.quiz.user(UserId(user.id), default_lang=lang_from_code(user.language_code))
    if not profile.active:
        # They wrote to us again, so they have unblocked the bot.
        from dataclasses import replace

        profile = replace(profile, active=True)
        await svc.quiz.update_user(profile)
    return profile
