"""Which questions a drill gets: topic questions easy to hard, then a balanced judgment block."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.core.article import Article
from bot.core.drill import DrillSpec, balanced_judge, drill_from_dict, drill_questions, drill_to_dict
from bot.core.loader import load_bank
from bot.core.model import QuestionBank, QuestionType, Verdict
from tests.conftest import question_yaml, topic_yaml
from tests.core.test_drill import new_drill
from tests.core.test_judge_items import OPTIONS, judge_yaml
from tests.core.test_quality import SOURCES, refs

WriteBank = Callable[[dict[str, str]], Path]


@pytest.fixture
def mixed_bank(write_bank: WriteBank, article: Article) -> QuestionBank:
    """8 plain questions in `alpha`; 6 genuine and 9 manipulated judge items in `judgment`."""
    plain = [refs(question_yaml(f"plain-{n}", difficulty=1 + n % 3)) for n in range(8)]
    judge = [judge_yaml(f"real-{n}", "genuine", prompt_en=f"Real {n}") for n in range(6)]
    judge += [judge_yaml(f"fake-{n}", "manipulated", prompt_en=f"Fake {n}") for n in range(9)]
    folder = write_bank(
        {
            "alpha.yaml": topic_yaml("alpha", plain),
            "judgment.yaml": topic_yaml("judgment", judge),
            "_sources.yaml": SOURCES,
            "_judge_options.yaml": OPTIONS,
        }
    )
    report = load_bank([folder], article=article)
    assert report.bank is not None, report.render()
    return report.bank


def verdicts(questions: list) -> Counter[Verdict | None]:
    return Counter(q.verdict for q in questions)


@pytest.mark.parametrize("seed", range(20))
def test_a_judgment_block_follows_the_topic_questions_balanced(mixed_bank: QuestionBank, seed: int) -> None:
    spec = DrillSpec(topics=("alpha",), count=5, judgment=10)
    questions = drill_questions(mixed_bank, spec, random.Random(seed))
    assert len(questions) == 15
    topic, block = questions[:5], questions[5:]
    assert all(q.type is not QuestionType.JUDGE for q in topic)
    assert [q.difficulty for q in topic] == sorted(q.difficulty for q in topic)
    assert verdicts(block) == {Verdict.GENUINE: 5, Verdict.MANIPULATED: 5}


@pytest.mark.parametrize("seed", range(20))
def test_the_judgment_topic_alone_is_a_balanced_check(mixed_bank: QuestionBank, seed: int) -> None:
    questions = drill_questions(mixed_bank, DrillSpec(topics=("judgment",), count=10), random.Random(seed))
    assert verdicts(questions) == {Verdict.GENUINE: 5, Verdict.MANIPULATED: 5}
    assert len({q.id for q in questions}) == 10


@pytest.mark.parametrize("seed", range(20))
def test_every_topic_mixes_judge_items_in_proportion_and_balanced(mixed_bank: QuestionBank, seed: int) -> None:
    # 15 of the 23 questions are judge items: round(10 * 15 / 23) = 7 of 10, split 3/4 or 4/3.
    questions = drill_questions(mixed_bank, DrillSpec(count=10), random.Random(seed))
    counts = verdicts(questions)
    assert counts[None] == 3
    assert sorted((counts[Verdict.GENUINE], counts[Verdict.MANIPULATED])) == [3, 4]


@pytest.mark.parametrize("seed", range(30))
def test_the_block_never_repeats_a_judge_item_of_the_topic_part(mixed_bank: QuestionBank, seed: int) -> None:
    # The judgment topic itself gives 5 judge items; the block of 10 then comes from the other 10.
    questions = drill_questions(mixed_bank, DrillSpec(topics=("judgment",), count=5, judgment=10), random.Random(seed))
    assert len(questions) == 15 and len({q.id for q in questions}) == 15
    # Only 6 genuine items exist: the block gets 5 of them, or what the topic part left, and fakes for the rest.
    left = 6 - verdicts(questions[:5])[Verdict.GENUINE]
    assert verdicts(questions[5:])[Verdict.GENUINE] == min(5, left)


def test_an_odd_or_short_supply_still_fills_the_block(mixed_bank: QuestionBank) -> None:
    judge = [q for q in mixed_bank.questions if q.verdict is not None]
    # 14 asked, 6 genuine exist: all 6 genuine and 8 manipulated.
    assert verdicts(balanced_judge(judge, 14, random.Random(1))) == {Verdict.GENUINE: 6, Verdict.MANIPULATED: 8}
    seen = {tuple(sorted(verdicts(balanced_judge(judge, 3, random.Random(s))).values())) for s in range(20)}
    assert seen == {(1, 2)}


def test_the_block_is_stored_with_the_drill(mixed_bank: QuestionBank) -> None:
    drill = new_drill(mixed_bank, judgment=10, topics=("alpha",))
    assert drill.total == 13
    data = drill_to_dict(drill)
    assert drill_from_dict(data) == drill
    del data["spec"]["judgment"]  # a drill stored before judgment blocks existed
    assert drill_from_dict(data).spec.judgment == 0
