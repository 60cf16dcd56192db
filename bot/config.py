"""All settings, read in one place from the environment and an optional `.env` file."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import dotenv_values

from .redact import mask, redact_url

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "sqlite:///data/quiz.db"
DEFAULT_API_BASE_URL = "https://api.telegram.org/bot"
# Telegram tokens are "<bot id>:<secret>"; the check catches pasted quotes, spaces and half-copied tokens.
TOKEN_PATTERN = re.compile(r"^[0-9]{1,20}:[A-Za-z0-9_-]{8,}$")
SECRET_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")  # Telegram's rule for a webhook's secret_token


class ConfigError(Exception):
    """A setting is missing or malformed; the message is one line for people."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    """Everything configurable. Relative paths are taken from the project folder."""

    token: str | None = field(default=None, repr=False)
    api_base_url: str = DEFAULT_API_BASE_URL
    database_url: str = DEFAULT_DATABASE_URL
    log_level: int = logging.INFO
    questions_path: Path = PROJECT_ROOT / "questions"
    article_path: Path = PROJECT_ROOT.parent / "shared" / "article-zh-Hant.txt"
    quiz_length: int = 5
    group_lobby_seconds: float = 60.0
    group_question_seconds: float = 20.0
    group_reveal_seconds: float = 6.0
    group_min_cycle_seconds: float = 10.0
    drill_max_students: int = 200
    webhook_url: str | None = None
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = 8443
    webhook_secret: str | None = field(default=None, repr=False)
    rate_limiter: bool = True

    def __repr__(self) -> str:
        return (
            f"Settings(token={mask(self.token)}, api_base_url={self.api_base_url!r}, "
            f"database_url={redact_url(self.database_url)!r}, log_level={logging.getLevelName(self.log_level)}, "
            f"questions_path={str(self.questions_path)!r}, article_path={str(self.article_path)!r}, "
            f"quiz_length={self.quiz_length}, group_lobby_seconds={self.group_lobby_seconds}, "
            f"group_question_seconds={self.group_question_seconds}, group_reveal_seconds={self.group_reveal_seconds}, "
            f"group_min_cycle_seconds={self.group_min_cycle_seconds}, drill_max_students={self.drill_max_students}, "
            f"webhook_url={self.webhook_url!r}, webhook_listen={self.webhook_listen!r}, "
            f"webhook_port={self.webhook_port}, webhook_secret={'***' if self.webhook_secret else None}, "
            f"rate_limiter={self.rate_limiter})"
        )

    def require_token(self) -> str:
        """The bot token, checked; raises ConfigError with a clear line otherwise."""
        if not self.token:
            raise ConfigError("TELEGRAM_BOT_TOKEN is not set: put the token from @BotFather in the environment or .env")
        if not TOKEN_PATTERN.match(self.token):
            raise ConfigError(
                f"TELEGRAM_BOT_TOKEN is malformed ({mask(self.token)}): expected <digits>:<letters, digits, _ or ->"
            )
        return self.token


def load_settings(environ: Mapping[str, str], *, env_file: Path | None = None) -> Settings:
    """Settings from `environ`, falling back to `env_file` (a `.env`); the environment wins."""
    values: dict[str, str] = {}
    if env_file is not None and env_file.is_file():
        values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    values.update(environ)

    def get(name: str) -> str | None:
        value = values.get(name)
        return value.strip() if value and value.strip() else None

    level_name = (get("LOG_LEVEL") or "INFO").upper()
    level = logging.getLevelNamesMapping().get(level_name)
    if level is None:
        raise ConfigError(f"LOG_LEVEL {level_name!r} is not one of DEBUG, INFO, WARNING, ERROR")
    length = get("QUIZ_LENGTH") or "5"
    if not length.isdigit() or not 1 <= int(length) <= 50:
        raise ConfigError(f"QUIZ_LENGTH must be a whole number from 1 to 50, not {length!r}")
    students = get("DRILL_MAX_STUDENTS") or "200"
    if not students.isdigit() or not 1 <= int(students) <= 10_000:
        raise ConfigError(f"DRILL_MAX_STUDENTS must be a whole number from 1 to 10000, not {students!r}")
    webhook_url = get("WEBHOOK_URL")
    if webhook_url is not None and not webhook_url.startswith("https://"):
        raise ConfigError(f"WEBHOOK_URL must be an https:// URL (Telegram posts only over TLS), not {webhook_url!r}")
    port = get("WEBHOOK_PORT") or "8443"
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ConfigError(f"WEBHOOK_PORT must be a port number, not {port!r}")
    secret = get("WEBHOOK_SECRET")
    if secret is not None and not SECRET_PATTERN.match(secret):
        raise ConfigError("WEBHOOK_SECRET must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
    limiter = (get("TELEGRAM_RATE_LIMITER") or "on").lower()
    if limiter not in ("on", "off"):
        raise ConfigError(f"TELEGRAM_RATE_LIMITER must be on or off, not {limiter!r}")
    base_url = get("TELEGRAM_API_BASE_URL") or DEFAULT_API_BASE_URL
    if not base_url.startswith(("http://", "https://")):
        raise ConfigError(f"TELEGRAM_API_BASE_URL must start with http:// or https://, not {base_url!r}")

    def seconds(name: str, default: float, low: float, high: float) -> float:
        raw = get(name)
        if raw is None:
            return default
        try:
            value = float(raw)
        except ValueError:
            raise ConfigError(f"{name} must be a number of seconds, not {raw!r}") from None
        if not low <= value <= high:
            raise ConfigError(f"{name} must be between {low:g} and {high:g} seconds, not {value:g}")
        return value

    return Settings(
        token=get("TELEGRAM_BOT_TOKEN"),
        api_base_url=base_url,
        database_url=get("DATABASE_URL") or DEFAULT_DATABASE_URL,
        log_level=level,
        questions_path=_path(get("QUESTIONS_PATH"), PROJECT_ROOT / "questions"),
        article_path=_path(get("ARTICLE_PATH"), PROJECT_ROOT.parent / "shared" / "article-zh-Hant.txt"),
        quiz_length=int(length),
        group_lobby_seconds=seconds("GROUP_LOBBY_SECONDS", 60.0, 0.0, 3600.0),
        group_question_seconds=seconds("GROUP_QUESTION_SECONDS", 20.0, 1.0, 3600.0),
        group_reveal_seconds=seconds("GROUP_REVEAL_SECONDS", 6.0, 0.0, 600.0),
        # Lower only where nothing real is flooded (tests); the default keeps a group under 20 requests a minute.
        group_min_cycle_seconds=seconds("GROUP_MIN_CYCLE_SECONDS", 10.0, 0.0, 600.0),
        drill_max_students=int(students),
        webhook_url=webhook_url,
        webhook_listen=get("WEBHOOK_LISTEN") or "0.0.0.0",
        webhook_port=int(port),
        webhook_secret=secret,
        rate_limiter=limiter == "on",
    )


def _path(value: str | None, default: Path) -> Path:
    if value is None:
        return default
    path = Path(value).expanduser()
    return path if path.is_absolute() else Path.cwd() / path
