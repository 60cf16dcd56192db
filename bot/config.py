"""All settings, read in one place from the environment and an optional `.env` file.

Where files are: one rule for every path (README.md "Configuration" and docs/deploy.md say the same).

- Settings come from the environment and from the `.env` file in the current working folder (that folder only, no
  search upwards; `python -m bot run --env-file FILE` names another file). The environment wins.
- A relative path in a setting (QUESTIONS_PATH, ARTICLE_PATH, DATA_DIR, a `sqlite:///relative/file.db` DATABASE_URL;
  `~` is expanded) is taken from the current working folder, whether the environment or the `.env` file set it. The
  environment has no folder of its own, and systemd's EnvironmentFile= and `podman --env-file` turn the same `.env`
  into environment variables, so "relative to the working folder" is the one reading that means the same whichever
  of the two carries a value. Settings hands out absolute paths and an absolute SQLite URL, so nothing downstream
  resolves a path again.
- Defaults. The question bank is the one shipped inside the package (`bot/bank_data/` in an installed wheel); run
  from a source checkout or an editable install, it is the checkout's `questions/`, so an edited YAML file takes
  effect at once. The data folder is DATA_DIR, else the per-user data folder (platformdirs: `~/.local/share/
  deepfake-quiz-bot` on Linux, with XDG_DATA_HOME honoured). The database is `<data folder>/quiz.db`. The article
  (never shipped) is `../shared/article-zh-Hant.txt` beside a source checkout, `<data folder>/article-zh-Hant.txt`
  for an installed package; without it the bot runs and says quotes were not checked.
- Nothing is ever written inside the package: a SQLite database there (or, installed, in site-packages) is refused.
"""

from __future__ import annotations

import io
import ipaddress
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from dotenv import dotenv_values
from dotenv.parser import parse_stream
from platformdirs import user_data_path

from .redact import mask, redact_url

APP_NAME = "deepfake-quiz-bot"
PACKAGE_DIR = Path(__file__).resolve().parent
# The folder holding `bot/`: the project folder in a source checkout (the repository's tests and tools use it);
# site-packages in an installed package. No setting resolves against it.
PROJECT_ROOT = PACKAGE_DIR.parent
SHIPPED_BANK = "bank_data"  # the subpackage pyproject.toml maps to questions/, so the wheel carries the bank
DEFAULT_ENV_FILE = Path(".env")  # relative: the current working folder's
DATABASE_FILE = "quiz.db"
ARTICLE_FILE = "article-zh-Hant.txt"
DEFAULT_API_BASE_URL = "https://api.telegram.org/bot"
# Telegram tokens are "<bot id>:<secret>"; the check catches pasted quotes, spaces and half-copied tokens.
TOKEN_PATTERN = re.compile(r"^[0-9]{1,20}:[A-Za-z0-9_-]{8,}$")
SECRET_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")  # Telegram's rule for a webhook's secret_token


