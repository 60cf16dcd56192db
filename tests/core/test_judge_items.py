"""`judge` items: how the loader builds them, and the gate that keeps their key balanced and free of wording cues."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bot.core.article import Article
from bot.core.judge_quality import judge_problems, judge_stats
from bot.core.lang import Lang
from bot.core.loader import load_bank
from bot.core.model import QuestionType, Verdict
from tests.conftest import topic_yaml
from tests.core.test_quality import SOURCES

WriteBank = Callable[[dict[str, str]], Path]

OPTIONS = (
    "genuine:\n  zh-Hant: 可信：查證後站得住腳\n  en: 'Genuine: it holds up'\n"
    "manipulated:\n  zh-Hant: 不可信：造假或查無實據\n  en: 'Fake or unsupported'\n"
)


def judge_yaml(qid: str, verdict: str, *, prompt_en: str, prompt_zh: str = "一段影片", extra: str = "") -> str:
    return (
        f"  - id: {qid}\n    type: judge\n    skill: judgment\n    difficulty: 2\n    verdict: {verdict}\n"
        f"    prompt:\n      zh-Hant: {prompt_zh}\n      en: '{prompt_en}'\n"
        "    explanation:\n      zh-Hant: 看來源。\n      en: Look at the source.\n"
        f"    source:\n      refs: [s]\n{extra}"
    )


def load(write_bank: WriteBank, article: Article, items: list[str], *, options: str | None = OPTIONS):
    files = {"judgment.yaml": topic_yaml("judgment", items), "_sources.yaml": SOURCES}
    if options is not None:
        files["_judge_options.yaml"] = options
    return load_bank([write_bank(files)], article=article)


def test_a_judge_item_gets_the_two_fixed_answers_in_order(write_bank: WriteBank, article: Article) -> None:
    report = load(
        write_bank,
        article,
        [
            judge_yaml("j-real", "genuine", prompt_en="A station clip"),
            judge_yaml("j-fake", "manipulated", prompt_en="A call"),
        ],
    )
    assert report.bank is not None, report.render()
    real, fake = report.bank.questions
    assert real.type is QuestionType.JUDGE and real.verdict is Verdict.GENUINE and real.answer == 0
    assert fake.verdict is Verdict.MANIPULATED and fake.answer == 1
    assert [o.en for o in real.options] == ["Genuine: it holds up", "Fake or unsupported"]
    assert real.options[1].zh_hans == "不可信：造假或查无实据"
    assert not real.shuffle
    assert real.says_manipulated(1) is True and real.says_manipulated(0) is False


def test_judge_item_mistakes_are_named(write_bank: WriteBank, article: Article) -> None:
    bad = [
        judge_yaml("j-no-verdict", "maybe", prompt_en="A clip"),
        judge_yaml("j-options", "genuine", prompt_en="A clip two", extra="    answer: 0\n    shuffle: true\n"),
    ]
    messages = [p.message for p in load(write_bank, article, bad).problems]
    assert any("verdict must be one of: genuine, manipulated" in m for m in messages)
    assert any("a judge item has no `answer`" in m for m in messages)
    assert any("keep their order" in m for m in messages)


def test_judge_items_need_the_options_file(write_bank: WriteBank, article: Article) -> None:
    report = load(write_bank, article, [judge_yaml("j-a", "genuine", prompt_en="A clip")], options=None)
    assert report.bank is None
    assert any("_judge_options.yaml" in p.message for p in report.problems)


def items(verdicts: list[tuple[str, str]]) -> list[str]:
    return [judge_yaml(f"j-{n}", verdict, prompt_en=text) for n, (verdict, text) in enumerate(verdicts)]


def test_wording_guesses_and_key_balance_worked_by_hand(write_bank: WriteBank, article: Article) -> None:
    # 10 items, 5 genuine. Every fake mentions money; no genuine one does: "pressure words = fake" scores 10/10.
    # Lengths: fakes are the 5 longest prompts, so "longer prompt = fake" also scores 10/10 (median between them).
    fakes = [("manipulated", f"Send money now please {'x' * (20 + n)}") for n in range(5)]
    reals = [("genuine", f"A clip {n}") for n in range(5)]
    report = load(write_bank, article, items(fakes + reals))
    assert report.bank is not None, report.render()
    stats = judge_stats(report.bank.questions, Lang.EN)
    assert stats.items == 10 and stats.genuine == 5
    assert stats.guesses["pressure words = fake"] == 1.0
    assert stats.guesses["longer prompt = fake"] == 1.0
    # Nobody mentions a check: "no check words = fake" says fake to all 10, right on 5; its reverse also 5.
    assert stats.guesses["no check words = fake"] == 0.5
    messages = [p.message for p in judge_problems(report.bank.questions)]
    assert any(m.startswith("en: judge items: the wording rule") and "100%" in m for m in messages)


def test_a_balanced_cue_free_set_passes(write_bank: WriteBank, article: Article) -> None:
    # Money talk and length split evenly across verdicts: every rule scores 50%.
    verdicts = []
    for n in range(10):
        verdict = "manipulated" if n % 2 else "genuine"
        text = ("Pay now " if n % 4 < 2 else "A clip ") + "y" * (n // 2)
        verdicts.append((verdict, text))
    report = load(write_bank, article, items(verdicts))
    assert report.bank is not None, report.render()
    stats = judge_stats(report.bank.questions, Lang.EN)
    # Prefixes: "Pay now" on n = 0, 1, 4, 5, 8, 9 (right on the fakes 1, 5, 9; the reverse is right on 2, 6): 5/10.
    # Lengths 8 8 8 8 10 10 9 9 12 12, median 9: longer = 4, 5, 8, 9 (fakes 5, 9) + shorter genuine 0, 2, 6: 5/10.
    assert stats.guesses == {"pressure words = fake": 0.5, "no check words = fake": 0.5, "longer prompt = fake": 0.5}
    assert judge_problems(report.bank.questions) == []


def test_an_unbalanced_key_fails(write_bank: WriteBank, article: Article) -> None:
    verdicts = [("manipulated", f"Item {n} {'z' * (n % 3)}") for n in range(8)] + [
        ("genuine", "Item a"),
        ("genuine", "Item bb"),
    ]
    report = load(write_bank, article, items(verdicts))
    assert report.bank is not None, report.render()
    messages = [p.message for p in judge_problems(report.bank.questions)]
    assert any("20% are genuine" in m for m in messages)
