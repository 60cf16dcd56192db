"""Whether the bank tests knowledge and judgment rather than test-wiseness, and whether it repeats itself.

A reader who knows nothing can still score by wording alone: pick the longest option, pick the only hedged one,
call every absolute statement false. These measures count how far each cue would carry such a reader, per
language (each language is read on its own), and `quality_problems` turns the limits into `check` failures that
name the worst questions. They describe the bank's spread, so only `check` enforces them; loading never does.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .judge_quality import judge_problems, judge_report
from .lang import Lang
from .model import Question, QuestionBank, QuestionType, Skill
from .problems import Problem

# `check` fails above these, in any language.
MAX_LONGEST_SHARE = 0.35  # right option strictly the longest, among choice / scenario / who_said
MAX_PICK_LONGEST = 0.40  # score of "always pick the longest" on choice + scenario
MAX_RANK_SHARE = 0.40  # score of the best "always pick the k-th longest" on choice + scenario (2nd longest...)
MAX_TF_WORDING = 0.65  # score of "absolute = false, hedged = true", or its reverse, on true/false
MIN_RANK_SAMPLE = 20  # below this many choice + scenario questions, rank shares are noise and not gated
MIN_TF_SAMPLE = 10  # the same for true/false
MAX_QUOTE_USES = 2  # questions one article quote (or an overlapping part of it) may back
SIMILAR_WORDS = 0.40  # questions sharing this share of content words (prompt + right answer) are near-duplicates
WORST_NAMED = 8  # how many of the worst questions a failing cue gate names

LENGTH_TYPES = frozenset({QuestionType.CHOICE, QuestionType.SCENARIO, QuestionType.WHO_SAID})
PICK_TYPES = frozenset({QuestionType.CHOICE, QuestionType.SCENARIO})

# Words that make a statement sound careful, or sweeping. Matched as words in English, as substrings in Chinese.
HEDGES = {
    Lang.EN: (
        "may",
        "might",
        "could",
        "can be",
        "usually",
        "often",
        "probably",
        "likely",
        "possibly",
        "perhaps",
        "some",
        "a clue",
        "one clue",
        "at best",
        "not necessarily",
        "not always",
        "tends",
        "mostly",
    ),
    Lang.ZH_HANT: ("可能", "通常", "也許", "或許", "往往", "未必", "不一定", "線索", "大概", "多半", "有時", "傾向"),
}
ABSOLUTES = {
    Lang.EN: (
        "always",
        "never",
        "all",
        "any",
        "every",
        "everyone",
        "everything",
        "prove",
        "proves",
        "proof",
        "must",
        "only",
        "certainly",
        "definitely",
        "nothing",
        "none",
        "no one",
        "completely",
        "guaranteed",
        "sure",
        "cannot",
        "can't",
    ),
    Lang.ZH_HANT: (
        "一定",
        "所有",
        "任何",
        "總是",
        "永遠",
        "絕對",
        "必然",
        "必定",
        "只要",
        "證明",
        "完全",
        "從不",
        "一律",
        "肯定",
        "全部",
        "絕不",
        "不可能",
    ),
}
HEDGES[Lang.ZH_HANS] = HEDGES[Lang.ZH_HANT]  # matched on the Traditional text, which Simplified mirrors
ABSOLUTES[Lang.ZH_HANS] = ABSOLUTES[Lang.ZH_HANT]


def display_width(text: str) -> int:
    """How wide a text looks: a Chinese character takes the room of two Latin letters."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _has(words: Iterable[str], text: str, lang: Lang) -> bool:
    if lang is Lang.EN:
        lowered = text.lower()
        return any(re.search(rf"\b{re.escape(word)}\b", lowered) for word in words)
    return any(word in text for word in words)


def _cue_text(question_text: str, lang: Lang, traditional: str) -> tuple[str, Lang]:
    # Hedge and absolute lists are written in Traditional; Simplified mirrors the Traditional text word for word.
    return (traditional, Lang.ZH_HANT) if lang is Lang.ZH_HANS else (question_text, lang)


