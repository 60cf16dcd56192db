"""Settings: one place, environment over .env, clear errors, the token never shown, one rule for paths."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

import bot.config
from bot.__main__ import main
from bot.config import (
    DEFAULT_API_BASE_URL,
    DEFAULT_ENV_FILE,
    PACKAGE_DIR,
    PROJECT_ROOT,
    ConfigError,
    load_settings,
    mask,
)

TOKEN = "123456789:AAH-secret_value-xyz"


@pytest.fixture
def user_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The per-user data folder platformdirs gives on Linux, under tmp_path: XDG_DATA_HOME/deepfake-quiz-bot."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    return tmp_path / "xdg" / "deepfake-quiz-bot"


def test_defaults(user_data: Path) -> None:
    settings = load_settings({})
    assert settings.token is None and settings.api_base_url == DEFAULT_API_BASE_URL
    assert settings.log_level == logging.INFO and settings.quiz_length == 5
    # Run from this checkout: its own questions/ (an edited YAML file counts at once), the article beside it, and
    # the database in the per-user data folder, never in the project or the package.
    assert settings.questions_path == PROJECT_ROOT / "questions"
    assert settings.article_path == PROJECT_ROOT.parent / "shared" / "article-zh-Hant.txt"
    assert settings.data_dir == user_data and settings.database_url == f"sqlite:///{user_data / 'quiz.db'}"


def test_environment_wins_over_the_env_file(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(f"TELEGRAM_BOT_TOKEN={TOKEN}\nLOG_LEVEL=debug\nQUIZ_LENGTH=8\n", encoding="utf-8")
    settings = load_settings({"QUIZ_LENGTH": "3"}, env_file=env_file)
    assert settings.token == TOKEN and settings.log_level == logging.DEBUG and settings.quiz_length == 3


def test_the_token_never_appears_in_repr() -> None:
    settings = load_settings({"TELEGRAM_BOT_TOKEN": TOKEN})
    assert TOKEN.split(":")[1] not in repr(settings) and "123456789:***" in repr(settings)
    assert mask(None) == "<unset>" and mask("garbage") == "***"


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"LOG_LEVEL": "loud"}, "LOG_LEVEL"),
        ({"QUIZ_LENGTH": "0"}, "QUIZ_LENGTH"),
        ({"QUIZ_LENGTH": "ten"}, "QUIZ_LENGTH"),
        ({"TELEGRAM_API_BASE_URL": "127.0.0.1:8081/bot"}, "TELEGRAM_API_BASE_URL"),
        ({"PROJECTOR_PORT": "99999"}, "PROJECTOR_PORT must be a port number"),
        ({"PROJECTOR_PORT": "no"}, "PROJECTOR_PORT"),
        ({"PROJECTOR_URL": "quiz.example.org"}, "PROJECTOR_URL must start with http"),
        ({"PROJECTOR_TRUSTED_PROXIES": "127.0.0.1, nginx"}, "PROJECTOR_TRUSTED_PROXIES must be IP addresses"),
    ],
)
def test_bad_settings_are_one_clear_error(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(environ)


@pytest.mark.parametrize("token", [None, "", "nocolon", "123:short", "abc:defghijklmnop", f'"{TOKEN}"'])
def test_missing_or_malformed_tokens_are_refused(token: str | None) -> None:
    settings = load_settings({"TELEGRAM_BOT_TOKEN": token} if token is not None else {})
    with pytest.raises(ConfigError, match="TELEGRAM_BOT_TOKEN") as caught:
        settings.require_token()
    assert "secret" not in str(caught.value)


def test_database_passwords_and_webhook_secrets_are_masked() -> None:
    settings = load_settings(
        {"DATABASE_URL": "postgresql://quiz:hunter2@db:5432/quiz", "WEBHOOK_SECRET": "s3cret-Token_1"}
    )
    assert "hunter2" not in repr(settings) and "s3cret-Token_1" not in repr(settings)


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"WEBHOOK_URL": "quiz.example.org/hook"}, "WEBHOOK_URL"),
        ({"WEBHOOK_PORT": "99999"}, "WEBHOOK_PORT"),
        ({"WEBHOOK_SECRET": "has spaces"}, "WEBHOOK_SECRET"),
        ({"DRILL_MAX_STUDENTS": "0"}, "DRILL_MAX_STUDENTS"),
        ({"GROUP_QUESTION_SECONDS": "fast"}, "GROUP_QUESTION_SECONDS"),
    ],
)
def test_bad_webhook_and_group_settings(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(environ)


def test_relative_paths_are_taken_from_the_working_folder_whoever_sets_them(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / ".env").write_text("QUESTIONS_PATH=bank\nDATA_DIR=state\n", encoding="utf-8")
    environ = {"ARTICLE_PATH": "texts/article.txt", "DATABASE_URL": "sqlite:///db/quiz.db"}
    settings = load_settings(environ, env_file=DEFAULT_ENV_FILE, cwd=work)
    assert settings.questions_path == work / "bank" and settings.data_dir == work / "state"
    assert settings.article_path == work / "texts" / "article.txt"
    assert settings.database_url == f"sqlite:///{work / 'db' / 'quiz.db'}"
    # The same values from the other source resolve the same way.
    swapped = {"QUESTIONS_PATH": "bank", "DATA_DIR": "state"}
    (work / ".env").write_text("ARTICLE_PATH=texts/article.txt\nDATABASE_URL=sqlite:///db/quiz.db\n", encoding="utf-8")
    assert load_settings(swapped, env_file=DEFAULT_ENV_FILE, cwd=work) == settings


def test_the_env_file_is_the_working_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text("QUIZ_LENGTH=7\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert load_settings({}, env_file=DEFAULT_ENV_FILE).quiz_length == 7
    assert load_settings({}).quiz_length == 5  # no env_file: none is read
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    assert load_settings({}, env_file=DEFAULT_ENV_FILE).quiz_length == 5  # no search in parent folders


def test_the_database_defaults_into_the_data_folder(tmp_path: Path, user_data: Path) -> None:
    assert load_settings({"DATA_DIR": str(tmp_path / "d")}).database_url == f"sqlite:///{tmp_path / 'd' / 'quiz.db'}"
    home = Path("~").expanduser()
    assert load_settings({"DATA_DIR": "~/quiz-data"}).data_dir == home / "quiz-data"
    # DATABASE_URL wins over DATA_DIR; absolute, in-memory and PostgreSQL URLs are kept as they are.
    for url in ("sqlite:////srv/quiz/quiz.db", "sqlite:///:memory:", "postgresql://quiz@db/quiz"):
        assert load_settings({"DATA_DIR": str(tmp_path), "DATABASE_URL": url}).database_url == url
    assert load_settings({"DATABASE_URL": "sqlite:///~/q.db"}).database_url == f"sqlite:///{home / 'q.db'}"


def test_a_database_inside_the_package_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="inside the package"):
        load_settings({"DATABASE_URL": f"sqlite:///{PACKAGE_DIR / 'data' / 'quiz.db'}"})
    with pytest.raises(ConfigError, match="DATA_DIR"):
        load_settings({"DATA_DIR": "data"}, cwd=PACKAGE_DIR)
    # In a checkout, data/ in the project folder is the database's old home and still allowed.
    assert load_settings({"DATA_DIR": "data"}, cwd=PROJECT_ROOT).data_dir == PROJECT_ROOT / "data"


def test_an_installed_package_uses_its_shipped_bank(
    tmp_path: Path, user_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As from a wheel: the bank inside the package, the article in the data folder, nothing written in
    site-packages (here the folder holding bot/)."""
    shipped = tmp_path / "site-packages" / "bot" / "bank_data"
    shipped.mkdir(parents=True)
    monkeypatch.setattr(bot.config, "shipped_bank", lambda: shipped)
    settings = load_settings({})
    assert settings.questions_path == shipped
    assert settings.article_path == user_data / "article-zh-Hant.txt"
    assert settings.database_url == f"sqlite:///{user_data / 'quiz.db'}"
    with pytest.raises(ConfigError, match="inside the package"):
        load_settings({"DATA_DIR": "data"}, cwd=PROJECT_ROOT)


