"""The Telegram bot assembled: settings -> services (opened over storage in services/wiring.py) -> Application.

The lifecycle is explicit (`BotRuntime.start` / `stop`) rather than `run_polling`, so tests and benchmarks run
the very same start-up against a local Bot API emulator, and start-up failures become one clear line.
"""

from __future__ import annotations

import asyncio
import logging
import random
import signal
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from urllib.parse import urlsplit

from telegram import BotCommandScopeAllGroupChats, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter, TelegramError
from telegram.ext import (
    AIORateLimiter,
    ApplicationBuilder,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    MessageHandler,
    PollAnswerHandler,
    TypeHandler,
    filters,
)

from ..config import PROJECT_ROOT, ConfigError, Settings
from ..core.engine import UserId
from ..core.group import GroupRules
from ..core.lang import Lang
from ..core.loader import BankInvalid
from ..core.model import QuestionBank
from ..i18n import translator
from ..logs import redact
from ..redact import mask, url_secrets
from ..services import open_bank
from ..services.wiring import ServiceSet, StorageError, open_services
from . import drill, group, private, throttle
from .admins import AdminCache
from .callbacks import DRILL_PATTERN, GROUP_PATTERN
from .commands import command_menu, group_command_menu
from .context import SERVICES_KEY, BotApplication, BotContext, BotServices
from .drill_render import DrillRenderer
from .group_render import GroupRenderer
from .http import AiohttpRequest
from .polls import PollGate
from .ratelimit import UserThrottle
from .render import Renderer

log = logging.getLogger(__name__)

# Retry a request Telegram answered with 429 after the wait it asks for, a few times, then give up on it.
RATE_LIMIT_RETRIES = 3


def file_base_url(api_base_url: str) -> str:
    """The file download URL that goes with an API base URL (…/bot -> …/file/bot)."""
    return api_base_url.removesuffix("/bot") + "/file/bot" if api_base_url.endswith("/bot") else api_base_url


def build_application(settings: Settings, *, poll_timeout: float = 10.0, rate_limit: bool = True) -> BotApplication:
    """The PTB Application with every handler registered, not yet started.

    `rate_limit=False` drops AIORateLimiter: only for benchmarks that measure the bot's own capacity against the
    local emulator, which does not enforce Telegram's 30 messages a second.
    """
    token = settings.require_token()
    builder = (
        ApplicationBuilder()
        .token(token)
        .base_url(settings.api_base_url)
        .base_file_url(file_base_url(settings.api_base_url))
        .request(AiohttpRequest(connection_pool_size=64, connect_timeout=5, read_timeout=15))
        .get_updates_request(AiohttpRequest(connection_pool_size=2, read_timeout=poll_timeout + 10))
        # Updates run concurrently; the store's version check makes a double press count once.
        .concurrent_updates(True)
        .defaults(Defaults(parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)))
        # Handlers read the services as typed properties: `context.quiz`, `context.drill_render`...
        .context_types(ContextTypes(context=BotContext))
    )
    application: BotApplication
    if rate_limit:
        application = builder.rate_limiter(AIORateLimiter(max_retries=RATE_LIMIT_RETRIES)).build()
    else:
        application = builder.build()
    register_handlers(application)
    return application


