"""Counts over the bank for `check --stats` and `check --coverage`."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from .article import Article
from .lang import Lang
from .model import QuestionBank, QuestionType


@dataclass(frozen=True, slots=True, kw_only=True)
class BankStats:
    """How the bank is spread over topics, types, difficulties and languages."""

    questions: int
    by_topic: dict[str, int]
    by_type: dict[QuestionType, int]
    by_difficulty: dict[int, int]
    poll_fit: dict[Lang, int]
    with_quote: int

    def poll_share(self, lang: Lang) -> float:
        return self.poll_fit[lang] / self.questions if self.questions else 0.0


def bank_stats(bank: QuestionBank) -> BankStats:
    questions = bank.questions
    return BankStats(
        questions=len(questions),
        by_topic={t.id: len(bank.in_topic(t.id)) for t in bank.topics},
        by_type={kind: sum(1 for q in questions if q.type is kind) for kind in QuestionType},
        by_difficulty=dict(sorted(Counter(q.difficulty for q in questions).items())),
        poll_fit={lang: sum(1 for q in questions if q.fits_poll(lang)) for lang in Lang},
        with_quote=sum(1 for q in questions if q.source.quote is not None),
    )


def paragraph_coverage(bank: QuestionBank, article: Article) -> dict[int, int]:
    """For each paragraph that carries a point, how many questions quote it."""
    cited = Counter(q.source.paragraph for q in bank.questions if q.source.paragraph is not None)
    return {n: cited.get(n, 0) for n in article.point_paragraphs()}
