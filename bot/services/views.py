"""View models: what an adapter needs to show a step of a quiz, with no formatting decided yet."""

from __future__ import annotations

from dataclasses import dataclass

from ..core.engine import AnswerRecord, Phase, QuizSession, SessionId
from ..core.lang import Lang
from ..core.model import Question
from ..core.progress import Summary
from ..core.review import ReviewItem


@dataclass(frozen=True, slots=True, kw_only=True)
class QuestionView:
    """The current question of a session, options in the order shown."""

    session_id: SessionId
    position: int
    total: int
    question: Question
    order: tuple[int, ...]
    phase: Phase  # ASKING, or RATING when a choice waits for "how sure are you?"
    pending_shown: int | None = None  # the shown index chosen, while RATING

    def options(self, lang: Lang) -> list[str]:
        """Option texts as shown."""
        return [self.question.options[index].get(lang) for index in self.order]

    @property
    def answer_shown(self) -> int:
        """Where the right answer stands among the shown options."""
        return self.order.index(self.question.answer)


@dataclass(frozen=True, slots=True, kw_only=True)
class RevealView:
    """A scored answer: what was chosen, what was right, and why."""

    view: QuestionView
    record: AnswerRecord
    chosen_shown: int
    streak: int
    is_last: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class ResultView:
    """A finished (or stopped) quiz: its result card."""

    session: QuizSession
    summary: Summary
    review_queue: int  # questions now waiting in the review queue
    review_due: int


@dataclass(frozen=True, slots=True, kw_only=True)
class NothingToReview:
    """`review` found an empty queue."""

    next_due_at: float | None  # None: the queue is empty


@dataclass(frozen=True, slots=True, kw_only=True)
class ProgressView:
    """Everything a person has answered, plus the state of their review queue."""

    summary: Summary
    quizzes_finished: int
    review_items: tuple[ReviewItem, ...]
    review_due: int