def register_handlers(application: BotApplication) -> None:
    """Every handler in the order tried: membership, commands, buttons, polls, service messages, catch-alls."""
    # New messages only: a custom filter replaces CommandHandler's default, and editing an old message into a
    # command must not run it.
    private_chat = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
    groups = filters.ChatType.GROUPS & filters.UpdateType.MESSAGE
    # Group -1 runs first: someone over their rate limit is answered there and goes no further.
    application.add_handler(TypeHandler(Update, throttle.throttle), group=-1)
    application.add_handler(ChatMemberHandler(group.bot_membership, ChatMemberHandler.MY_CHAT_MEMBER))
    private_commands = {
        "start": private.start,
        "help": private.help_command,
        "quiz": private.quiz_command,
        "topics": private.topics_command,
        "review": private.review_command,
        "stats": private.stats_command,
        "lang": private.lang_command,
        "cancel": private.cancel_command,
        "forget": private.forget_command,
        "drill": drill.drill_command,
        "join": drill.join_command,
        "report": drill.report_command,
    }
    for name, callback in private_commands.items():
        application.add_handler(CommandHandler(name, callback, filters=private_chat))
    group_commands = {
        "quiz": group.group_quiz,
        "stop": group.group_stop,
        "skip": group.group_skip,
        "resume": group.group_resume,
        "lang": group.group_lang_command,
        "stats": group.group_stats,
        "start": group.group_help,
        "help": group.group_help,
    }
    for name, callback in group_commands.items():
        application.add_handler(CommandHandler(name, callback, filters=groups))
    # Group buttons by their first letter; every other press (forged ones too) goes to the private handler.
    application.add_handler(CallbackQueryHandler(group.group_button, pattern=GROUP_PATTERN))
    application.add_handler(CallbackQueryHandler(drill.button, pattern=DRILL_PATTERN))
    application.add_handler(CallbackQueryHandler(private.button))
    application.add_handler(PollAnswerHandler(group.poll_answer))
    application.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, group.group_migrated))
    application.add_handler(MessageHandler(filters.StatusUpdate.LEFT_CHAT_MEMBER, group.member_left))
    # After the known commands: anything else that looks like a command, then every other message.
    application.add_handler(MessageHandler(private_chat & filters.COMMAND, private.unknown_command))
    application.add_handler(MessageHandler(private_chat & ~filters.COMMAND, private.fallback_text))
    application.add_error_handler(on_error)


async def on_error(update: object, context: BotContext) -> None:
    """Log every failed update with its id and carry on; a user who blocked the bot is marked inactive."""
    error = context.error
    update_id = update.update_id if isinstance(update, Update) else None
    user = update.effective_user if isinstance(update, Update) else None
    if isinstance(error, Forbidden) and user is not None:
        await context.quiz.mark_unreachable(UserId(user.id))
        log.info("update %s: user %s is unreachable (%s); marked inactive", update_id, user.id, error.message)
    elif isinstance(error, StorageError):
        # Locked or unreachable past the storage's own retries: say so in one line; the bot carries on.
        log.error("update %s: the database is unavailable (%s); this update was not processed", update_id, error)
    elif isinstance(error, RetryAfter | NetworkError | BadRequest):
        # Expected weather on the network: one line, no traceback.
        log.warning("update %s failed: %s: %s", update_id, type(error).__name__, error)
    else:
        log.error("update %s failed: %s", update_id, error, exc_info=error)


