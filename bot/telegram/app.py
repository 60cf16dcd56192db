"""The Telegram bot assembled: settings -> services (opened over storage in services/wiring.py) -> Application.

The lifecycle is explicit (`BotRuntime.start` / `stop`) rather than `run_polling`, so tests and benchmarks run
the very same start-up against a local Bot API emulator, and start-up failures become one clear line.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from urllib.parse import urlsplit

from telegram import BotCommandScopeAllGroupChats, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, NetworkError, RetryAfter, TelegramError
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
from telegram.helpers import create_deep_linked_url

from .. import __version__
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
from ..web.server import ProjectorServer
from . import drill, group, private, throttle
from .admins import AdminCache
from .callbacks import DRILL_PATTERN, GROUP_PATTERN
from .commands import command_menu, group_command_menu
from .context import SERVICES_KEY, BotApplication, BotContext, BotServices
from .drill_render import DrillRenderer
from .group_render import GroupRenderer
from .http import AiohttpRequest, causes, not_bot_api
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


class CannotServe(Exception):
    """The bot cannot take updates where the settings say (the webhook's port is taken); one line for people."""


def polling_failed(error: TelegramError) -> None:
    """A failed getUpdates, in one line; PTB tries again after a growing pause. (PTB's own callback logs a traceback
    each time, which a Bot API outage or a second poller repeated for as long as it lasted.)"""
    if isinstance(error, Conflict):
        log.error(
            "polling for updates failed: %s (another process polls with this token, or a webhook is set)",
            error,
        )
    elif isinstance(error, NetworkError):
        log.warning("polling for updates failed: %s: %s; trying again", type(error).__name__, error)
    else:
        log.error("polling for updates failed: %s: %s; trying again", type(error).__name__, error)


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
        self.projector: ProjectorServer | None = None

    async def start(self, *, poll_timeout: float = 10.0, webhook: bool = False) -> None:
        """Start serving; raises a TelegramError (InvalidToken, NetworkError, NotBotApi...), StorageError,
        ConfigError or CannotServe (after cleaning up) on failure."""
        log.info(
            "deepfake-quiz-bot %s starting: %s, %s",
            __version__,
            "webhook" if webhook else "polling",
            storage_description(self.settings.database_url),
        )
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
            projector_base = await self._start_projector(services, self.application)
            svc = BotServices(
                quiz=services.quiz,
                group=services.group,
                drill=services.drill,
                render=Renderer(t, self.bank),
                group_render=GroupRenderer(t, self.bank),
                drill_render=DrillRenderer(t, self.bank, projector_base=projector_base),
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
                    poll_interval=0.0,
                    timeout=timedelta(seconds=poll_timeout),
                    allowed_updates=Update.ALL_TYPES,
                    error_callback=polling_failed,
                )
        except BaseException:
            await self.stop()
            raise
        projector = self.projector
        log.info(
            "bot @%s serving %d questions in %d topics (%s) from %s; %s",
            self.application.bot.username,
            len(self.bank),
            len(self.bank.topics),
            ", ".join(lang.value for lang in Lang),
            self.settings.questions_path,
            f"projector page on {self.settings.projector_listen}:{projector.port}"
            if projector is not None
            else "no projector page",
        )

    async def _start_projector(self, services: ServiceSet, application: BotApplication) -> str | None:
        """The projector page's server in this process (bot/web/); returns where its links start, or None when it is
        off or cannot listen: the bot serves on without it (a port taken by another instance must not stop a class)."""
        settings = self.settings
        if settings.projector_port is None:
            return None
        bot = application.bot
        server = ProjectorServer(
            services.projector,
            translator(),
            self.bank,
            # Asked per page, once the bot knows its own name (getMe runs later in start-up).
            join_link=lambda code: create_deep_linked_url(bot.username, code),
            trusted_proxies=settings.projector_trusted_proxies,
        )
        try:
            port = await server.start(settings.projector_listen, settings.projector_port)
        except OSError as error:
            log.warning(
                "projector page off: cannot listen on %s:%d: %s",
                settings.projector_listen,
                settings.projector_port,
                error.strerror or error,
            )
            return None
        self.projector = server
        return replace(settings, projector_port=port).projector_base

    async def _start_webhook(self) -> None:
        """PTB's webhook server: Telegram posts updates to WEBHOOK_URL; a wrong or missing secret gets 403."""
        assert self.application is not None and self.application.updater is not None
        settings = self.settings
        if not settings.webhook_url or not settings.webhook_secret:
            raise ConfigError("webhook mode needs WEBHOOK_URL and WEBHOOK_SECRET")
        try:
            await self.application.updater.start_webhook(
                listen=settings.webhook_listen,
                port=settings.webhook_port,
                url_path=urlsplit(settings.webhook_url).path.lstrip("/"),
                webhook_url=settings.webhook_url,
                secret_token=settings.webhook_secret,
                allowed_updates=Update.ALL_TYPES,
            )
        except OSError as error:  # the port is taken, or the address is not this host's
            raise CannotServe(
                f"cannot serve the webhook on {settings.webhook_listen}:{settings.webhook_port}: "
                f"{error.strerror or error}"
            ) from error
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
        projector, self.projector = self.projector, None
        if projector is not None:
            await projector.stop()
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
    except TelegramError as error:
        print(f"error: {start_failure(settings, error)}", file=sys.stderr)
        return 1
    except (StorageError, CannotServe) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    await stop.wait()
    log.info("stopping")
    await runtime.stop()
    log.info("stopped")
    return 0


PTB_STATUS = r"(.+?) \((\d{3})\)\. Parsing the server response"


def start_failure(settings: Settings, error: TelegramError) -> str:
    """Why the Bot API did not let the bot start, in one line (never with the token, which a web server's "not
    found" page may quote from the URL)."""
    where = settings.api_base_url
    foreign = not_bot_api(error)
    if foreign is not None:
        # PTB words a reply with an error status "Not Found (404). Parsing the server response ... failed" (and
        # raises that from NotBotApi; Bot.initialize raises its own InvalidToken from a 404).
        status = next(filter(None, (re.match(PTB_STATUS, str(e)) for e in causes(error))), None)
        answered = f"HTTP {status[2]} {status[1]} with" if status else "with"
        text = (
            f"{where} does not look like a Bot API server (check TELEGRAM_API_BASE_URL): it answered {answered} "
            f"{foreign.reply!r}, not the Bot API's JSON"
        )
    elif isinstance(error, InvalidToken):
        text = f"the Bot API at {where} rejected the token {mask(settings.token)}"
    elif isinstance(error, NetworkError):
        text = f"cannot reach the Bot API at {where}: {error}"
    else:
        text = f"the Bot API at {where} refused to start the bot: {type(error).__name__}: {error}"
    return text.replace(settings.token, mask(settings.token)) if settings.token else text


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


def storage_description(database_url: str) -> str:
    """Which storage a URL names, for the start-up line: the SQLite file, or PostgreSQL's host, port and database
    (never the user or the password)."""
    parts = urlsplit(database_url)
    if parts.scheme == "sqlite":
        return f"SQLite {database_url.removeprefix('sqlite:///') or database_url}"
    if parts.scheme.startswith("postgres"):
        try:
            port = f":{parts.port}" if parts.port else ""
        except ValueError:  # a malformed port: opening the storage says what is wrong
            port = ""
        return f"PostgreSQL {parts.hostname or 'localhost'}{port}{parts.path or ''}"
    return f"storage {parts.scheme or '?'}"


def event_loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop where it is installed (Linux and macOS): the same asyncio, with its sockets and timers in C, which
    cut a worker's CPU per update (docs/performance.md). None: the standard loop."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop
