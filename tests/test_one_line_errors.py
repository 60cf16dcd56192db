"""Failures that printed a traceback where every other failure gives one `error: …` line, each now one line with the
exit status of its kind (2: a setting or the settings file; 1: the Bot API, the storage or the webhook's port at
start-up).

- an unreadable `.env` (a 25-line PermissionError), or one that is not UTF-8;
- TELEGRAM_API_BASE_URL pointing at a web server that is not a Bot API (27 lines of JSONDecodeError from PTB, then
  a misleading "rejected the token" for a 404, or a KeyError / TelegramError traceback for a 200);
- a malformed token's message now says what a token looks like, lengths included;
- `run --webhook` on a port another process holds (a 38-line OSError);
- while running: a failed getUpdates (a second poller, an outage) and a rate limit given up, one line each.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from aiohttp import web
from telegram.error import RetryAfter

import bot.config
from bot.__main__ import main
from bot.logs import loud_routine_logs, quiet_routine_logs
from tests.emulator import BotApiEmulator
from tests.emulator.pytest_plugin import TEST_TOKEN
from tests.telegram.conftest import start_bot

SECRET = TEST_TOKEN.split(":")[1]
NOBODY = 65534


def environment(**settings: str) -> dict[str, str]:
    """The process environment without any of the bot's settings, plus `settings`."""
    own = ("TELEGRAM_", "DATABASE_URL", "LOG_LEVEL", "QUESTIONS_PATH", "DATA_DIR", "WEBHOOK_")
    return {k: v for k, v in os.environ.items() if not k.startswith(own)} | settings


async def run(*args: str, cwd: Path, env: dict[str, str]) -> tuple[int, str]:
    """`python -m bot ARGS` in `cwd`; its exit status and stderr."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, stderr.decode()


def error_lines(stderr: str) -> list[str]:
    """stderr without the log's lines (`2025-… INFO …`): what the command itself printed."""
    return [line for line in stderr.splitlines() if not line[:4].isdigit()]


