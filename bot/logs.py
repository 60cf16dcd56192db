"""Logging set-up: one format, quiet HTTP client logs, routine library chatter at DEBUG, and secrets masked in every
record.

At INFO the log says what an operator needs: the start (version, polling or webhook, which storage), the bank being
served, what happens in chats, errors, and retries given up. What libraries log at INFO on every tick (APScheduler:
every run of every job, so the group sweep twice every 2 seconds; PTB: its own start and stop) is shown at DEBUG
instead, so `LOG_LEVEL=DEBUG` still has it (tests/test_logging_volume.py counts an idle minute)."""

from __future__ import annotations

import logging
import re
from typing import Any

from .redact import mask

# A projector link's token: in a link, and in the stored drill (aiosqlite logs its statements' values at DEBUG).
PROJECTOR_TOKEN = re.compile(r"""(/projector/[A-Za-z0-9_-]+/|projector_token["']?\s*[:=]\s*["'])[A-Za-z0-9_-]{8,}""")


class RedactSecrets(logging.Filter):
    """Replace secrets in a record's final message: URLs in library logs carry the bot token."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self._secrets = [(s, mask(s)) for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        text = message
        for secret, masked in self._secrets:
            text = text.replace(secret, masked)
        # A projector token opens the class's screen: PTB logs the teacher's panel (with the link) at DEBUG.
        text = PROJECTOR_TOKEN.sub(r"\1***", text)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            for secret, masked in self._secrets:
                record.exc_text = record.exc_text.replace(secret, masked)
        if record.stack_info:
            for secret, masked in self._secrets:
                record.stack_info = record.stack_info.replace(secret, masked)
        if text != message:
            record.msg, record.args = text, ()
            record.redacted = True  # tests tell by it that a record carried a secret
        return True


# Loggers whose INFO records are routine: every one of them is logged at DEBUG instead.
ROUTINE_LOGGERS = (
    # PTB's JobQueue runs on APScheduler, which logs each job it adds or removes (every timer armed) and two lines
    # for every run of every job: the group sweep alone ran every 2 seconds, 60 of 69 lines in an idle minute.
    "apscheduler.scheduler",
    "apscheduler.executors.default",
    # "Application started", "Application is stopping...", "Application.stop() complete": bot.telegram.app logs
    # the start and the stop itself, with what the operator needs to know.
    "telegram.ext.Application",
)
# PTB's rate limiter logs a 429 it stops retrying with a traceback; the reason fits on the line.
RATE_LIMITER_LOGGER = "telegram.ext.AIORateLimiter"


class AtDebug(logging.Filter):
    """On a library's logger: its INFO records become DEBUG records, dropped unless that logger logs DEBUG.

    The logger has passed them at INFO already, so the level is checked again here; handlers see DEBUG records."""

    def __init__(self, logger: logging.Logger) -> None:
        super().__init__()
        self._logger = logger

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno != logging.INFO:
            return True
        record.levelno, record.levelname = logging.DEBUG, logging.getLevelName(logging.DEBUG)
        return self._logger.isEnabledFor(logging.DEBUG)


class GaveUp(logging.Filter):
    """PTB's "Rate limit hit after maximum of N retries" as one line with Telegram's answer, not a traceback: the
    error is expected weather, and the update's own failure is logged after it (bot.telegram.app.on_error)."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if error is not None and record.levelno >= logging.ERROR:
            record.msg = f"{record.getMessage()}; gave up: {type(error).__name__}: {error}"
            record.args, record.exc_info, record.exc_text = (), None, None
        return True


def configure_logging(level: int) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # httpx logs every request URL at INFO, and a Bot API URL contains the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    quiet_routine_logs()


def quiet_routine_logs() -> None:
    """Routine library records at DEBUG (see ROUTINE_LOGGERS), retries given up in one line; idempotent."""
    for name in ROUTINE_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, AtDebug) for f in logger.filters):
            logger.addFilter(AtDebug(logger))
    limiter = logging.getLogger(RATE_LIMITER_LOGGER)
    if not any(isinstance(f, GaveUp) for f in limiter.filters):
        limiter.addFilter(GaveUp())


def loud_routine_logs() -> None:
    """Undo `quiet_routine_logs` (for tests)."""
    for name in (*ROUTINE_LOGGERS, RATE_LIMITER_LOGGER):
        logger = logging.getLogger(name)
        for found in [f for f in logger.filters if isinstance(f, AtDebug | GaveUp)]:
            logger.removeFilter(found)


def redact(*secrets: str) -> None:
    """Mask `secrets` in every log record as it is made: whichever handler writes it, also one added later or one on
    a logger that does not propagate to the root (a filter on the root's handlers would miss those). One call for
    all of them: each call wraps the record factory again, and each wrapper formats the message once more."""
    redactor = RedactSecrets(list(secrets))
    make_record = logging.getLogRecordFactory()

    def redacted_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        redactor.filter(record)
        return record

    logging.setLogRecordFactory(redacted_record)
