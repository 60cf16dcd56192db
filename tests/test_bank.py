"""The real question bank: clean, verbatim quotes, poll fit, and the size this stage promises."""

from __future__ import annotations

import os
import re

import pytest

from bot.config import load_settings
from bot.core.article import Article
from bot.core.bankstats import bank_stats, paragraph_coverage
from bot.core.lang import Lang
from bot.core.loader import load_bank
from bot.core.model import QuestionBank, QuestionType
from bot.core.quality import cue_stats, quality_problems, recall_share
from tests.conftest import REAL_ARTICLE, need_article

SETTINGS = load_settings({})


@pytest.fixture(scope="module")
def real_article() -> Article:
    return need_article()


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


def test_the_bank_meets_the_quality_bar_counts(bank: QuestionBank) -> None:
    """At least 120 questions; 8 topics of 10+; every type 5+ times; each difficulty at least a fifth.

    who_said is the type that only tests recall, so it is kept few on purpose (recall stays under a quarter).
    """
    stats = bank_stats(bank)
    assert stats.questions >= 120
    assert len(bank.topics) >= 8 and min(stats.by_topic.values()) >= 10, stats.by_topic
    assert min(stats.by_type.values()) >= 5, stats.by_type
    for level in (1, 2, 3):
        assert stats.by_difficulty[level] / stats.questions >= 0.2, stats.by_difficulty


def test_the_bank_passes_the_quality_gate(bank: QuestionBank) -> None:
    """No length cue past the limits in any language, no quote backing three questions, no near-duplicates."""
    assert [str(p) for p in quality_problems(bank)] == []


def test_recall_of_who_said_what_is_under_a_quarter(bank: QuestionBank) -> None:
    assert recall_share(bank) < 0.25


@pytest.mark.parametrize("lang", list(Lang))
def test_no_wording_cue_carries_a_guesser_in_any_language(bank: QuestionBank, lang: Lang) -> None:
    """Absolute/hedged wording in true/false, and "the only hedged option", score near chance; keys are spread."""
    stats = cue_stats(bank.questions, lang)
    assert stats.tf_guess_share <= 0.65, stats.tf_by_wording
    assert stats.only_hedged_share <= 0.15
    keyed_true = stats.key_positions[QuestionType.TRUE_FALSE].get(0, 0) / stats.tf_questions
    assert 0.35 <= keyed_true <= 0.65
    fact_or_opinion = stats.key_positions[QuestionType.FACT_OR_OPINION]
    assert min(fact_or_opinion.get(n, 0) for n in range(3)) / sum(fact_or_opinion.values()) >= 0.2, fact_or_opinion


def test_every_paragraph_with_a_point_has_a_question(bank: QuestionBank, real_article: Article) -> None:
    coverage = paragraph_coverage(bank, real_article)
    assert [n for n, count in coverage.items() if count == 0] == []


def test_released_ids_are_stable(bank: QuestionBank) -> None:
    """A released id never disappears (it stays, or is retired) and every live id is recorded as released."""
    lines = (SETTINGS.questions_path / "_released_ids.txt").read_text(encoding="utf-8").splitlines()
    released = {line.strip() for line in lines if line.strip() and not line.startswith("#")}
    live = {q.id for q in bank.questions}
    assert released - live - set(bank.retired) == set(), "released ids that vanished without being retired"
    assert live - released == set(), "new question ids: add them to questions/_released_ids.txt"
    assert not live & set(bank.retired)


def test_check_stats_and_coverage_print_and_pass(real_article: Article) -> None:
    import subprocess
    import sys

    from bot.config import PROJECT_ROOT

    result = subprocess.run(
        [sys.executable, "-m", "bot", "check", "--stats", "--coverage"],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        check=False,
        env={**os.environ, "ARTICLE_PATH": str(REAL_ARTICLE)},
    )
    assert result.returncode == 0, result.stderr
    for heading in ("per topic:", "per type:", "per difficulty:", "fit a native quiz poll", "every paragraph"):
        assert heading in result.stdout
    assert "test-wiseness" in result.stdout and "true/false by wording" in result.stdout


def test_check_fails_on_a_length_cue_and_names_the_question(write_bank) -> None:
    import subprocess
    import sys

    from bot.config import PROJECT_ROOT
    from tests.conftest import question_yaml, topic_yaml

    questions = [
        question_yaml(f"alpha-cue-{n}", options=("甲" * (5 + n), "乙", "丙"), quote=quote)
        for n, quote in enumerate(["有人咬了一口餅乾", "但餅乾上並未出現咬痕", "“眼見爲實”可能已成過去"])
    ]
    folder = write_bank({"alpha.yaml": topic_yaml("alpha", questions)})
    result = subprocess.run(
        [sys.executable, "-m", "bot", "check", str(folder / "alpha.yaml")],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        check=False,
        env={**os.environ, "ARTICLE_PATH": "/nonexistent/article.txt"},
    )
    assert result.returncode == 1
    assert re.search(
        r"alpha\.yaml:\d+: alpha-cue-2: zh-Hant: the right option is the longest \(14 vs at most 2", result.stderr
    )
    assert "quality problem" in result.stderr


def test_coverage_fails_when_a_paragraph_has_no_question(tmp_path, write_bank) -> None:
    import subprocess
    import sys

    from bot.config import PROJECT_ROOT
    from tests.conftest import question_yaml, topic_yaml

    article = tmp_path / "article.txt"
    # Paragraphs 1-5 are title, captions and byline and 7 a heading, as in the real article; 6, 8 and 9 carry points.
    lines = [
        "標題",
        "圖一",
        "圖二",
        "圖三",
        "記者",
        "第六段:有人咬了一口餅乾。",
        "小標",
        "第八段:論點。",
        "第九段:論點。",
    ]
    article.write_text("\n".join(lines) + "\n", encoding="utf-8")
    folder = write_bank({"alpha.yaml": topic_yaml("alpha", [question_yaml("alpha-one", paragraph=6)])})
    result = subprocess.run(
        [sys.executable, "-m", "bot", "check", str(folder), "--article", str(article), "--coverage"],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        check=False,
    )
    assert result.returncode == 1 and "paragraphs with a point and no question: P8, P9" in result.stderr
