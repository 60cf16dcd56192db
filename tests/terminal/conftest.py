"""The terminal tests' bank and settings: a synthetic bank in a temporary folder, a fresh SQLite file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import ARTICLE_TEXT, question_yaml, topic_yaml


@pytest.fixture
def env(tmp_path: Path, write_bank: Callable[[dict[str, str]], Path]) -> dict[str, str]:
    article = tmp_path / "article.txt"
    article.write_text(ARTICLE_TEXT, encoding="utf-8")
    # Unshuffled, so "1" is always right and "2" always wrong.
    questions = [question_yaml(f"alpha-{n}", answer=0, extra="    shuffle: false\n") for n in range(3)]
    questions.append(question_yaml("alpha-tf", qtype="true_false", options=("對", "錯"), answer=1))
    folder = write_bank({"alpha.yaml": topic_yaml("alpha", questions)})
    return {
        "PATH": "/usr/bin:/bin",
        "QUESTIONS_PATH": str(folder),
        "ARTICLE_PATH": str(article),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'quiz.db'}",
        "LANG": "en_US.UTF-8",
        "PYTHONIOENCODING": "utf-8",
        # Wide enough that no sentence asserted whole is wrapped; the wrapping tests set their own width.
        "COLUMNS": "200",
    }
