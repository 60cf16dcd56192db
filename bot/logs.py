"""Logging set-up: one format, quiet HTTP client logs, and secrets masked in every record."""

from __future__ import annotations

import logging
from typing import Any

from .redact import mask


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


def configure_logging(level: int) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # httpx logs every request URL at INFO, and a Bot API URL contains the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)


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
