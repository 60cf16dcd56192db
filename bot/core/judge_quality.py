"""Whether the `judge` items can be judged by wording alone, and whether their key is balanced.

Discernment (fakes caught minus genuine items doubted) means something only if a reader who knows nothing scores
about 50%: if every fake were the long item, or the one that mentions money, "say fake when..." would look like
skill. Each surface guess below is scored in both directions (a bank can over-correct), per language.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .lang import Lang
from .model import Question, QuestionType, Verdict
from .problems import Problem

MAX_JUDGE_GUESS = 0.65  # the best wording guess may score no more than this (chance is 50%)
GENUINE_SHARE = (0.40, 0.60)  # share of genuine items: "say fake to everything" must not score well
MIN_JUDGE_SAMPLE = 10  # below this many items the shares are noise and not gated

# What a test-wise reader takes for a scam (pressure, money, secrecy) ...
PRESSURE_WORDS = {
    Lang.EN: (
        "urgent",
        "urgently",
        "immediately",
        "right now",
        "hurry",
        "money",
        "transfer",
        "wire",
        "pay",
        "payment",
        "gift card",
        "secret",
        "bail",
        "deposit",
        "crypto",
    ),
    Lang.ZH_HANT: (
        "緊急",
        "立刻",
        "馬上",
        "趕快",
        "匯款",
        "轉帳",
        "付款",
        "禮物卡",
        "保密",
        "借錢",
        "現金",
        "保釋",
        "加密貨幣",
    ),
}
# ... and for a clip that checks out (verification talk).
CHECK_WORDS = {
    Lang.EN: (
        "confirmed",
        "verified",
        "verifies",
        "traced",
        "independent",
        "called back",
        "call back",
        "official",
        "first upload",
        "credentials",
        "matches",
        "reported",
    ),
    Lang.ZH_HANT: ("確認", "證實", "查證", "追溯", "獨立", "回撥", "官方", "最早", "憑證", "相符", "報導"),
}


def _mentions(words: dict[Lang, tuple[str, ...]], question: Question, lang: Lang) -> bool:
    if lang is Lang.EN:
        text = question.prompt.en.lower()
        return any(re.search(rf"\b{re.escape(word)}\b", text) for word in words[Lang.EN])
    # The word lists are Traditional; the Simplified prompt mirrors the Traditional one word for word.
    return any(word in question.prompt.zh_hant for word in words[Lang.ZH_HANT])


@dataclass(frozen=True, slots=True, kw_only=True)
class JudgeStats:
    """How the judge items look to a reader who knows nothing, in one language."""

    lang: Lang
    items: int
    genuine: int
    guesses: dict[str, float]  # a surface rule -> its share right (the better of its two directions)

    @property
    def genuine_share(self) -> float:
        return self.genuine / self.items if self.items else 0.0

    @property
    def best_guess(self) -> tuple[str, float]:
        if not self.guesses:
            return "-", 0.0
        return max(self.guesses.items(), key=lambda item: item[1])


def judge_items(questions: Sequence[Question]) -> list[Question]:
    return [q for q in questions if q.type is QuestionType.JUDGE and q.verdict is not None]


def judge_stats(questions: Sequence[Question], lang: Lang) -> JudgeStats:
    """The key balance and what each surface rule scores on the judge items, in `lang`."""
    items = judge_items(questions)
    if not items:
        return JudgeStats(lang=lang, items=0, genuine=0, guesses={})
    median = statistics.median(len(q.prompt.get(lang)) for q in items)
    rules: dict[str, Callable[[Question], bool]] = {  # True: the rule says "manipulated"
        "pressure words = fake": lambda q: _mentions(PRESSURE_WORDS, q, lang),
        "no check words = fake": lambda q: not _mentions(CHECK_WORDS, q, lang),
        "longer prompt = fake": lambda q: len(q.prompt.get(lang)) > median,
    }
    guesses = {}
    for name, says_fake in rules.items():
        right = sum(says_fake(q) == (q.verdict is Verdict.MANIPULATED) for q in items)
        guesses[name] = max(right, len(items) - right) / len(items)  # the rule or its reverse, whichever is better
    genuine = sum(q.verdict is Verdict.GENUINE for q in items)
    return JudgeStats(lang=lang, items=len(items), genuine=genuine, guesses=guesses)


def judge_report(questions: Sequence[Question]) -> list[str]:
    """`check --stats`: the judge items' key balance and wording guesses, per language."""
    stats = [judge_stats(questions, lang) for lang in Lang]
    if not stats[0].items:
        return []
    names = list(stats[0].guesses)
    lines = [
        f"judge items: {stats[0].items}, genuine {stats[0].genuine} ({stats[0].genuine_share:.0%}; "
        f"limits {GENUINE_SHARE[0]:.0%}-{GENUINE_SHARE[1]:.0%}); wording guesses (limit {MAX_JUDGE_GUESS:.0%}, "
        "chance 50%; each rule or its reverse):",
        f"  {'':<10}" + "".join(f"{name:>24}" for name in names),
    ]
    for stat in stats:
        lines.append(f"  {stat.lang.value:<10}" + "".join(f"{stat.guesses[name]:>24.0%}" for name in names))
    return lines


def judge_problems(questions: Sequence[Question]) -> list[Problem]:
    """`check` failures: an unbalanced key, or a wording rule that beats chance by too much."""
    problems = []
    for lang in Lang:
        stats = judge_stats(questions, lang)
        if stats.items < MIN_JUDGE_SAMPLE:
            continue
        low, high = GENUINE_SHARE
        if lang is Lang.ZH_HANT and not low <= stats.genuine_share <= high:
            problems.append(
                Problem(
                    file="questions",
                    line=0,
                    question_id="-",
                    message=f"judge items: {stats.genuine_share:.0%} are genuine (keep it within "
                    f"{low:.0%}-{high:.0%}, or 'say fake to everything' scores well)",
                )
            )
        name, share = stats.best_guess
        if share > MAX_JUDGE_GUESS:
            problems.append(
                Problem(
                    file="questions",
                    line=0,
                    question_id="-",
                    message=f"{lang.value}: judge items: the wording rule '{name}' (or its reverse) scores {share:.0%} "
                    f"(limit {MAX_JUDGE_GUESS:.0%})",
                )
            )
    return problems
