"""Item analysis for the bank's maintainers: how every question fared over every stored answer.

Private quizzes, group quizzes and drill rounds all record their answers in one table; this reads them all (or those
since a time), scores each question with the core's classical item analysis, and suggests a difficulty label from
the answers where there are enough of them. Answers to questions no longer in the bank are skipped and counted.
`items_csv` is the same table for a spreadsheet; `python -m bot items` prints it.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Protocol

from ..core.engine import AnswerRecord
from ..core.measures import ItemStats, Response, analyse_items, suggest_difficulty
from ..core.model import QuestionBank, QuestionId


class ItemStore(Protocol):
    """What item analysis needs stored: every answer, oldest first. One transaction."""

    async def all_answers(self, since: float | None = None) -> list[AnswerRecord]: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class ItemLine:
    """One answered question: its figures, its label in the bank, and the label the answers suggest."""

    stats: ItemStats
    difficulty: int  # the bank's label, 1 (easy) to 3 (hard)
    suggested: int | None  # None under MIN_SUGGESTED answers

    @property
    def mismatch(self) -> bool:
        return self.suggested is not None and self.suggested != self.difficulty


@dataclass(frozen=True, slots=True, kw_only=True)
class ItemAnalysis:
    """Every answered question of the bank, flagged ones first, then by id; and what the figures are over."""

    lines: tuple[ItemLine, ...]
    since: float | None  # the lower bound asked for
    answers: int  # answers the figures are over
    first_at: float | None  # when the first and last of them were given (None: no answers)
    last_at: float | None
    unanswered: tuple[QuestionId, ...]  # bank questions with no answer, by id
    gone_questions: int  # question ids answered but no longer in the bank (retired or removed): skipped
    gone_answers: int  # the answers to them
    unusable: int  # answers that no longer fit their question (an option index past its options) or repeat one


def respondent(answer: AnswerRecord) -> str:
    """One person in one quiz: a person's private quiz and their drill round are separate respondents."""
    return f"{answer.session_id}:{answer.user_id}"


class ItemService:
    """Item analysis over one storage and the bank as loaded."""

    def __init__(self, bank: QuestionBank, storage: ItemStore) -> None:
        self.bank = bank
        self._storage = storage

    async def analysis(self, *, since: float | None = None) -> ItemAnalysis:
        """Per question: n, p, discrimination, upper-lower, options chosen and flags, over the answers given at or
        after `since` (all when None)."""
        stored = await self._storage.all_answers(since)
        options: dict[str, int] = {}
        responses: list[Response] = []
        seen: set[tuple[str, str]] = set()
        gone: dict[str, int] = {}
        used: list[AnswerRecord] = []
        unusable = 0
        for answer in stored:
            question = self.bank.get(answer.question_id)
            if question is None:
                gone[answer.question_id] = gone.get(answer.question_id, 0) + 1
                continue
            who = respondent(answer)
            count = len(question.options)
            if not 0 <= answer.chosen < count or (who, question.id) in seen:
                unusable += 1
                continue
            seen.add((who, question.id))
            options[question.id] = count
            responses.append(
                Response(respondent=who, question_id=question.id, chosen=answer.chosen, correct=answer.correct)
            )
            used.append(answer)
        stats = analyse_items(responses, options)
        lines = []
        for qid, item in stats.items():
            question = self.bank.get(qid)
            assert question is not None  # only bank questions were analysed
            lines.append(ItemLine(stats=item, difficulty=question.difficulty, suggested=suggest_difficulty(item)))
        lines.sort(key=lambda line: (not line.stats.flags, line.stats.question_id))
        return ItemAnalysis(
            lines=tuple(lines),
            since=since,
            answers=len(used),
            first_at=min((a.answered_at for a in used), default=None),
            last_at=max((a.answered_at for a in used), default=None),
            unanswered=tuple(sorted(q.id for q in self.bank.questions if q.id not in stats)),
            gone_questions=len(gone),
            gone_answers=sum(gone.values()),
            unusable=unusable,
        )


CSV_COLUMNS = (
    "id",
    "n",
    "p",
    "r",
    "upper_lower",
    "most_chosen_wrong",
    "most_chosen_wrong_share",
    "flags",
    "difficulty",
    "suggested",
    "chosen_counts",
)


def _cell(value: float | None) -> str:
    # `+ 0.0` turns -0.0 into 0.0, so a zero never prints as "-0.000".
    return "" if value is None else f"{round(value, 3) + 0.0:.3f}"


def items_csv(analysis: ItemAnalysis) -> str:
    """One row per answered question, in the analysis' order; empty cells where a figure is undefined. Flags and the
    answers per option (authored order, `3;0;12;1`) are joined with `;`."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for line in analysis.lines:
        item = line.stats
        wrong = item.most_chosen_wrong
        writer.writerow(
            (
                item.question_id,
                item.n,
                _cell(item.difficulty),
                _cell(item.discrimination),
                _cell(item.upper_lower),
                "" if wrong is None else wrong,
                "" if wrong is None else _cell(item.chosen[wrong] / item.n),
                ";".join(sorted(flag.value for flag in item.flags)),
                line.difficulty,
                "" if line.suggested is None else line.suggested,
                ";".join(str(count) for count in item.chosen),
            )
        )
    return out.getvalue()
