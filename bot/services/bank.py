"""Load the question bank the settings name; a bank with problems is refused with its report."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from ..core.article import Article
from ..core.loader import BankInvalid, LoadReport, load_bank
from ..core.model import QuestionBank


def load_article(path: Path) -> Article | None:
    """The article, or None when it is not there (callers say so plainly)."""
    try:
        return Article.load(path)
    except OSError:
        return None


def check_bank(paths: Sequence[Path], article_path: Path, *, root: Path | None = None) -> LoadReport:
    """Load and validate, with the article when it can be read (and say where it was looked for when not)."""
    article = load_article(article_path)
    report = load_bank(paths, article=article, root=root)
    if article is None:
        notes = tuple(
            f"{note} (looked for it at {article_path}; set ARTICLE_PATH)" if note.startswith("article not") else note
            for note in report.notes
        )
        report = replace(report, notes=notes)
    return report


def open_bank(paths: Sequence[Path], article_path: Path, *, root: Path | None = None) -> QuestionBank:
    """A valid bank, or BankInvalid carrying the same report `python -m bot check` prints."""
    report = check_bank(paths, article_path, root=root)
    if report.bank is None:
        raise BankInvalid(report)
    return report.bank
