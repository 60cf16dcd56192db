"""The wheel is what gets deployed. Built from the files the container's build stage copies, installed in a fresh
virtual environment, it plays a scripted quiz from an unrelated folder, keeps its database where the settings' rule
says (bot/config.py), never creates one for `report`, and writes nothing into its own installation."""

from __future__ import annotations

import os
import re
import resource
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from bot.config import PROJECT_ROOT

# What the wheel is built from: the same list as deploy/Containerfile's build stage.
SOURCES = ("pyproject.toml", "README.md", "bot", "questions")
DRILL_CODE = "ABCD2345"  # well-formed; no drill has it


def test_every_package_folder_is_in_the_wheel() -> None:
    """pyproject.toml lists packages by hand (bot.bank_data maps to questions/): a new folder under bot/ that is
    not listed would be left out of the wheel, and only an installed copy would notice."""
    setuptools = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    folders = {
        ".".join(folder.relative_to(PROJECT_ROOT).parts)
        for folder in [PROJECT_ROOT / "bot", *(PROJECT_ROOT / "bot").rglob("*")]
        if folder.is_dir() and folder.name != "__pycache__" and any(f.is_file() for f in folder.iterdir())
    }
    assert set(setuptools["packages"]) == folders | {"bot.bank_data"}
    assert setuptools["package-dir"] == {"bot.bank_data": "questions"}
    assert set(setuptools["package-data"]["bot.bank_data"]) == {"*.yaml", "*.txt"}


def test_the_container_installs_the_wheel_not_a_source_copy() -> None:
    text = (PROJECT_ROOT / "deploy" / "Containerfile").read_text(encoding="utf-8")
    stages = re.split(r"^FROM ", text, flags=re.MULTILINE)
    assert len(stages) == 3, "expected a build stage and a runtime stage"
    build, runtime = stages[1], stages[2]
    copied = re.findall(r"^COPY (?!--from)(.+?) \./\S*$", build, flags=re.MULTILINE)
    assert {name.rstrip("/") for line in copied for name in line.split()} == set(SOURCES)
    assert "pip wheel --no-deps --wheel-dir /wheels ." in build
    assert re.findall(r"^COPY .*$", runtime, flags=re.MULTILINE) == ["COPY --from=build /wheels/ /tmp/wheels/"]
    assert "pip install /tmp/wheels/*.whl" in runtime and "QUESTIONS_PATH" not in runtime
    for kept in ("fonts-noto-cjk", "MPLCONFIGDIR=", "DATA_DIR=/data", 'VOLUME ["/data"]', "USER quizbot"):
        assert kept in runtime


def _files(folder: Path) -> set[str]:
    """Every file under `folder`, bytecode caches aside (pip compiles them at install time)."""
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts}


def _children_cpu_seconds() -> float:
    """CPU time used so far by this process's finished child processes (pip, the venv, the bot's commands)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@pytest.mark.slow(first=True)  # the longest test, and one that computes: it starts the run (tests/conftest.py)
def test_the_wheel_plays_from_any_folder(tmp_path: Path) -> None:
    started = _children_cpu_seconds()
    source = tmp_path / "source"
    for name in SOURCES:
        if (PROJECT_ROOT / name).is_dir():
            shutil.copytree(PROJECT_ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            source.mkdir(exist_ok=True)
            shutil.copy2(PROJECT_ROOT / name, source / name)
    wheels, venv = tmp_path / "wheels", tmp_path / "venv"

    def setup(*command: str | Path) -> None:
        result = subprocess.run([str(c) for c in command], capture_output=True, text=True, check=False)
        assert result.returncode == 0, f"{command}:\n{result.stdout}\n{result.stderr}"

    setup(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--wheel-dir", wheels, source)
    [wheel] = wheels.glob("deepfake_quiz_bot-*.whl")
    setup(sys.executable, "-m", "venv", venv)
    python = venv / "bin" / "python"
    setup(python, "-m", "pip", "install", "-q", "--disable-pip-version-check", wheel)
    installed = _files(venv)

    home, elsewhere = tmp_path / "home", tmp_path / "elsewhere"
    home.mkdir()
    elsewhere.mkdir()
    env = {
        "PATH": f"{venv / 'bin'}{os.pathsep}{os.defpath}",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "PYTHONIOENCODING": "utf-8",
        "LOG_LEVEL": "WARNING",
    }

    def bot(*args: str, cwd: Path, stdin: str = "", script: bool = False) -> subprocess.CompletedProcess[str]:
        command = [str(venv / "bin" / "deepfake-quiz-bot")] if script else [str(python), "-m", "bot"]
        return subprocess.run(
            [*command, *args], input=stdin, capture_output=True, text=True, env=env, cwd=cwd, check=False, timeout=60
        )

    where = subprocess.run(
        [python, "-c", "import bot.config as c; print(c.PACKAGE_DIR); print(c.default_questions_path())"],
        capture_output=True, text=True, env=env, cwd=elsewhere, check=True,
    ).stdout.split()  # fmt: skip
    site_packages = Path(where[0]).parent
    assert site_packages.is_relative_to(venv) and where[1] == str(site_packages / "bot" / "bank_data")

    # The script, no settings at all: the shipped bank, the database in the per-user data folder.
    play = ("play", "--lang", "en", "--count", "2", "--seed", "7", "--no-confidence")
    first = bot(*play, cwd=elsewhere, stdin="1\n1\n", script=True)
    assert first.returncode == 0, first.stderr
    assert "Quiz complete" in first.stdout and "/2" in first.stdout
    assert (home / ".local" / "share" / "deepfake-quiz-bot" / "quiz.db").is_file()

    # python -m bot, with the working folder's .env naming a relative data folder: taken from the working folder.
    (elsewhere / ".env").write_text("DATA_DIR=state\n", encoding="utf-8")
    second = bot(*play, cwd=elsewhere, stdin="2\n2\n")
    assert second.returncode == 0, second.stderr
    assert "Quiz complete" in second.stdout
    assert (elsewhere / "state" / "quiz.db").is_file()

    # `report` with no database there: one line, exit 1, and still no database.
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / ".env").write_text("DATA_DIR=nothing-yet\n", encoding="utf-8")
    report = bot("report", DRILL_CODE, cwd=empty)
    assert report.returncode == 1 and report.stdout == ""
    assert report.stderr.startswith(f"error: no database at {empty / 'nothing-yet' / 'quiz.db'}: ")
    assert len(report.stderr.strip().splitlines()) == 1 and not (empty / "nothing-yet").exists()

    check = bot("check", cwd=elsewhere)
    assert check.returncode == 0, check.stderr
    assert "ok:" in check.stdout and "quotes were NOT checked" in check.stdout

    assert _files(venv) == installed, "the bot wrote into its own installation"
    assert not list(venv.rglob("*.db"))
    # A budget in CPU time, not by the clock: the suite runs in parallel (pytest-xdist), and beside the other tests
    # on 2 cores the same work takes two or three times as long by the clock. Measured at about 30 s with a warm pip
    # cache; building a dependency from source would blow it.
    assert _children_cpu_seconds() - started < 90