def is_hedged(question: Question, option: int, lang: Lang) -> bool:
    text, cue_lang = _cue_text(question.options[option].get(lang), lang, question.options[option].zh_hant)
    return _has(HEDGES[cue_lang], text, cue_lang)


WORDINGS = ("absolute", "hedged", "both", "plain")


def statement_wording(question: Question, lang: Lang) -> str:
    """A true/false statement's wording: "absolute", "hedged", "both" or "plain"."""
    text, cue_lang = _cue_text(question.prompt.get(lang), lang, question.prompt.zh_hant)
    absolute = _has(ABSOLUTES[cue_lang], text, cue_lang)
    hedged = _has(HEDGES[cue_lang], text, cue_lang)
    return "both" if absolute and hedged else "absolute" if absolute else "hedged" if hedged else "plain"


def _widths(question: Question, lang: Lang) -> list[int]:
    return [display_width(option.get(lang)) for option in question.options]


def right_is_longest(question: Question, lang: Lang) -> bool:
    """Whether the right option is strictly longer than every other option in `lang`."""
    widths = _widths(question, lang)
    right = widths.pop(question.answer)
    return right > max(widths)


def pick_longest_score(question: Question, lang: Lang) -> float:
    """What "always pick the longest" expects to score here (ties are split evenly)."""
    widths = _widths(question, lang)
    longest = [n for n, width in enumerate(widths) if width == max(widths)]
    return 1 / len(longest) if question.answer in longest else 0.0


def length_margin(question: Question, lang: Lang) -> float:
    """How much longer the right option is than the longest wrong one (1.0 = as long)."""
    widths = _widths(question, lang)
    right = widths.pop(question.answer)
    return right / max(1, max(widths))


def length_rank(question: Question, lang: Lang) -> int:
    """How many options are strictly wider than the right one (0: the right option is the longest, maybe tied)."""
    widths = _widths(question, lang)
    return sum(width > widths[question.answer] for width in widths)


def tf_wording_guess(question: Question, lang: Lang, *, reverse: bool = False) -> float:
    """What "absolute means false, hedged means true, else toss a coin" expects to score on a true/false item;
    `reverse` for the guesser who has learnt that a bank over-corrected ("absolute means true")."""
    wording = statement_wording(question, lang)
    if wording not in ("absolute", "hedged"):
        return 0.5
    guess_true = (wording == "hedged") != reverse
    return 1.0 if (question.answer == 0) == guess_true else 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class CueStats:
    """How far each wording cue carries a reader who knows nothing, in one language."""

    lang: Lang
    length_questions: int  # choice + scenario + who_said
    longest_right: int
    pick_questions: int  # choice + scenario
    pick_longest: float  # expected right answers of "pick the longest"
    only_hedged_right: int  # choice + scenario where the right option is the only hedged one
    tf_questions: int
    tf_by_wording: dict[tuple[str, bool], int]  # (wording, keyed true) -> count
    tf_wording_guess: float  # expected right answers of "absolute = false, hedged = true"
    tf_reverse_guess: float  # the same for "absolute = true, hedged = false"
    rank_counts: dict[int, int]  # choice + scenario: options strictly wider than the right one -> questions
    key_positions: dict[QuestionType, dict[int, int]]  # fixed-order types: answer index -> count

    @property
    def longest_share(self) -> float:
        return self.longest_right / self.length_questions if self.length_questions else 0.0

    @property
    def pick_longest_share(self) -> float:
        return self.pick_longest / self.pick_questions if self.pick_questions else 0.0

    @property
    def only_hedged_share(self) -> float:
        return self.only_hedged_right / self.pick_questions if self.pick_questions else 0.0

    @property
    def tf_guess_share(self) -> float:
        """The better of the two wording guesses."""
        best = max(self.tf_wording_guess, self.tf_reverse_guess)
        return best / self.tf_questions if self.tf_questions else 0.0

    @property
    def best_rank(self) -> tuple[int, float]:
        """The k of the best "always pick the k-th longest" (0 = longest) and its score."""
        if not self.pick_questions:
            return 0, 0.0
        rank, count = max(self.rank_counts.items(), key=lambda item: (item[1], -item[0]))
        return rank, count / self.pick_questions


