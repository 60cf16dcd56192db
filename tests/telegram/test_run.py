"""`python -m bot run` as a process: clear one-line failures, the token never logged, clean stop on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from bot.config import PROJECT_ROOT
from tests.emulator import BotApiEmulator
from tests.emulator.pytest_plugin import TEST_TOKEN

SECRET = TEST_TOKEN.split(":")[1]


async def run_bot(environ: dict[str, str], *, serve_for: float | None = None) -> tuple[int, str, str]:
    """Run `python -m bot run`; with `serve_for`, send SIGTERM that many seconds after it logs that it is serving (a
    fixed pause from the start raced a slow start under load: the signal came before the bot's handler was set)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TELEGRAM_")} | environ
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        "--env-file",
        "/nonexistent",
        cwd=PROJECT_ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    early = b""
    if serve_for is not None:
        assert process.stderr is not None
        while line := await asyncio.wait_for(process.stderr.readline(), timeout=60):
            early += line
            if b" serving " in line:
                await asyncio.sleep(serve_for)  # its first long poll goes out meanwhile
                process.send_signal(signal.SIGTERM)
                break
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    return process.returncode, stdout.decode(), (early + stderr).decode()


async def test_a_token_the_server_rejects_ends_with_one_clear_line(bot_api: BotApiEmulator, tmp_path: Path) -> None:
    code, out, err = await run_bot(
        {
            "TELEGRAM_BOT_TOKEN": "999999:WRONG-token-value",
            "TELEGRAM_API_BASE_URL": bot_api.base_url,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'q.db'}",
        }
    )
    assert code == 1
    assert err.strip().splitlines()[-1] == f"error: the Bot API at {bot_api.base_url} rejected the token 999999:***"
    assert "Traceback" not in err and "WRONG-token-value" not in out + err


async def test_an_unreachable_api_ends_with_one_clear_line(tmp_path: Path) -> None:
    code, _, err = await run_bot(
        {
            "TELEGRAM_BOT_TOKEN": TEST_TOKEN,
            "TELEGRAM_API_BASE_URL": "http://127.0.0.1:9/bot",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'q.db'}",
        }
    )
    assert code == 1 and "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("error: cannot reach the Bot API at http://127.0.0.1:9/bot")


@pytest.mark.slow
async def test_missing_token_and_broken_bank_refuse_to_start(tmp_path: Path) -> None:
    code, _, err = await run_bot({})
    assert code == 2 and err.strip() == (
        "error: TELEGRAM_BOT_TOKEN is not set: put the token from @BotFather in the environment or .env"
    )
    (tmp_path / "bad.yaml").write_text("topic: [\n", encoding="utf-8")
    code, _, err = await run_bot({"TELEGRAM_BOT_TOKEN": TEST_TOKEN, "QUESTIONS_PATH": str(tmp_path)})
    assert code == 1 and "bad.yaml:" in err and "YAML syntax error" in err and "Traceback" not in err


async def test_serving_logs_the_bank_never_the_token_and_stops_on_sigterm(
    bot_api: BotApiEmulator, tmp_path: Path
) -> None:
    code, out, err = await run_bot(
        {
            "TELEGRAM_BOT_TOKEN": TEST_TOKEN,
            "TELEGRAM_API_BASE_URL": bot_api.base_url,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'q.db'}",
            "LOG_LEVEL": "DEBUG",
        },
        serve_for=1.0,
    )
    assert code == 0, err
    assert "bot @DeepfakeQuizBot serving" in err and "questions in" in err
    assert SECRET not in out + err
    assert bot_api.calls_to("getUpdates")
