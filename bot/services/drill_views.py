"""What the drill use cases return: views and outcomes an adapter renders, with no formatting decided yet."""

from __future__ import annotations

from dataclasses import dataclass

from ..core.drill import Drill, DrillAnswer, DrillId, DrillRound, DrillStudent
from ..core.drill_report import DrillReport
from ..core.engine import AnswerRecord
from ..core.model import Question
from .views import QuestionView


@dataclass(frozen=True, slots=True, kw_only=True)
class Joined:
    """Someone joined with a code, or was in already (and picks up where they are)."""

    drill: Drill
    student: DrillStudent
    new: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class LiveItem:
    """One question of a live round as every student sees it: the options in the order shown."""

    drill_id: DrillId
    round: DrillRound
    position: int
    total: int
    question: Question
    order: tuple[int, ...]

    @property
    def answer_shown(self) -> int:
        """Where the right answer stands among the shown options."""
        return self.order.index(self.question.answer)


@dataclass(frozen=True, slots=True, kw_only=True)
class LiveQuestion:
    """A live question for the whole class."""

    drill: Drill
    item: LiveItem
    students: list[DrillStudent]  # those with a nickname: the ones taking part


@dataclass(frozen=True, slots=True, kw_only=True)
class LiveReveal:
    """A live question closed (by the teacher or its timer): each student's answer, if they gave one."""

    drill: Drill
    item: LiveItem
    students: list[DrillStudent]
    answers: dict[int, AnswerRecord]  # by user id


@dataclass(frozen=True, slots=True, kw_only=True)
class LiveAnswer:
    """A student's answer to the open live question; only their first one counts."""

    recorded: bool
    item: LiveItem


@dataclass(frozen=True, slots=True, kw_only=True)
class StudentScore:
    """How one student did in a live round."""

    user_id: int
    correct: int
    answered: int

    @property
    def missed(self) -> int:
        return self.answered - self.correct


@dataclass(frozen=True, slots=True, kw_only=True)
class RoundOver:
    """The teacher finished a round; for a live round, each student's score (self-paced students saw theirs)."""

    drill: Drill
    scores: list[StudentScore]


@dataclass(frozen=True, slots=True, kw_only=True)
class RoundOpened:
    """A round opened: a post-test, or the delayed re-test."""

    drill: Drill
    round: DrillRound
    tell: list[DrillStudent]  # who gets a button to start it: none for a live round, which the teacher paces


@dataclass(frozen=True, slots=True, kw_only=True)
class RoundFinished:
    """A self-paced round's deadline passed: the drill moved on, nobody is messaged."""

    drill: Drill


DrillDue = LiveReveal | RoundFinished | RoundOpened


@dataclass(frozen=True, slots=True, kw_only=True)
class Panel:
    """The teacher's control panel: who joined and, for the current question or round, how many answered."""

    drill: Drill
    nicknames: list[str]
    answered: int = 0
    correct: int = 0  # of the live question just revealed


@dataclass(frozen=True, slots=True, kw_only=True)
class DrillSummary:
    """A line of the teacher's /drill list."""

    drill: Drill
    students: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Named:
    """A student chose a nickname (None: nothing usable in what they typed); a self-paced round that is open starts
    at once with its first question."""

    drill: Drill | None  # None: the drill is gone
    nickname: str | None
    question: QuestionView | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportWithAnswers:
    """A drill's report and the answers it was built from (for the CSV file)."""

    report: DrillReport
    answers: list[DrillAnswer]