def cue_stats(questions: Sequence[Question], lang: Lang) -> CueStats:
    """Every cue figure for `questions` in `lang`."""
    by_length = [q for q in questions if q.type in LENGTH_TYPES]
    by_pick = [q for q in questions if q.type in PICK_TYPES]
    true_false = [q for q in questions if q.type is QuestionType.TRUE_FALSE]
    only_hedged = 0
    for question in by_pick:
        hedged = [n for n in range(len(question.options)) if is_hedged(question, n, lang)]
        only_hedged += hedged == [question.answer]
    tf_counts: Counter[tuple[str, bool]] = Counter((statement_wording(q, lang), q.answer == 0) for q in true_false)
    positions: dict[QuestionType, dict[int, int]] = {}
    for kind in (QuestionType.TRUE_FALSE, QuestionType.FACT_OR_OPINION):
        counts = Counter(q.answer for q in questions if q.type is kind)
        positions[kind] = dict(sorted(counts.items()))
    return CueStats(
        lang=lang,
        length_questions=len(by_length),
        longest_right=sum(right_is_longest(q, lang) for q in by_length),
        pick_questions=len(by_pick),
        pick_longest=sum(pick_longest_score(q, lang) for q in by_pick),
        only_hedged_right=only_hedged,
        tf_questions=len(true_false),
        tf_by_wording=dict(sorted(tf_counts.items())),
        tf_wording_guess=sum(tf_wording_guess(q, lang) for q in true_false),
        tf_reverse_guess=sum(tf_wording_guess(q, lang, reverse=True) for q in true_false),
        rank_counts=dict(sorted(Counter(length_rank(q, lang) for q in by_pick).items())),
        key_positions=positions,
    )


def chance_score(questions: Iterable[Question]) -> float:
    """Expected right answers of a blind guess: 1 in the number of options, question by question."""
    return sum(1 / len(q.options) for q in questions)


def recall_share(bank: QuestionBank) -> float:
    """Share of questions that only test remembering who said what."""
    if not bank.questions:
        return 0.0
    return sum(q.skill is Skill.RECALL for q in bank.questions) / len(bank.questions)


