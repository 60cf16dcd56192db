"""Settings: one place, environment over .env, clear errors, the token never shown."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.config import DEFAULT_API_BASE_URL, ConfigError, load_settings, mask

TOKEN = "123456789:AAH-secret_value-xyz"


def test_defaults() -> None:
    settings = load_settings({})
    assert settings.token is None and settings.api_base_url == DEFAULT_API_BASE_URL
    assert settings.database_url == "sqlite:///data/quiz.db" and settings.log_level == logging.INFO
    assert settings.questions_path.name == "questions" and settings.quiz_length == 5


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
