"""The question bank's values: questions, topics and the bank itself."""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import NewType

from .lang import Lang, Localized

QuestionId = NewType("QuestionId", str)
TopicId = NewType("TopicId", str)


class QuestionType(StrEnum):
    """What kind of thinking a question asks for."""

    CHOICE = "choice"
    TRUE_FALSE = "true_false"
    SCENARIO = "scenario"  # "what should you do?"
    FACT_OR_OPINION = "fact_or_opinion"
    WHO_SAID = "who_said"
    JUDGE = "judge"  # a concrete situation, judged genuine or manipulated: what discernment is measured on


class Verdict(StrEnum):
    """The truth of a `judge` item. Its options are always these two, in this order."""

    GENUINE = "genuine"
    MANIPULATED = "manipulated"  # or unsupported: nothing the situation shows backs it


class Skill(StrEnum):
    """What a question asks of the reader: the bank keeps recall of who-said-what a minority."""

    RECALL = "recall"  # what the article or a named speaker said, or who said it
    CONCEPT = "concept"  # a media-literacy concept or a background fact
    JUDGMENT = "judgment"  # applying it to a concrete situation


# Types whose options have a meaningful fixed order (True before False; fact, claim, opinion; genuine, manipulated).
FIXED_ORDER_TYPES = frozenset({QuestionType.TRUE_FALSE, QuestionType.FACT_OR_OPINION, QuestionType.JUDGE})
JUDGE_ORDER = (Verdict.GENUINE, Verdict.MANIPULATED)  # option index -> what choosing it says


@dataclass(frozen=True, slots=True, kw_only=True)
class NamedSource:
    """A public document a question rests on, shown by name (never by a code) where the answer is explained."""

    id: str
    name: Localized  # what the reveal shows: "FBI public service announcement, Dec 2024"
    title: str
    publisher: str
    date: str
    link: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Source:
    """Where a question comes from: an article paragraph with a verbatim quote, named sources, or both."""

    paragraph: int | None = None
    quote: Localized | None = None
    refs: tuple[NamedSource, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Topic:
    """A topic: one file of the bank."""

    id: TopicId
    title: Localized


@dataclass(frozen=True, slots=True, kw_only=True)
class Question:
    """One validated question. `answer` indexes `options` in authored order."""

    id: QuestionId
    topic: TopicId
    type: QuestionType
    skill: Skill
    difficulty: int
    prompt: Localized
    options: tuple[Localized, ...]
    answer: int
    explanation: Localized
    source: Source
    shuffle: bool
    poll_langs: frozenset[Lang]  # languages in which it fits a native quiz poll; elsewhere buttons only
    location: str  # "file:line", for reports
    verdict: Verdict | None = None  # `judge` items only

    def says_manipulated(self, chosen: int) -> bool | None:
        """For a `judge` item, whether option `chosen` judges it manipulated; None for every other type (and for an
        index that is not one of its options)."""
        if self.verdict is None or not 0 <= chosen < len(JUDGE_ORDER):
            return None
        return JUDGE_ORDER[chosen] is Verdict.MANIPULATED

    def fits_poll(self, lang: Lang) -> bool:
        """Whether this question can be sent as a native quiz poll in `lang`."""
        return lang in self.poll_langs


@dataclass(slots=True)
class QuestionBank:
    """Every question, indexed by id and topic. Built once by the loader; read-only afterwards."""

    questions: tuple[Question, ...]
    topics: tuple[Topic, ...]
    retired: frozenset[QuestionId] = frozenset()
    sources: tuple[NamedSource, ...] = ()
    _by_id: dict[QuestionId, Question] = field(init=False, repr=False)
    _topics: dict[TopicId, Topic] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._by_id = {q.id: q for q in self.questions}
        self._topics = {t.id: t for t in self.topics}

    def __len__(self) -> int:
        return len(self.questions)

    def get(self, question_id: str) -> Question | None:
        """The question with this id, or None (also for retired ids)."""
        return self._by_id.get(QuestionId(question_id))

    def topic(self, topic_id: str) -> Topic | None:
        """The topic with this id, or None."""
        return self._topics.get(TopicId(topic_id))

    def find_topic(self, text: str) -> Topic | None:
        """A topic named by id, by a unique id prefix or by its title in any language (for typed commands)."""
        wanted = text.strip().lower()
        if not wanted:
            return None
        for topic in self.topics:
            if wanted == topic.id or any(wanted == title.lower() for _, title in topic.title.items()):
                return topic
        matches = [t for t in self.topics if t.id.startswith(wanted)]
        return matches[0] if len(matches) == 1 else None

    def in_topic(self, topic_id: str) -> tuple[Question, ...]:
        """Questions of one topic, in bank order."""
        return tuple(q for q in self.questions if q.topic == topic_id)

    def select(
        self,
        rng: random.Random,
        *,
        count: int,
        topics: Iterable[str] | None = None,
        difficulty: int | None = None,
        first: Sequence[str] = (),
    ) -> list[Question]:
        """Pick up to `count` distinct questions.

        `first` lists ids that must come first in that order (the review queue); the rest are drawn at random
        from the questions matching `topics` and `difficulty` and ordered easy to hard, so a quiz warms up.
        """
        chosen: list[Question] = []
        seen: set[QuestionId] = set()
        for qid in first:
            question = self.get(qid)
            if question is not None and question.id not in seen and len(chosen) < count:
                chosen.append(question)
                seen.add(question.id)
        wanted_topics = set(topics) if topics is not None else None
        pool = [
            q
            for q in self.questions
            if q.id not in seen
            and (wanted_topics is None or q.topic in wanted_topics)
            and (difficulty is None or q.difficulty == difficulty)
        ]
        extra = rng.sample(pool, min(len(pool), max(0, count - len(chosen))))
        extra.sort(key=lambda q: q.difficulty)
        return chosen + extra