class ConfigError(Exception):
    """A setting is missing or malformed; the message is one line for people."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    """Everything configurable, made by `load_settings`. Paths are absolute, and a SQLite URL names an absolute
    file (the module's docstring has the rule)."""

    token: str | None = field(default=None, repr=False)
    api_base_url: str = DEFAULT_API_BASE_URL
    database_url: str
    log_level: int = logging.INFO
    questions_path: Path
    article_path: Path
    data_dir: Path
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
    projector_listen: str = "127.0.0.1"
    projector_port: int | None = 8787  # None: no projector page; 0: any free port (tests)
    projector_url: str | None = None  # the address people open, when a proxy puts it elsewhere
    projector_trusted_proxies: frozenset[str] = frozenset({"127.0.0.1", "::1"})  # whose X-Real-IP names the client

    @property
    def projector_base(self) -> str | None:
        """Where projector links start (without the final slash); None when the projector page is off."""
        if self.projector_port is None:
            return None
        if self.projector_url:
            return self.projector_url.rstrip("/")
        host = {"0.0.0.0": "127.0.0.1", "::": "[::1]", "": "127.0.0.1"}.get(
            self.projector_listen, self.projector_listen
        )
        if ":" in host and not host.startswith("["):
            host = f"[{host}]"  # an IPv6 address in a URL
        return f"http://{host}:{self.projector_port}"

    def __repr__(self) -> str:
        return (
            f"Settings(token={mask(self.token)}, api_base_url={self.api_base_url!r}, "
            f"database_url={redact_url(self.database_url)!r}, log_level={logging.getLevelName(self.log_level)}, "
            f"questions_path={str(self.questions_path)!r}, article_path={str(self.article_path)!r}, "
            f"data_dir={str(self.data_dir)!r}, "
            f"quiz_length={self.quiz_length}, group_lobby_seconds={self.group_lobby_seconds}, "
            f"group_question_seconds={self.group_question_seconds}, group_reveal_seconds={self.group_reveal_seconds}, "
            f"group_min_cycle_seconds={self.group_min_cycle_seconds}, drill_max_students={self.drill_max_students}, "
            f"webhook_url={self.webhook_url!r}, webhook_listen={self.webhook_listen!r}, "
            f"webhook_port={self.webhook_port}, webhook_secret={'***' if self.webhook_secret else None}, "
            f"rate_limiter={self.rate_limiter}, projector_listen={self.projector_listen!r}, "
            f"projector_port={self.projector_port}, projector_url={self.projector_url!r}, "
            f"projector_trusted_proxies={sorted(self.projector_trusted_proxies)!r})"
        )

    def require_token(self) -> str:
        """The bot token, checked; raises ConfigError with a clear line otherwise."""
        if not self.token:
            raise ConfigError("TELEGRAM_BOT_TOKEN is not set: put the token from @BotFather in the environment or .env")
        if not TOKEN_PATTERN.match(self.token):
            raise ConfigError(
                f"TELEGRAM_BOT_TOKEN is malformed ({mask(self.token)}): expected <1-20 digits>:<at least 8 "
                "letters, digits, _ or -> (the whole token from @BotFather, without quotes or spaces)"
            )
        return self.token


def load_settings(environ: Mapping[str, str], *, env_file: Path | None = None, cwd: Path | None = None) -> Settings:
    """Settings from `environ`, falling back to `env_file` (a `.env`, relative to `cwd`); the environment wins.

    Relative paths are taken from `cwd`, the current working folder unless given."""
    cwd = (cwd or Path.cwd()).resolve()
    values: dict[str, str] = {}
    if env_file is not None:
        values.update(_read_env_file(env_file, cwd))
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
    projector_port = (get("PROJECTOR_PORT") or "8787").lower()
    if projector_port != "off" and (not projector_port.isdigit() or not 0 <= int(projector_port) <= 65535):
        raise ConfigError(f"PROJECTOR_PORT must be a port number (0: any free one) or off, not {projector_port!r}")
    projector_url = get("PROJECTOR_URL")
    if projector_url is not None and not projector_url.startswith(("http://", "https://")):
        raise ConfigError(f"PROJECTOR_URL must start with http:// or https://, not {projector_url!r}")
    proxies = frozenset(
        p.strip() for p in (get("PROJECTOR_TRUSTED_PROXIES") or "127.0.0.1,::1").split(",") if p.strip()
    )
    for proxy in proxies:
        try:
            ipaddress.ip_address(proxy)
        except ValueError:
            raise ConfigError(
                f"PROJECTOR_TRUSTED_PROXIES must be IP addresses separated by commas, not {proxy!r}"
            ) from None
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

    checkout = source_checkout()
    data_dir = _path(get("DATA_DIR"), cwd) or user_data_path(APP_NAME, appauthor=False)
    default_article = checkout.parent / "shared" / ARTICLE_FILE if checkout else data_dir / ARTICLE_FILE
    return Settings(
        token=get("TELEGRAM_BOT_TOKEN"),
        api_base_url=base_url,
        database_url=_database_url(get("DATABASE_URL"), data_dir=data_dir, cwd=cwd),
        log_level=level,
        questions_path=_path(get("QUESTIONS_PATH"), cwd) or default_questions_path(),
        article_path=_path(get("ARTICLE_PATH"), cwd) or default_article,
        data_dir=data_dir,
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
        projector_listen=get("PROJECTOR_LISTEN") or "127.0.0.1",
        projector_port=None if projector_port == "off" else int(projector_port),
        projector_url=projector_url,
        projector_trusted_proxies=frozenset(str(ipaddress.ip_address(p)) for p in proxies),
    )


def _read_env_file(env_file: Path, cwd: Path) -> dict[str, str]:
    """The settings in `env_file` (relative to `cwd`); none when there is no such file (a folder of that name, such
    as a virtualenv called `.env`, is not one). A file that is there but cannot be read is a ConfigError naming the
    file as it was given."""
    path = cwd / env_file.expanduser()
    try:
        if not path.is_file():
            return {}
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"cannot read {env_file}: {error.strerror or error}") from None
    except UnicodeDecodeError as error:
        raise ConfigError(
            f"cannot read {env_file}: it is not UTF-8 text (byte {error.object[error.start]:#04x} at offset "
            f"{error.start}); save it as UTF-8"
        ) from None
    # python-dotenv skips a line it can't parse with a warning on its own logger, and the setting silently keeps its
    # default: say which line instead (its number only: the line may hold a token).
    broken = [binding.original.line for binding in parse_stream(io.StringIO(text)) if binding.error]
    if broken:
        raise ConfigError(f"cannot read {env_file}: line {broken[0]} is not NAME=value (see .env.example)")
    return {k: v for k, v in dotenv_values(stream=io.StringIO(text)).items() if v is not None}