class BotRuntime:
    """The bot's lifecycle: open storage, start the Application and polling; stop in reverse order."""

    def __init__(
        self,
        settings: Settings,
        bank: QuestionBank,
        *,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.time,
        rate_limit: bool = True,
    ) -> None:
        self.settings = settings
        self.rate_limit = rate_limit and settings.rate_limiter
        self.bank = bank
        self.rng = rng
        self.clock = clock
        self.application: BotApplication | None = None
        self.services: ServiceSet | None = None

    async def start(self, *, poll_timeout: float = 10.0, webhook: bool = False) -> None:
        """Start serving; raises InvalidToken, NetworkError or StorageError (after cleaning up) on failure."""
        try:
            settings = self.settings
            self.services = services = await open_services(
                settings.database_url,
                self.bank,
                base=PROJECT_ROOT,
                rules=GroupRules(
                    lobby_seconds=settings.group_lobby_seconds,
                    question_seconds=settings.group_question_seconds,
                    reveal_seconds=settings.group_reveal_seconds,
                    min_cycle_seconds=settings.group_min_cycle_seconds,
                ),
                max_students=settings.drill_max_students,
                clock=self.clock,
                rng=self.rng,
            )
            self.application = build_application(settings, poll_timeout=poll_timeout, rate_limit=self.rate_limit)
            t = translator()
            svc = BotServices(
                quiz=services.quiz,
                group=services.group,
                drill=services.drill,
                render=Renderer(t, self.bank),
                group_render=GroupRenderer(t, self.bank),
                drill_render=DrillRenderer(t, self.bank),
                admins=AdminCache(),
                polls=PollGate(),
                throttle=UserThrottle(),
                t=t,
                bank=self.bank,
                settings=settings,
            )
            self.application.bot_data[SERVICES_KEY] = svc
            await self.application.initialize()  # getMe: the token and the API are checked here
            await self._register_commands()
            await self.application.start()
            await group.restore_timers(self.application, svc)
            await drill.restore_drill_timers(self.application, svc)
            assert self.application.updater is not None
            if webhook:
                await self._start_webhook()
            else:
                await self.application.updater.start_polling(
                    poll_interval=0.0, timeout=timedelta(seconds=poll_timeout), allowed_updates=Update.ALL_TYPES
                )
        except BaseException:
            await self.stop()
            raise
        log.info(
            "bot @%s serving %d questions in %d topics (%s) from %s",
            self.application.bot.username,
            len(self.bank),
            len(self.bank.topics),
            ", ".join(lang.value for lang in Lang),
            self.settings.questions_path,
        )

    async def _start_webhook(self) -> None:
        """PTB's webhook server: Telegram posts updates to WEBHOOK_URL; a wrong or missing secret gets 403."""
        assert self.application is not None and self.application.updater is not None
        settings = self.settings
        if not settings.webhook_url or not settings.webhook_secret:
            raise ConfigError("webhook mode needs WEBHOOK_URL and WEBHOOK_SECRET")
        await self.application.updater.start_webhook(
            listen=settings.webhook_listen,
            port=settings.webhook_port,
            url_path=urlsplit(settings.webhook_url).path.lstrip("/"),
            webhook_url=settings.webhook_url,
            secret_token=settings.webhook_secret,
            allowed_updates=Update.ALL_TYPES,
        )
        log.info("webhook server on %s:%d for %s", settings.webhook_listen, settings.webhook_port, settings.webhook_url)

    async def _register_commands(self) -> None:
        """The command menu: English by default; Traditional Chinese for `zh` (Telegram has one zh menu)."""
        assert self.application is not None
        t = translator()
        bot = self.application.bot
        await bot.set_my_commands(command_menu(t, Lang.EN))
        await bot.set_my_commands(command_menu(t, Lang.ZH_HANT), language_code="zh")
        await bot.set_my_commands(group_command_menu(t, Lang.EN), scope=BotCommandScopeAllGroupChats())
        await bot.set_my_commands(
            group_command_menu(t, Lang.ZH_HANT), scope=BotCommandScopeAllGroupChats(), language_code="zh"
        )

    async def stop(self) -> None:
        application, self.application = self.application, None
        if application is not None:
            if application.updater is not None and application.updater.running:
                await application.updater.stop()
            if application.running:
                await application.stop()
            try:
                await application.shutdown()
            except (RuntimeError, TelegramError) as error:  # shutting down after a failed start
                log.debug("shutdown: %s", error)
            await application.bot.request.shutdown()  # after a failed getMe PTB leaves its HTTP client open
        services, self.services = self.services, None
        if services is not None:
            await services.close()


async def serve(settings: Settings, bank: QuestionBank, *, webhook: bool = False) -> int:
    """Run until SIGINT or SIGTERM; returns the exit status."""
    runtime = BotRuntime(settings, bank)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(number, stop.set)
    try:
        await runtime.start(webhook=webhook)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except InvalidToken:
        print(
            f"error: the Bot API at {settings.api_base_url} rejected the token {mask(settings.token)}", file=sys.stderr
        )
        return 1
    except NetworkError as error:
        print(f"error: cannot reach the Bot API at {settings.api_base_url}: {error}", file=sys.stderr)
        return 1
    except StorageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    await stop.wait()
    log.info("stopping")
    await runtime.stop()
    return 0


def run_bot(settings: Settings, *, webhook: bool = False) -> int:
    """`python -m bot run [--webhook]`."""
    try:
        token = settings.require_token()
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    redact(token, *url_secrets(settings.database_url), settings.webhook_secret or "")
    try:
        bank = open_bank([settings.questions_path], settings.article_path, root=PROJECT_ROOT)
    except BankInvalid as error:
        print("error: the question bank has problems, so the bot will not start:", file=sys.stderr)
        print(error.report.render(), file=sys.stderr)
        return 1
    with asyncio.Runner(loop_factory=event_loop_factory()) as runner:
        return runner.run(serve(settings, bank, webhook=webhook))


def event_loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop where it is installed (Linux and macOS): the same asyncio, with its sockets and timers in C, which
    cut a worker's CPU per update (docs/performance.md). None: the standard loop."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop
