"""Shared fixtures: a small synthetic article and bank, so core tests do not depend on the real files."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.config import PROJECT_ROOT, load_settings
from bot.core.article import Article
from bot.core.loader import load_bank
from bot.core.model import QuestionBank

pytest_plugins = ["tests.emulator.pytest_plugin"]

# The article is not part of the project (it is quoted, not copied): ARTICLE_PATH names it, else the default beside
# the checkout. Only that one variable is taken from the environment, so a developer's .env can't change the tests.
# Every bot a test starts, in this process or as `python -m bot run`, serves its projector page on a free port of its
# own: the default port would be taken by whichever test started first (the tests run side by side).
os.environ.setdefault("PROJECTOR_PORT", "0")
REAL_ARTICLE = load_settings({k: v for k, v in os.environ.items() if k == "ARTICLE_PATH"}).article_path
# .ci/run sets this where the article belongs (beside this tree): there a missing article fails instead of skipping.
ARTICLE_REQUIRED = os.environ.get("REQUIRE_ARTICLE") == "1"


def need_article() -> Article:
    """The real article; a test that needs it is skipped, loudly, when it is not there (failed where it must be)."""
    if not REAL_ARTICLE.is_file():
        message = f"the article is not at {REAL_ARTICLE}: set ARTICLE_PATH to check the quotes against it"
        if ARTICLE_REQUIRED:
            pytest.fail(message + " (REQUIRE_ARTICLE=1: it must be here)")
        pytest.skip(message)
    return Article.load(REAL_ARTICLE)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say it where nobody can miss it: checks against the article were skipped."""
    if not REAL_ARTICLE.is_file():
        terminalreporter.write_sep(
            "!", f"ARTICLE MISSING at {REAL_ARTICLE}: every check against it was SKIPPED (set ARTICLE_PATH)", red=True
        )


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """How many processes `-n auto` (pyproject.toml's addopts) runs the tests in: four a core, at most 16. The tests
    mostly wait (timers, the Bot API emulator, PostgreSQL, subprocesses), not compute: on 2 cores 8 workers finish
    sooner than 4 or 6 (the whole suite without PostgreSQL: 126 s with 4, 109 s with 6, 104 s with 8; 380 s in one
    process). PYTEST_XDIST_AUTO_NUM_WORKERS, when set, decides instead."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None  # pytest-xdist's own hook reads it
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return min(16, 4 * cores)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The slow tests spread through the first half of the run, one every so many others, with `slow(first=True)`
    ones at the very start. The tests run in parallel (pytest-xdist, see pyproject.toml), each worker given a test or
    two at a time: most slow tests wait (timers, the rate limiter) rather than compute, so side by side with the
    others they cost little, but all at once they leave the cores idle, and one started last ends the run alone.
    Every worker sorts the same way (xdist requires it); the rest keep their order."""

    marks = {item: item.get_closest_marker("slow") for item in items}
    waiting = sorted(
        (item for item, mark in marks.items() if mark), key=lambda item: not marks[item].kwargs.get("first")
    )
    others = [item for item, mark in marks.items() if not mark]
    gap = max(1, len(others) // (2 * len(waiting) or 1))
    ordered: list[pytest.Item] = []
    for n, item in enumerate(waiting):
        ordered += [item, *others[n * gap : (n + 1) * gap]]
    items[:] = ordered + others[len(waiting) * gap :]


ARTICLE_TEXT = """標題
第二段:有人咬了一口餅乾,但餅乾上並未出現咬痕。
第三段:“眼見爲實”可能已成過去。
"""


def question_yaml(
    qid: str,
    *,
    qtype: str = "choice",
    skill: str = "recall",
    difficulty: int = 1,
    answer: int = 0,
    options: tuple[str, ...] = ("甲", "乙", "丙"),
    paragraph: int = 2,
    quote: str = "有人咬了一口餅乾",
    explanation: str = "因果關係是弱點。",
    extra: str = "",
) -> str:
    """One question in the bank's YAML form (options get English names Option A, B, C...)."""
    lines = [
        f"  - id: {qid}",
        f"    type: {qtype}",
        f"    skill: {skill}",
        f"    difficulty: {difficulty}",
        "    prompt:",
        "      zh-Hant: 餅乾上出現了什麼？",
        "      en: What appears on the cookie?",
        "    options:",
    ]
    for index, text in enumerate(options):
        lines += [f"      - zh-Hant: {text}", f"        en: Option {chr(65 + index)}"]
    lines += [
        f"    answer: {answer}",
        "    explanation:",
        f"      zh-Hant: {explanation}",
        "      en: Cause and effect is a weak spot.",
        "    source:",
        f"      paragraph: {paragraph}",
        "      quote:",
        f"        zh-Hant: {quote}",
        "        en: Someone bit a cookie",
    ]
    return "\n".join(lines) + "\n" + extra


def topic_yaml(topic: str, questions: list[str]) -> str:
    return f"topic:\n  id: {topic}\n  title:\n    zh-Hant: 主題{topic}\n    en: Topic {topic}\nquestions:\n" + "".join(
        questions
    )


@pytest.fixture
def article(tmp_path: Path) -> Article:
    path = tmp_path / "article.txt"
    path.write_text(ARTICLE_TEXT, encoding="utf-8")
    return Article.load(path)


@pytest.fixture
def write_bank(tmp_path: Path) -> Callable[[dict[str, str]], Path]:
    """Write {file name: YAML text} into a fresh folder and return it."""

    def write(files: dict[str, str]) -> Path:
        folder = tmp_path / "bank"
        folder.mkdir(exist_ok=True)
        for name, text in files.items():
            (folder / name).write_text(text, encoding="utf-8")
        return folder

    return write


@pytest.fixture
def small_bank(write_bank: Callable[[dict[str, str]], Path], article: Article) -> QuestionBank:
    """Two topics, eight questions, difficulties 1-3."""
    alpha = [question_yaml(f"alpha-{n}", difficulty=1 + n % 3, answer=n % 3) for n in range(5)]
    alpha.append(question_yaml("alpha-tf", qtype="true_false", options=("對", "錯"), answer=1))
    beta = [question_yaml(f"beta-{n}", difficulty=2, paragraph=3, quote="“眼見爲實”可能已成過去") for n in range(2)]
    folder = write_bank({"alpha.yaml": topic_yaml("alpha", alpha), "beta.yaml": topic_yaml("beta", beta)})
    report = load_bank([folder], article=article)
    assert report.bank is not None, report.render()
    return report.bank


@pytest.fixture
def project_root() -> Path:
    return PROJECT_ROOT
