"""Every setting the bot reads is in `.env.example` and in both settings tables, README.md's and docs/deploy.md's
(issue: TELEGRAM_RATE_LIMITER was in `.env.example` and in neither table)."""

from __future__ import annotations

import re

import pytest

from bot.config import PROJECT_ROOT

CONFIG = (PROJECT_ROOT / "bot" / "config.py").read_text(encoding="utf-8")
# load_settings reads each setting through get("NAME") or seconds("NAME", ...).
SETTINGS = sorted(set(re.findall(r"\b(?:get|seconds)\(\"([A-Z][A-Z0-9_]+)\"", CONFIG)))


def table_settings(document: str) -> set[str]:
    """The names in the first column of a document's settings table (`| `A`, `B` | default | meaning |`)."""
    text = (PROJECT_ROOT / document).read_text(encoding="utf-8")
    names: set[str] = set()
    for line in text.splitlines():
        if line.startswith("| `"):
            names.update(re.findall(r"`([A-Z][A-Z0-9_]+)`", line.split("|")[1]))
    return names


def test_the_settings_are_found() -> None:
    assert {"TELEGRAM_BOT_TOKEN", "LOG_LEVEL", "TELEGRAM_RATE_LIMITER", "GROUP_LOBBY_SECONDS"} <= set(SETTINGS)


@pytest.mark.parametrize("document", ["README.md", "docs/deploy.md"])
def test_every_setting_is_in_the_settings_table(document: str) -> None:
    assert [name for name in SETTINGS if name not in table_settings(document)] == []


def test_every_setting_is_in_env_example() -> None:
    example = (PROJECT_ROOT / ".env.example").read_text(encoding="utf-8")
    written = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", example, flags=re.MULTILINE))
    assert [name for name in SETTINGS if name not in written] == []