def cue_report(bank: QuestionBank) -> list[str]:
    """`check --stats`: what each wording cue would score, per language, beside chance."""
    questions = bank.questions
    pick = [q for q in questions if q.type in PICK_TYPES]
    true_false = [q for q in questions if q.type is QuestionType.TRUE_FALSE]
    lines = [
        "test-wiseness (what a reader who knows nothing scores by wording alone; lower is better):",
        f"  {'':<10}{'longest':>9}{'pick-longest':>14}{'best-rank':>11}{'only-hedged':>13}{'tf-wording':>12}",
    ]
    for lang in Lang:
        stats = cue_stats(questions, lang)
        rank, rank_share = stats.best_rank
        lines.append(
            f"  {lang.value:<10}{stats.longest_share:>9.0%}{stats.pick_longest_share:>14.0%}"
            f"{f'{rank_share:.0%} ({_ordinal(rank + 1)})':>11}"
            f"{stats.only_hedged_share:>13.0%}{stats.tf_guess_share:>12.0%}"
        )
    pick_chance = chance_score(pick) / len(pick) if pick else 0.0
    lines += [
        f"  longest: right option strictly the longest, of {sum(q.type in LENGTH_TYPES for q in questions)} "
        f"choice/scenario/who_said (limit {MAX_LONGEST_SHARE:.0%})",
        f"  pick-longest: score of always picking the longest on {len(pick)} choice + scenario "
        f"(limit {MAX_PICK_LONGEST:.0%}; chance {pick_chance:.0%})",
        f"  best-rank: score of the best 'always pick the k-th longest' on choice + scenario "
        f"(limit {MAX_RANK_SHARE:.0%})",
        "  only-hedged: right option the only hedged one (may, usually, 可能...), choice + scenario",
        f"  tf-wording: score of 'absolute = false, hedged = true, else a coin', or of its reverse, on "
        f"{len(true_false)} true/false (limit {MAX_TF_WORDING:.0%}; chance 50%)",
    ]
    lines.append("true/false by wording, keyed true / false:")
    lines.append(f"  {'':<10}" + "".join(f"{wording:>12}" for wording in WORDINGS))
    for lang in Lang:
        stats = cue_stats(questions, lang)
        cells = (
            f"{stats.tf_by_wording.get((w, True), 0)} / {stats.tf_by_wording.get((w, False), 0)}" for w in WORDINGS
        )
        lines.append(f"  {lang.value:<10}" + "".join(f"{cell:>12}" for cell in cells))
    lines.append("key positions of fixed-order types (answer index: count; the same in every language):")
    for kind, counts in cue_stats(questions, Lang.ZH_HANT).key_positions.items():
        lines.append(f"  {kind.value:<18}" + "  ".join(f"{index}: {count}" for index, count in counts.items()))
    lines.append(
        f"skills: {', '.join(f'{s.value} {sum(q.skill is s for q in questions)}' for s in Skill)}; "
        f"recall of who said what {recall_share(bank):.0%}"
    )
    return lines + judge_report(questions)


def _ordinal(number: int) -> str:
    return f"{number}{'st' if number == 1 else 'nd' if number == 2 else 'rd' if number == 3 else 'th'}"


def quality_problems(bank: QuestionBank) -> list[Problem]:
    """The cue gate per language, quotes backing too many questions, and near-duplicate questions."""
    problems: list[Problem] = []
    for lang in Lang:
        problems += _cue_gate(bank.questions, lang)
    problems += judge_problems(bank.questions)
    problems += _quote_reuse(bank.questions)
    problems += _similar_questions(bank.questions)
    return problems


def _cue_gate(questions: Sequence[Question], lang: Lang) -> list[Problem]:
    stats = cue_stats(questions, lang)
    failures = []
    if stats.longest_share > MAX_LONGEST_SHARE:
        failures.append(
            f"the right option is the longest in {stats.longest_share:.0%} of choice/scenario/who_said questions "
            f"(limit {MAX_LONGEST_SHARE:.0%})"
        )
    if stats.pick_longest_share > MAX_PICK_LONGEST:
        failures.append(
            f"'pick the longest' scores {stats.pick_longest_share:.0%} on choice + scenario "
            f"(limit {MAX_PICK_LONGEST:.0%})"
        )
    rank, rank_share = stats.best_rank
    if stats.pick_questions >= MIN_RANK_SAMPLE and rank_share > MAX_RANK_SHARE:
        failures.append(
            f"'pick the {_ordinal(rank + 1)} longest' scores {rank_share:.0%} on choice + scenario "
            f"(limit {MAX_RANK_SHARE:.0%})"
        )
    if stats.tf_questions >= MIN_TF_SAMPLE and stats.tf_guess_share > MAX_TF_WORDING:
        failures.append(
            f"guessing true/false by absolute or hedged wording scores {stats.tf_guess_share:.0%} "
            f"(limit {MAX_TF_WORDING:.0%})"
        )
    if not failures:
        return []
    summary = "; ".join(failures)
    worst = sorted(
        (q for q in questions if q.type in LENGTH_TYPES and right_is_longest(q, lang)),
        key=lambda q: length_margin(q, lang),
        reverse=True,
    )[:WORST_NAMED]
    problems = [Problem(file="questions", line=0, question_id="-", message=f"{lang.value}: {summary}")]
    for question in worst:
        widths = _widths(question, lang)
        right = widths.pop(question.answer)
        problems.append(
            Problem.at(
                question.location,
                question.id,
                f"{lang.value}: the right option is the longest ({right} vs at most {max(widths)} wide): "
                "a length cue; make a wrong option as long, or the right one shorter",
            )
        )
    return problems


