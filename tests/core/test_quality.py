"""Test-wiseness measures and the quality gate, on hand-made questions whose figures are worked out by hand."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.core.article import Article
from bot.core.lang import Lang
from bot.core.loader import load_bank
from bot.core.model import QuestionBank
from bot.core.quality import cue_report, cue_stats, pick_longest_score, quality_problems, quotes_overlap
from tests.conftest import question_yaml, topic_yaml

WriteBank = Callable[[dict[str, str]], Path]


def loaded(write_bank: WriteBank, article: Article, questions: list[str]) -> QuestionBank:
    report = load_bank([write_bank({"alpha.yaml": topic_yaml("alpha", questions)})], article=article)
    assert report.bank is not None, report.render()
    return report.bank


def choice(qid: str, options: tuple[str, ...], answer: int = 0, **kw: object) -> str:
    """A choice question whose English options are the given texts too (the fixture names them Option A...)."""
    text = question_yaml(qid, options=options, answer=answer, **kw)  # type: ignore[arg-type]
    for index, option in enumerate(options):
        text = text.replace(f"en: Option {chr(65 + index)}\n", f"en: {option.replace('甲', 'a')}\n", 1)
    return text


TOPICS = (f"topic{n}" for n in itertools.count(1))  # one made-up word each: no two prompts share a word


def refs(text: str) -> str:
    """Its own prompt, and no quote: fixture questions share both, which is a duplicate on its own."""
    text = text.replace("en: What appears on the cookie?", f"en: What about {next(TOPICS)}?")
    return text.split("    source:")[0] + "    source:\n      refs: [s]\n"


SOURCES = (
    "sources:\n  - id: s\n    name: {zh-Hant: 來源, en: A source}\n    title: T\n    publisher: P\n"
    "    date: 2024\n    link: https://example.org/\n"
)


def bank_of(write_bank: WriteBank, article: Article, questions: list[str]) -> QuestionBank:
    folder = write_bank({"alpha.yaml": topic_yaml("alpha", [refs(q) for q in questions]), "_sources.yaml": SOURCES})
    report = load_bank([folder], article=article)
    assert report.bank is not None, report.render()
    return report.bank


def test_pick_longest_splits_ties(write_bank: WriteBank, article: Article) -> None:
    bank = bank_of(
        write_bank,
        article,
        [
            choice("alpha-long", ("甲甲甲甲", "乙", "丙")),  # right and strictly longest: 1
            choice("alpha-tie", ("甲甲", "乙乙", "丙")),  # right ties with one other: 1/2
            choice("alpha-short", ("甲", "乙乙乙", "丙")),  # a wrong option is longest: 0
        ],
    )
    scores = [pick_longest_score(bank.get(q), Lang.ZH_HANT) for q in ("alpha-long", "alpha-tie", "alpha-short")]
    assert scores == [1.0, 0.5, 0.0]
    stats = cue_stats(bank.questions, Lang.ZH_HANT)
    assert stats.longest_right == 1 and stats.length_questions == 3
    assert stats.pick_longest == pytest.approx(1.5)


def test_true_false_wording_guess(write_bank: WriteBank, article: Article) -> None:
    def statement(qid: str, en: str, answer: int) -> str:
        text = question_yaml(qid, qtype="true_false", options=("對", "錯"), answer=answer)
        return text.replace("en: What appears on the cookie?", f"en: {en}")

    bank = bank_of(
        write_bank,
        article,
        [
            statement("alpha-absolute-false", "Every fake always glitches.", 1),  # guess false: right
            statement("alpha-absolute-true", "A screenshot never keeps the signed data.", 0),  # guess false: wrong
            statement("alpha-hedged-false", "A detector may catch every new model.", 1),  # "both": a coin
            statement("alpha-plain", "The cookie shows a bite.", 1),  # plain: a coin
        ],
    )
    stats = cue_stats(bank.questions, Lang.EN)
    assert stats.tf_by_wording == {
        ("absolute", False): 1,
        ("absolute", True): 1,
        ("both", False): 1,
        ("plain", False): 1,
    }
    assert stats.tf_wording_guess == pytest.approx(2.0)  # 1 + 0 + 0.5 + 0.5
    assert stats.tf_reverse_guess == pytest.approx(2.0)  # "absolute = true": 0 + 1 + 0.5 + 0.5


def test_a_length_cue_fails_the_gate_and_names_the_worst(write_bank: WriteBank, article: Article) -> None:
    cued = [choice(f"alpha-cue-{n}", ("甲" * (6 + n), "乙", "丙")) for n in range(3)]
    fair = [choice("alpha-fair", ("甲", "乙乙", "丙"))]
    found = [str(p) for p in quality_problems(bank_of(write_bank, article, cued + fair))]
    assert any("zh-Hant: the right option is the longest in 75%" in p and "(limit 35%)" in p for p in found)
    assert any("'pick the longest' scores 75% on choice + scenario (limit 40%)" in p for p in found)
    worst = [p for p in found if "zh-Hant: the right option is the longest (" in p]
    assert worst[0].split(": ")[1] == "alpha-cue-2"  # the widest margin first
    assert worst[0].split(":")[0].endswith("alpha.yaml") and worst[0].split(":")[1].isdigit()
    assert not any("alpha-fair" in p for p in found)


def test_an_over_corrected_bank_fails_too(write_bank: WriteBank, article: Article) -> None:
    """Right options always second longest: "pick the 2nd longest" wins, which is a cue as much as "the longest"."""
    second = [choice(f"alpha-second-{n}", ("甲甲", "乙乙乙", "丙"), explanation=f"說明{n}。") for n in range(20)]
    found = [str(p) for p in quality_problems(bank_of(write_bank, article, second))]
    assert any("'pick the 2nd longest' scores 100% on choice + scenario (limit 40%)" in p for p in found)
    assert not any("the right option is the longest in" in p for p in found)


def test_a_fair_bank_passes(write_bank: WriteBank, article: Article) -> None:
    fair = [choice(f"alpha-fair-{n}", ("甲", "乙乙", "丙"), explanation=f"說明{n}。") for n in range(4)]
    assert quality_problems(bank_of(write_bank, article, fair)) == []


def test_a_quote_may_back_two_questions_and_same_quote_same_type_is_a_duplicate(
    write_bank: WriteBank, article: Article
) -> None:
    one = question_yaml("alpha-one", qtype="choice")
    two = question_yaml("alpha-two", qtype="true_false", options=("對", "錯"))
    three = question_yaml("alpha-three", qtype="scenario", quote="有人咬了一口餅乾,但餅乾上")  # overlaps
    found = [str(p) for p in quality_problems(loaded(write_bank, article, [one, two, three]))]
    assert any(
        p.endswith(
            "alpha-three: near-duplicate: its quote (paragraph 2) already backs alpha-one, alpha-two; "
            "a quote may back at most 2 questions"
        )
        for p in found
    )
    same_type = [str(p) for p in quality_problems(loaded(write_bank, article, [one, question_yaml("alpha-again")]))]
    assert any(
        p.endswith("alpha-again: near-duplicate of alpha-one: the same quote and the same type (choice)")
        for p in same_type
    )


def test_the_same_point_twice_is_a_near_duplicate(write_bank: WriteBank, article: Article) -> None:
    def asked(qid: str, prompt: str, answer: str) -> str:
        return choice(qid, (answer, "乙", "丙")).replace("en: What appears on the cookie?", f"en: {prompt}")

    bank = bank_of(
        write_bank,
        article,
        [
            asked(
                "alpha-metaphor", "What metaphor contrasts language models with Sora?", "a child locked in a library"
            ),
            asked(
                "alpha-metaphor-who", "Who contrasted language models with Sora as a child locked in a library?", "甲"
            ),
            asked("alpha-other", "What does a screenshot do to signed provenance data?", "It strips it"),
        ],
    )
    found = [str(p) for p in quality_problems(bank)]
    assert [p.split(": ", 1)[1] for p in found if "near-duplicate" in p] == [
        "alpha-metaphor-who: near-duplicate of alpha-metaphor: prompt and answer share 88% of their words"
    ]


def test_quotes_overlap() -> None:
    assert quotes_overlap("有人咬了一口餅乾", "有人咬了一口餅乾,但餅乾上並未出現咬痕")
    assert quotes_overlap("一口餅乾,但餅乾上並未出現", "有人咬了一口餅乾,但餅乾上並")
    assert not quotes_overlap("有人咬了一口餅乾", "眼見爲實可能已成過去")


def test_cue_report_lists_every_language(small_bank: QuestionBank) -> None:
    report = "\n".join(cue_report(small_bank))
    for lang in Lang:
        assert f"  {lang.value}" in report
    assert "key positions of fixed-order types" in report and "recall of who said what" in report
