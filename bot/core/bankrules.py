"""Rules that look at the text of every question at once: punctuation, regional usage, one rendering per quote.

They run inside the loader, so a bank that breaks them is not served: each is about what a reader sees, not
about how the bank is spread (that is `quality`, which only `check` enforces).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence

from .lang import Lang, Localized
from .model import Question
from .problems import Problem

# Chinese characters and the full-width forms that sit beside them.
_CJK = r"[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef「」『』“”‘’]"
_HALF_WIDTH = {",": "，", ":": "：", "?": "？", "!": "！", ";": "；"}
_HALF_BESIDE_CJK = re.compile(rf"(?<={_CJK})[,:?!;]|[,:?!;](?={_CJK})")
_PARENTHESES_AROUND_CJK = re.compile(r"\(([^()]*[\u3400-\u9fff][^()]*)\)")

_REGION = {Lang.ZH_HANT: "Taiwan", Lang.ZH_HANS: "mainland"}


def text_fields(question: Question) -> Iterator[tuple[str, Localized]]:
    """Every text a reader sees that the bank wrote itself (article quotes excluded: they stay verbatim)."""
    yield "prompt", question.prompt
    for number, option in enumerate(question.options, 1):
        yield f"option {number}", option
    yield "explanation", question.explanation


def bank_wide_problems(questions: Sequence[Question], usage: Mapping[Lang, Mapping[str, str]]) -> list[Problem]:
    """Punctuation and regional usage in both Chinese scripts, and one English rendering per article quote."""
    problems: list[Problem] = []
    patterns = {lang: _word_pattern(words) for lang, words in usage.items()}
    for question in questions:
        for field, text in text_fields(question):
            for lang in (Lang.ZH_HANT, Lang.ZH_HANS):
                for message in _punctuation(text.get(lang)):
                    problems.append(Problem.at(question.location, question.id, f"{field} ({lang.value}): {message}"))
                pattern = patterns.get(lang)
                if pattern is not None:
                    for message in _regional(text.get(lang), pattern, usage[lang], lang):
                        problems.append(
                            Problem.at(question.location, question.id, f"{field} ({lang.value}): {message}")
                        )
    problems += _quote_renderings(questions)
    return problems


def _punctuation(text: str) -> Iterator[str]:
    for match in _HALF_BESIDE_CJK.finditer(text):
        mark = match.group()
        yield f"half-width {mark!r} beside Chinese text: write {_HALF_WIDTH[mark]!r}"
    if _PARENTHESES_AROUND_CJK.search(text):
        yield "half-width parentheses around Chinese text: write （）"


def _word_pattern(words: Mapping[str, str]) -> re.Pattern[str] | None:
    # Longest first: a longer word listed as itself (a guard) wins over the shorter word it contains.
    keys = sorted((w for w in words if w), key=len, reverse=True)
    return re.compile("|".join(map(re.escape, keys))) if keys else None


def _regional(text: str, pattern: re.Pattern[str], words: Mapping[str, str], lang: Lang) -> Iterator[str]:
    for match in pattern.finditer(text):
        word = match.group()
        instead = words[word]
        if instead != word:
            yield f"{word!r} is not {_REGION[lang]} usage: write {instead!r}"


def _quote_renderings(questions: Sequence[Question]) -> list[Problem]:
    """The same Chinese quote must read the same in English wherever it appears."""
    first: dict[str, Question] = {}
    problems: list[Problem] = []
    for question in questions:
        quote = question.source.quote
        if quote is None:
            continue
        seen = first.setdefault(quote.zh_hant, question)
        seen_quote = seen.source.quote
        if seen is not question and seen_quote is not None and seen_quote.en != quote.en:
            problems.append(
                Problem.at(
                    question.location,
                    question.id,
                    f"source.quote: the same quote reads {quote.en!r} here but {seen_quote.en!r} in {seen.id}: "
                    "use one English rendering",
                )
            )
    return problems