# ---------------------------------------------------------------------------------------------- the .env file


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A folder any user may enter (pytest's tmp_path sits under a folder only its owner may)."""
    folder = Path(tempfile.mkdtemp(prefix="env-test-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


# As root, a mode-000 file is readable all the same: the child then gives up root before it reads any settings (it
# imports the bot first, as the interpreter's own files may sit where only root may look).
AS_NOBODY = f"""
import os, sys
from bot.__main__ import main
os.setgroups([])
os.setresgid({NOBODY}, {NOBODY}, {NOBODY})
os.setresuid({NOBODY}, {NOBODY}, {NOBODY})
sys.exit(main(sys.argv[1:]))
"""


def bot_command(*args: str) -> list[str]:
    """`python -m bot ARGS`, run as a user file permissions apply to (nobody, when the tests run as root)."""
    if os.geteuid() == 0:
        return [sys.executable, "-c", AS_NOBODY, *args]
    return [sys.executable, "-m", "bot", *args]


def test_an_unreadable_env_file_is_one_line_and_exit_2(shared_dir: Path) -> None:
    """A real mode-000 .env, refused by the kernel (as root, to a child that has given up root first)."""
    env_file = shared_dir / ".env"
    env_file.write_text("LOG_LEVEL=INFO\n", encoding="utf-8")
    env_file.chmod(0o000)
    for command in (["run"], ["check"], ["play", "--count", "1"]):
        result = subprocess.run(
            bot_command(*command),
            cwd=shared_dir,
            env=environment(HOME=str(shared_dir)),
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        assert (result.returncode, result.stderr) == (2, "error: cannot read .env: Permission denied\n"), command


def test_a_permission_error_reading_env_is_a_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The same refusal, simulated (for where the real one above is skipped): reading the file fails with EACCES."""
    (tmp_path / "settings.env").write_text("LOG_LEVEL=INFO\n", encoding="utf-8")

    read_text = Path.read_text

    def refused(path: Path, *args: object, **kwargs: object) -> str:
        if path.name == "settings.env":
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return read_text(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "read_text", refused)
    monkeypatch.chdir(tmp_path)
    assert main(["run", "--env-file", "settings.env"]) == 2
    assert capsys.readouterr().err == "error: cannot read settings.env: Permission denied\n"


async def test_an_env_file_that_is_not_utf8_is_one_line_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / ".env").write_bytes("LOG_LEVEL=INFO\nQUESTIONS_PATH=café\n".encode("latin-1"))
    code, err = await run("check", cwd=tmp_path, env=environment())
    assert code == 2
    assert err == "error: cannot read .env: it is not UTF-8 text (byte 0xe9 at offset 33); save it as UTF-8\n"


async def test_an_env_line_that_is_not_a_setting_is_one_line_naming_it_and_exit_2(tmp_path: Path) -> None:
    """python-dotenv skips such a line with a warning, and the setting quietly keeps its default: refused instead.
    Only the line's number is shown: a half-pasted line may hold the token."""
    (tmp_path / ".env").write_text("LOG_LEVEL=INFO\nTELEGRAM_BOT_TOKEN 123456:ABCsecretPART\n", encoding="utf-8")
    code, err = await run("check", cwd=tmp_path, env=environment())
    assert code == 2
    assert err == "error: cannot read .env: line 2 is not NAME=value (see .env.example)\n"


def test_a_folder_named_env_is_no_settings_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A virtualenv called .env is common: it is not read, and not an error."""
    (tmp_path / ".env").mkdir()
    assert bot.config.load_settings({}, env_file=Path(".env"), cwd=tmp_path).quiz_length == 5


# ---------------------------------------------------------------------------------------------- the token


async def test_a_malformed_token_says_what_a_token_looks_like(tmp_path: Path) -> None:
    code, err = await run("run", cwd=tmp_path, env=environment(TELEGRAM_BOT_TOKEN="123456:short"))
    assert code == 2
    assert err == (
        "error: TELEGRAM_BOT_TOKEN is malformed (123456:***): expected <1-20 digits>:<at least 8 letters, digits, _ or "
        "-> (the whole token from @BotFather, without quotes or spaces)\n"
    )


# ------------------------------------------------------------------------------- a base URL that is not a Bot API

WEB_PAGE = "<!DOCTYPE html>\n<html>\n  <body>\n    <h1>It works!</h1>\n  </body>\n</html>\n"
LONG_PAGE = f"<html><head><title>Not Found</title></head><body><p>The requested URL /bot{TEST_TOKEN}/getMe was not"
# A web server's answer to anything under /<case>/, and what the error says it answered.
PAGES = {
    "page": (
        200,
        "text/html",
        WEB_PAGE,
        "with '<!DOCTYPE html> <html> <body> <h1>It works!</h1> </body> </html>'",
    ),
    # Apache's "not found" page quotes the URL, token and all: masked in the error.
    "not-found-quoting-the-url": (
        404,
        "text/html",
        f"<html><body>/bot{TEST_TOKEN}/getMe was not found</body></html>",
        "HTTP 404 Not Found with '<html><body>/bot123456:***/getMe was not found</body></html>'",
    ),
    # Only the start of a long page is quoted, cut between words: a cut inside the URL would show part of the
    # token, which no masking (of the whole token) catches.
    "long-page": (
        404,
        "text/html",
        LONG_PAGE,
        "HTTP 404 Not Found with '<html><head><title>Not Found</title></head><body><p>The requested URL /…'",
    ),
    "other-json": (
        200,
        "application/json",
        '{"status": "fine", "items": []}',
        """with '{"status": "fine", "items": []}'""",
    ),
    "bad-gateway": (
        502,
        "text/html",
        "<html>Bad Gateway</html>",
        "HTTP 502 Bad Gateway with '<html>Bad Gateway</html>'",
    ),
}


@pytest.fixture
async def web_server() -> AsyncIterator[str]:
    """A plain web server (not a Bot API) answering under /<case>/ with PAGES[case]; yields its root URL."""

    async def answer(request: web.Request) -> web.Response:
        await request.read()
        status, content_type, body, _ = PAGES[request.match_info["case"]]
        return web.Response(status=status, text=body, content_type=content_type)

    app = web.Application()
    app.router.add_route("*", "/{case}/{tail:.*}", answer)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@pytest.mark.slow
async def test_a_base_url_that_is_not_a_bot_api_is_one_line_and_exit_1(web_server: str, tmp_path: Path) -> None:
    """Each kind of foreign server (PAGES), one `python -m bot run` each, all at once."""

    async def start(case: str) -> tuple[int, str]:
        env = environment(
            TELEGRAM_BOT_TOKEN=TEST_TOKEN,
            TELEGRAM_API_BASE_URL=f"{web_server}/{case}/bot",
            DATABASE_URL=f"sqlite:///{tmp_path / case}.db",
        )
        return await run("run", "--env-file", "/nonexistent", cwd=tmp_path, env=env)

    results = dict(zip(PAGES, await asyncio.gather(*map(start, PAGES)), strict=True))
    for case, (code, err) in results.items():
        base_url, answered = f"{web_server}/{case}/bot", PAGES[case][3]
        assert code == 1, (case, err)
        assert error_lines(err) == [
            f"error: {base_url} does not look like a Bot API server (check TELEGRAM_API_BASE_URL): it answered "
            f"{answered}, not the Bot API's JSON"
        ], (case, err)
        assert "Traceback" not in err and SECRET not in err, (case, err)
        assert len(err.splitlines()) == 2, (case, err)  # the log's "starting" line and the error


@pytest.mark.slow
async def test_the_real_bot_api_errors_keep_their_messages(bot_api: BotApiEmulator, tmp_path: Path) -> None:
    """A Bot API's own refusal is not mistaken for a foreign server: a rejected token is still said so."""
    env = environment(
        TELEGRAM_BOT_TOKEN="999999:WRONG-token-value",
        TELEGRAM_API_BASE_URL=bot_api.base_url,
        DATABASE_URL=f"sqlite:///{tmp_path / 'q.db'}",
    )
    code, err = await run("run", "--env-file", "/nonexistent", cwd=tmp_path, env=env)
    assert code == 1
    assert error_lines(err) == [f"error: the Bot API at {bot_api.base_url} rejected the token 999999:***"]


@pytest.mark.slow
async def test_a_webhook_port_in_use_is_one_line_and_exit_1(bot_api: BotApiEmulator, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = environment(
            TELEGRAM_BOT_TOKEN=TEST_TOKEN,
            TELEGRAM_API_BASE_URL=bot_api.base_url,
            DATABASE_URL=f"sqlite:///{tmp_path / 'q.db'}",
            WEBHOOK_URL="https://quiz.example.org/telegram",
            WEBHOOK_SECRET="hook-secret",
            WEBHOOK_LISTEN="127.0.0.1",
            WEBHOOK_PORT=str(port),
        )
        code, err = await run("run", "--webhook", "--env-file", "/nonexistent", cwd=tmp_path, env=env)
    assert code == 1 and "Traceback" not in err
    assert error_lines(err) == [f"error: cannot serve the webhook on 127.0.0.1:{port}: Address already in use"]


# ---------------------------------------------------------------------------------------------- while running


@pytest.mark.parametrize(
    ("status", "level", "text"),
    [
        (409, logging.ERROR, "polling for updates failed: Conflict: terminated by other getUpdates request"),
        (502, logging.WARNING, "polling for updates failed: NetworkError: Bad Gateway; trying again"),
    ],
    ids=["conflict", "bad-gateway"],
)
async def test_a_failed_poll_is_one_line(
    bot_api: BotApiEmulator, tmp_path: Path, caplog: pytest.LogCaptureFixture, status: int, level: int, text: str
) -> None:
    caplog.set_level(logging.INFO)
    description = "Conflict: terminated by other getUpdates request" if status == 409 else None
    bot_api.fail_next("getUpdates", status=status, description=description)
    runtime = await start_bot(bot_api, f"sqlite:///{tmp_path / 'quiz.db'}")
    try:
        await bot_api.wait_for("getUpdates", lambda c: c.status == status)
        for _ in range(100):
            if any(r.getMessage().startswith("polling") for r in caplog.records):
                break
            await asyncio.sleep(0.02)
    finally:
        await runtime.stop()
    polls = [r for r in caplog.records if r.getMessage().startswith("polling for updates")]
    assert len(polls) == 1 and polls[0].levelno == level and polls[0].getMessage().startswith(text), polls
    assert polls[0].exc_info is None and polls[0].exc_text is None
    assert not [r for r in caplog.records if r.exc_info or r.exc_text]


def test_a_rate_limit_given_up_is_one_line(caplog: pytest.LogCaptureFixture) -> None:
    """PTB's AIORateLimiter logs giving up on a 429 with `_LOGGER.exception`: one line with Telegram's answer."""
    quiet_routine_logs()
    try:
        logging.getLogger("telegram.ext.AIORateLimiter").exception(
            "Rate limit hit after maximum of %d retries", 3, exc_info=RetryAfter(7)
        )
    finally:
        loud_routine_logs()
    [record] = caplog.records
    assert record.levelno == logging.ERROR and record.exc_info is None and record.exc_text is None
    assert record.getMessage() == (
        "Rate limit hit after maximum of 3 retries; gave up: RetryAfter: Flood control exceeded. Retry in 7 seconds"
    )


@pytest.mark.parametrize("text", ["nope", "BO0K-1", "ABCD23456"])
def test_a_code_of_the_wrong_shape_says_what_a_code_looks_like(
    text: str, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env, no database: the shape is refused before either is looked at
    assert main(["report", text]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        f"error: {text!r} is not a drill code: a code is 8 letters and digits, like ABCD2345 (no 0, O, 1, I or L)"
    ]