def shipped_bank() -> Path | None:
    """The question bank inside an installed package (`bot/bank_data/`), or None when running from a source tree."""
    shipped = resources.files(__package__ or "bot") / SHIPPED_BANK
    return shipped if isinstance(shipped, Path) and shipped.is_dir() else None


def source_checkout() -> Path | None:
    """The project folder `bot` runs from (a clone, an editable install), or None for an installed package."""
    if shipped_bank() is None and (PROJECT_ROOT / "questions").is_dir():
        return PROJECT_ROOT
    return None


def default_questions_path() -> Path:
    """The shipped bank; in a source checkout its `questions/` (edits take effect at once)."""
    checkout = source_checkout()
    return shipped_bank() or (checkout / "questions" if checkout else PACKAGE_DIR / SHIPPED_BANK)


def _path(value: str | None, cwd: Path) -> Path | None:
    """A path setting, absolute: relative ones are taken from `cwd`; None when unset."""
    if value is None:
        return None
    path = Path(value).expanduser()
    return path if path.is_absolute() else cwd / path


def _database_url(value: str | None, *, data_dir: Path, cwd: Path) -> str:
    """DATABASE_URL with a SQLite file made absolute (`<data folder>/quiz.db` when unset); other URLs as given."""
    if value is None:
        return _checked_sqlite(data_dir / DATABASE_FILE)
    prefix = "sqlite:///"
    rest = value[len(prefix) :] if value.startswith(prefix) else ""
    if not rest or rest == ":memory:":
        return value  # not SQLite, in memory, or malformed (the storage names the problem)
    path = _path(rest, cwd)
    assert path is not None
    return _checked_sqlite(path)


def _checked_sqlite(path: Path) -> str:
    """`sqlite:///` + an absolute file; refused inside the package (and, installed, inside site-packages)."""
    forbidden = [PACKAGE_DIR] if source_checkout() else [PACKAGE_DIR, PROJECT_ROOT]
    for folder in forbidden:
        if path.resolve().is_relative_to(folder):
            raise ConfigError(
                f"the database {path} would be inside the package ({folder}): "
                "set DATA_DIR or DATABASE_URL to a folder outside it"
            )
    return f"sqlite:///{path}"
