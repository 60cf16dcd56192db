"""Plural forms: each language writes the forms its plural rule needs, and English sentences that count a noun
are plural keys."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.core.lang import Lang
from bot.i18n import PLURAL_CATEGORIES, Translator, plural_category

T = Translator.load()

# English strings with {count} whose number counts no noun, so one form fits every number.
COUNT_WITHOUT_NOUN = {
    "quiz.streak": "🔥 {count} in a row",
    "result.best_streak": "Longest streak: {count}",
    "stats.quizzes": "Quizzes taken: {count}",
    "topics.button": "{title} ({count})",
    "report.missed_line": "… ({count}) …",
    "chart.judged": "{count} judged",
    "wizard.summary": "… Questions: {count} …",
}
# Known gaps: two counted nouns in one sentence, and `count` selects only one of them (see the report's owner).
TWO_COUNTS = {"report.gain"}


def plural_keys() -> set[str]:
    return {key for lang in Lang for key in T.keys(lang) if T.forms(key, lang) is not None}


def test_every_plural_key_has_the_forms_its_language_needs() -> None:
    assert plural_keys(), "no plural keys at all: the locales lost them"
    for key in sorted(plural_keys()):
        for lang in Lang:
            forms = T.forms(key, lang)
            if len(PLURAL_CATEGORIES[lang]) == 1:
                assert forms in (None, PLURAL_CATEGORIES[lang]), (lang, key, forms)  # one form: a plain string
            else:
                assert forms == PLURAL_CATEGORIES[lang], (lang, key, forms)


def test_every_english_count_sentence_is_a_plural_key() -> None:
    counting = {key for key in T.keys(Lang.EN) if "count" in T.fields(key, Lang.EN)}
    plain = {key for key in counting if T.forms(key, Lang.EN) is None}
    assert plain <= set(COUNT_WITHOUT_NOUN) | TWO_COUNTS, sorted(plain - set(COUNT_WITHOUT_NOUN) - TWO_COUNTS)


@pytest.mark.parametrize("count", [1, 2])
def test_no_english_sentence_says_one_with_a_plural_noun(count: int) -> None:
    for key in plural_keys():
        text = T(key, Lang.EN, **dict.fromkeys(T.fields(key, Lang.EN) | {"count"}, count))
        assert "{" not in text, key
        if count == 1:
            assert not re.search(r"\b1 (?:\S+ )?(questions|players|quizzes|items|students|answers)\b", text), text
            assert "missed are" not in text, text


def test_the_form_follows_count_in_english_and_chinese_has_one() -> None:
    assert T("result.review", Lang.EN, count=1).startswith("📌 The question you missed is")
    assert T("result.review", Lang.EN, count=3).startswith("📌 The 3 you missed are")
    assert T("result.review", Lang.EN, count=0).startswith("📌 The 0 you missed are")
    assert T("result.review", Lang.ZH_HANT, count=1) == T("result.review", Lang.ZH_HANT, count=3).replace("3", "1")
    assert T("group.stats_title", Lang.EN, count=1) == "📊 This group has played 1 quiz."
    assert T("stats.review", Lang.EN, queued=1, due=0, count=1) == "Review list: 1 question, 0 due now."
    # Without a count (a caller that does not know the key is plural), the `other` form, never a crash.
    assert T("group.stats_title", Lang.EN) == "📊 This group has played {count} quizzes."


def test_cldr_rules() -> None:
    assert [plural_category(Lang.EN, n) for n in (0, 1, 2, 11, 21)] == ["other", "one", "other", "other", "other"]
    assert {plural_category(lang, n) for lang in (Lang.ZH_HANT, Lang.ZH_HANS) for n in (0, 1, 2)} == {"other"}


def test_a_plural_key_is_converted_form_by_form_and_fields_are_their_union(tmp_path: Path) -> None:
    (tmp_path / "zh-Hant.yaml").write_text('x:\n  other: "答錯的 {count} 題"\ny: "說"\n', encoding="utf-8")
    (tmp_path / "en.yaml").write_text('x:\n  one: "The question"\n  other: "The {count}"\ny: "say"\n', encoding="utf-8")
    t = Translator.load(tmp_path)
    assert t("x", Lang.ZH_HANS, count=1) == "答错的 1 题"
    assert t.fields("x", Lang.EN) == {"count"} and t.forms("x", Lang.EN) == ("one", "other")
    assert t.forms("y", Lang.EN) is None


@pytest.mark.parametrize(
    "entry", ['x:\n  one: "a"\n', 'x:\n  other: "a"\n  several: "b"\n', "x:\n  other: 3\n", "x: [a, b]\n"]
)
def test_a_malformed_plural_key_is_refused(tmp_path: Path, entry: str) -> None:
    (tmp_path / "zh-Hant.yaml").write_text(entry, encoding="utf-8")
    (tmp_path / "en.yaml").write_text('x: "a"\n', encoding="utf-8")
    with pytest.raises(ValueError, match="plural mapping of CLDR categories"):
        Translator.load(tmp_path)
