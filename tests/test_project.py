"""Promises about the project itself: the README's commands, CI running the same test command."""

from __future__ import annotations

import re
import subprocess
import sys

from bot import __version__
from bot.config import PROJECT_ROOT


def readme_commands() -> list[str]:
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    setup = readme.split("## Set-up on a fresh machine", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)\n```", setup, flags=re.S)  # every block, one line or several
    assert all("\n" not in block for block in blocks), "a set-up command is one line"
    return blocks


def test_readme_starts_with_exactly_two_setup_commands() -> None:
    commands = readme_commands()
    assert len(commands) == 2
    play, test = commands
    assert "-m bot play" in play and "pip install" in play
    assert "-m pytest" in test and "pip install" in test and "[test]" in test


def test_ci_runs_the_readme_test_command_and_refuses_no_tests() -> None:
    ci = (PROJECT_ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert readme_commands()[1] in ci.splitlines()
    assert '"$status" -eq 5' in ci


def test_help_lists_the_subcommands_and_version_prints() -> None:
    help_text = subprocess.run(
        [sys.executable, "-m", "bot", "--help"], capture_output=True, text=True, check=True, cwd=PROJECT_ROOT
    ).stdout
    for command in ("play", "check", "run"):
        assert command in help_text
    version = subprocess.run(
        [sys.executable, "-m", "bot", "--version"], capture_output=True, text=True, check=True, cwd=PROJECT_ROOT
    ).stdout
    assert __version__ in version
