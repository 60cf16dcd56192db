"""No command ever shows a secret: every `python -m bot` command, run against a database URL with a password and
a bot token, keeps both out of stdout, stderr and the log (issue: `report` once printed the whole DATABASE_URL)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

PASSWORD = "S3cret-PW-never-shown"
TOKEN_SECRET = "AAHsecretTOKENpartNEVERshown"
WEBHOOK_SECRET = "hook-secret-never-shown"

# These open the database: against a server that isn't there they retry for the storage's 5 s before giving up.
WAITING = {"items", "play", "run"}
COMMANDS = [
    ["report", "ABC234"],
    ["report", "ABC234", "--csv", "out.csv"],
    ["items"],
    ["items", "--since", "2024-01-01", "--csv", "out.csv"],
    ["play", "--count", "1"],
    ["check"],
    ["check", "--stats"],
    ["run"],
    ["run", "--webhook"],
    ["--help"],
]


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://quiz:{PASSWORD}@127.0.0.1:9/quiz",
        f"postgresql://quiz@127.0.0.1:9/quiz?password={PASSWORD}",
    ],
)
@pytest.mark.parametrize(
    "command",
    [pytest.param(c, id=" ".join(c), marks=[pytest.mark.slow] if c[0] in WAITING else []) for c in COMMANDS],
)
def test_no_command_shows_a_password_or_the_token(tmp_path: Path, url: str, command: list[str]) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "TELEGRAM_BOT_TOKEN": f"123456:{TOKEN_SECRET}",
        "TELEGRAM_API_BASE_URL": "http://127.0.0.1:9/bot",  # nothing listens: `run` fails fast, and says so
        "WEBHOOK_URL": "https://example.org/hook",
        "WEBHOOK_SECRET": WEBHOOK_SECRET,
        "LOG_LEVEL": "DEBUG",
    }
    result = subprocess.run(
        [sys.executable, "-m", "bot", *command],
        input="1\n\n",
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
        check=False,
    )
    output = result.stdout + result.stderr
    for secret in (PASSWORD, TOKEN_SECRET, WEBHOOK_SECRET):
        assert secret not in output, f"{' '.join(command)} showed a secret:\n{output[-2000:]}"
    assert "Traceback" not in output, output[-2000:]