def test_the_checkout_bank_is_the_default_outside_an_install() -> None:
    assert bot.config.shipped_bank() is None  # this test suite runs from the source tree or an editable install
    assert bot.config.source_checkout() == PROJECT_ROOT
    assert bot.config.default_questions_path() == PROJECT_ROOT / "questions"


@pytest.mark.parametrize("command", [["report", "ABCD2345"], ["items"]])
def test_report_and_items_never_create_a_database(
    command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The working folder's .env names the data folder; with no database there, one line and exit 1."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("DATA_DIR", raising=False)
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    (tmp_path / ".env").write_text("DATA_DIR=state\n", encoding="utf-8")
    assert main(command) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.startswith(f"error: no database at {tmp_path / 'state' / 'quiz.db'}: ")
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "state").exists()


@pytest.mark.parametrize(
    ("environ", "base"),
    [
        ({}, "http://127.0.0.1:8787"),
        ({"PROJECTOR_LISTEN": "0.0.0.0", "PROJECTOR_PORT": "9000"}, "http://127.0.0.1:9000"),
        ({"PROJECTOR_LISTEN": "::"}, "http://[::1]:8787"),  # asyncio binds "::" to IPv6 only
        ({"PROJECTOR_LISTEN": "fd00::5"}, "http://[fd00::5]:8787"),
        ({"PROJECTOR_URL": "https://quiz.example.org/"}, "https://quiz.example.org"),
        ({"PROJECTOR_PORT": "off", "PROJECTOR_URL": "https://quiz.example.org"}, None),
    ],
)
def test_where_projector_links_start(environ: dict[str, str], base: str | None) -> None:
    assert load_settings(environ).projector_base == base
