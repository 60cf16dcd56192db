"""Shared fixtures: a small synthetic article and bank, so core tests do not depend on the real files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bot.config import PROJECT_ROOT, load_settings
from bot.core.article import Article
from bot.core.loader import load_bank
from bot.core.model import QuestionBank

pytest_plugins = ["tests.emulator.pytest_plugin"]

REAL_ARTICLE = load_settings({}).article_path

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
