"""The real question bank: clean, verbatim quotes, poll fit, and the size this stage promises."""

from __future__ import annotations

import pytest

from bot.config import load_settings
from bot.core.article import Article
from bot.core.bankstats import bank_stats
from bot.core.lang import Lang
from bot.core.loader import load_bank
from bot.core.model import QuestionBank, QuestionType

SETTINGS = load_settings({})


@pytest.fixture(scope="module")
def real_article() -> Article:
    if not SETTINGS.article_path.is_file():
        pytest.skip(f"the article is not at {SETTINGS.article_path}: quotes cannot be checked here")
    return Article.load(SETTINGS.article_path)


@pytest.fixture(scope="module")
def bank(real_article: Article) -> QuestionBank:
    report = load_bank([SETTINGS.questions_path], article=real_article)
    assert report.bank is not None, report.render()
    return report.bank


def test_every_quote_is_verbatim_in_its_paragraph(bank: QuestionBank, real_article: Article) -> None:
    for question in bank.questions:
        if question.source.quote is not None:
            assert question.source.quote.zh_hant in real_article.paragraph(question.source.paragraph), question.id


def test_size_and_spread(bank: QuestionBank) -> None:
    stats = bank_stats(bank)
    assert stats.questions >= 40 and len(bank.topics) >= 6
    assert all(stats.by_type[kind] > 0 for kind in QuestionType)
    assert set(stats.by_difficulty) == {1, 2, 3}


def test_most_questions_fit_a_native_poll_in_every_language(bank: QuestionBank) -> None:
    stats = bank_stats(bank)
    for lang in Lang:
        assert stats.poll_share(lang) >= 0.8, lang


def test_fact_or_opinion_questions_share_the_three_labels(bank: QuestionBank) -> None:
    labels = None
    for question in bank.questions:
        if question.type is QuestionType.FACT_OR_OPINION:
            texts = tuple(option.en for option in question.options)
            labels = labels or texts
            assert texts == labels, question.id