def quotes_overlap(a: str, b: str) -> bool:
    """Whether two quotes are the same words: one holds the other, or they share most of the shorter one."""
    if a in b or b in a:
        return True
    shorter = min(len(a), len(b))
    match = difflib.SequenceMatcher(None, a, b, autojunk=False).find_longest_match(0, len(a), 0, len(b))
    return match.size >= 0.6 * shorter


def _quote_reuse(questions: Sequence[Question]) -> list[Problem]:
    quoted = [q for q in questions if q.source.quote is not None and q.source.paragraph is not None]
    problems: list[Problem] = []
    for index, question in enumerate(quoted):
        quote = question.source.quote
        assert quote is not None
        earlier = [
            other
            for other in quoted[:index]
            if other.source.paragraph == question.source.paragraph
            and other.source.quote is not None
            and quotes_overlap(quote.zh_hant, other.source.quote.zh_hant)
        ]
        if len(earlier) >= MAX_QUOTE_USES:
            problems.append(
                Problem.at(
                    question.location,
                    question.id,
                    f"near-duplicate: its quote (paragraph {question.source.paragraph}) already backs "
                    f"{', '.join(o.id for o in earlier)}; a quote may back at most {MAX_QUOTE_USES} questions",
                )
            )
        for other in earlier:
            if other.type is question.type:
                problems.append(
                    Problem.at(
                        question.location,
                        question.id,
                        f"near-duplicate of {other.id}: the same quote and the same type ({question.type.value})",
                    )
                )
    return problems


# Words that say nothing about a question's point (its frame: "which kind of statement is this", "true or false").
_FRAME_WORDS = frozenset(
    [
        "the",
        "a",
        "an",
        "of",
        "to",
        "in",
        "on",
        "and",
        "or",
        "is",
        "it",
        "its",
        "it's",
        "this",
        "that",
        "what",
        "which",
        "who",
        "whom",
        "with",
        "for",
        "as",
        "by",
        "be",
        "are",
        "was",
        "were",
        "you",
        "your",
        "from",
        "at",
        "about",
        "than",
        "into",
        "more",
        "most",
        "true",
        "false",
        "kind",
        "statement",
        "says",
        "said",
        "article",
        "according",
        "does",
        "do",
        "how",
        "should",
        "would",
        "could",
        "can",
        "may",
        "not",
        "no",
    ]
)


def _point_words(question: Question) -> frozenset[str]:
    """The content words of a question's prompt and right answer (English), crudely stemmed. A judge item's answer
    is one of two fixed labels every such item shares, so only its prompt counts."""
    answer = "" if question.type is QuestionType.JUDGE else question.options[question.answer].en
    text = f"{question.prompt.en} {answer}".lower()
    words = set()
    for word in re.findall(r"[a-z0-9]+", text):
        if word in _FRAME_WORDS or len(word) < 3:
            continue
        for suffix in ("ing", "ed", "es", "s"):
            if word.endswith(suffix) and len(word) - len(suffix) >= 4:
                word = word[: -len(suffix)]
                break
        words.add(word)
    return frozenset(words)


def _similar_questions(questions: Sequence[Question]) -> list[Problem]:
    """Pairs whose prompt and right answer share most of their content words: the same point asked twice."""
    problems: list[Problem] = []
    words = [(_point_words(q), q) for q in questions]
    for index, (mine, question) in enumerate(words):
        for theirs, other in words[:index]:
            union = mine | theirs
            alike = len(mine & theirs) / len(union) if union else 0.0
            if alike >= SIMILAR_WORDS:
                problems.append(
                    Problem.at(
                        question.location,
                        question.id,
                        f"near-duplicate of {other.id}: prompt and answer share {alike:.0%} of their words",
                    )
                )
    return problems
