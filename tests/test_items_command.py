"""`python -m bot items`: item analysis over every stored answer, seeded through the quiz service into a real SQLite
file, then read back through `main` as a bank maintainer runs it."""

from __future__ import annotations

import asyncio
import csv
import io
import random
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.__main__ import main
from bot.core.engine import AnswerRecord, SessionId, UserId
from bot.core.model import QuestionBank, QuestionId
from bot.services import QuestionView, QuizService
from bot.services.items import CSV_COLUMNS, ItemService
from bot.storage.sqlite import SQLiteStorage
from tests.conftest import question_yaml, topic_yaml

JANUARY = datetime(2024, 1, 10, 9, 0, tzinfo=UTC).timestamp()
MARCH = datetime(2024, 3, 1, 9, 0, tzinfo=UTC).timestamp()
# In small_bank the right answers are: alpha-0 → 0, alpha-1 → 1, alpha-tf → 1 (of 2), beta-0 and beta-1 → 0.
RIGHT = {"alpha-0": 0, "alpha-1": 1, "alpha-tf": 1, "beta-0": 0, "beta-1": 0}
WRONG = {"alpha-0": 1, "alpha-1": 2, "alpha-tf": 0, "beta-0": 1, "beta-1": 2}


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


Quiz = dict[str, bool]  # question id -> answered right; one private quiz over exactly these questions, in order


async def seed(path: Path, bank: QuestionBank, quizzes: list[tuple[int, float, Quiz]], *, first: int = 0) -> None:
    """Each (user, time, quiz) played through QuizService.start_fixed; sessions are named s00, s01, ... from `first`."""
    storage = await SQLiteStorage.open(str(path))
    clock = Clock(0.0)
    names: Iterator[SessionId] = (SessionId(f"s{n:02}") for n in range(first, first + len(quizzes)))
    service = QuizService(bank, storage, clock=clock, rng=random.Random(1), session_ids=lambda: next(names))
    try:
        for user, at, quiz in quizzes:
            clock.now = at
            step = await service.start_fixed(UserId(user), list(quiz), ask_confidence=False)
            while isinstance(step, QuestionView):
                qid = step.question.id
                chosen = RIGHT[qid] if quiz[qid] else WRONG[qid]
                await service.choose(
                    UserId(user), step.session_id, position=step.position, shown=step.order.index(chosen)
                )
                step = await service.next(UserId(user), step.session_id, position=step.position)
    finally:
        await storage.close()


def ten_quizzes() -> list[tuple[int, float, Quiz]]:
    """Ten people in January, each one quiz over alpha-0, alpha-1 and alpha-tf.

    People 0-4 get alpha-0 and alpha-1 right and alpha-tf wrong; 5-7 the reverse; 8-9 miss all three. So alpha-tf:
    n = 10, 3 right (p = 0.30, under the 1/2 of chance: below_chance), 7 chose option 0 (70%). Its rest scores are
    1, 1, 1, 1, 1, 0, 0, 0, 0, 0 against right answers 0, 0, 0, 0, 0, 1, 1, 1, 0, 0: r = −1.5 / √(2.1 · 2.5) = −0.65
    (negative_discrimination). Upper-lower takes 3 each (27% of 10, rounded): ties broken by respondent id, so the
    bottom three are s05-s07 (all right) and the top three s02-s04 (all wrong): −1.00.
    """
    quizzes = []
    for person in range(10):
        strong, lucky = person < 5, 5 <= person < 8
        quizzes.append((100 + person, JANUARY + person, {"alpha-0": strong, "alpha-1": strong, "alpha-tf": lucky}))
    return quizzes


@pytest.fixture
def env(tmp_path: Path, small_bank: QuestionBank, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Settings naming tmp_path/quiz.db (not created here) and the small bank's files; returns tmp_path."""
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'quiz.db'}")
    monkeypatch.setenv("QUESTIONS_PATH", str(tmp_path / "bank"))
    monkeypatch.setenv("ARTICLE_PATH", str(tmp_path / "article.txt"))
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    return tmp_path


@pytest.fixture
def run(env: Path, capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, str]]:
    """`main(["items", *args])` as the command line runs it: (exit code, stdout, stderr)."""

    def items(*args: str) -> tuple[int, str, str]:
        code = main(["items", *args])
        out, err = capsys.readouterr()
        return code, out, err

    return items


def row(out: str, qid: str) -> list[str]:
    """The table line of one question, split on runs of two or more spaces (cells hold single spaces)."""
    [line] = [line for line in out.splitlines() if line.startswith(f"{qid} ")]
    return [cell.strip() for cell in line.split("  ") if cell.strip()]


def table_ids(out: str) -> list[str]:
    lines = out.splitlines()
    start = next(n for n, line in enumerate(lines) if line.startswith("id "))
    ids = []
    for line in lines[start + 1 :]:
        if not line:
            break
        ids.append(line.split()[0])
    return ids


def test_a_question_worked_by_hand(
    env: Path, small_bank: QuestionBank, run: Callable[..., tuple[int, str, str]]
) -> None:
    asyncio.run(seed(env / "quiz.db", small_bank, ten_quizzes()))
    code, out, err = run()
    assert code == 0, err
    assert row(out, "alpha-tf") == [
        "alpha-tf",
        "10",
        "0.30",
        "-0.65",
        "-1.00",
        "0 (70%)",
        "below_chance,negative_discrimination",
        "1",
    ]
    assert row(out, "alpha-0")[:3] == ["alpha-0", "10", "0.50"] and row(out, "alpha-0")[6] == "–"  # no flags
    assert table_ids(out) == ["alpha-tf", "alpha-0", "alpha-1"]  # flagged first, then by id
    for column in ("  id ", "  n ", "  p ", "  r ", "  u-l ", "  wrong ", "  flags ", "  level "):
        assert any(line.startswith(column) for line in out.splitlines()), column  # each column explained
    assert "30 answers given 2024-01-10 to 2024-01-10 (UTC), to 3 questions" in out
    assert "5 of the bank's 8 questions had none; 0 questions no longer in the bank skipped (0 answers)" in out
    assert "✓" not in out.split("\n\n")[1] and "→ suggest" not in out.split("\n\n")[1]  # under 30 answers


def test_since_counts_only_later_answers_and_skips_questions_gone_from_the_bank(
    env: Path,
    small_bank: QuestionBank,
    run: Callable[..., tuple[int, str, str]],
    write_bank: Callable[[dict[str, str]], Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    later = [(200, MARCH, {"beta-0": True, "alpha-tf": True}), (100, MARCH + 5, {"beta-0": False, "alpha-tf": True})]
    asyncio.run(seed(env / "quiz.db", small_bank, ten_quizzes()))
    asyncio.run(seed(env / "quiz.db", small_bank, later, first=10))
    code, out, _ = run("--since", "2024-02-01")
    assert code == 0
    assert table_ids(out) == ["alpha-tf", "beta-0"]
    assert row(out, "alpha-tf")[:3] == ["alpha-tf", "2", "1.00"] and row(out, "beta-0")[:3] == ["beta-0", "2", "0.50"]
    assert "4 answers given 2024-03-01 to 2024-03-01 (UTC), counted since 2024-02-01, to 2 questions" in out
    code, out, _ = run("--since", "2024-03-02")
    assert code == 0 and out.startswith("no answers to analyse since 2024-03-02 in sqlite:///")

    # The beta topic leaves the bank: its answers are skipped and counted, not analysed.
    alpha = [question_yaml(f"alpha-{n}", difficulty=1 + n % 3, answer=n % 3) for n in range(5)]
    alpha.append(question_yaml("alpha-tf", qtype="true_false", options=("對", "錯"), answer=1))
    folder = env / "alpha-only"
    folder.mkdir()
    (folder / "alpha.yaml").write_text(topic_yaml("alpha", alpha), encoding="utf-8")
    monkeypatch.setenv("QUESTIONS_PATH", str(folder))
    code, out, _ = run()
    assert code == 0 and table_ids(out) == ["alpha-tf", "alpha-0", "alpha-1"]
    assert row(out, "alpha-tf")[:3] == ["alpha-tf", "12", "0.42"]
    assert "32 answers given 2024-01-10 to 2024-03-01 (UTC), to 3 questions" in out
    assert "3 of the bank's 6 questions had none; 1 question no longer in the bank skipped (2 answers)" in out


def test_the_csv_file_has_the_table_and_the_answers_per_option(
    env: Path, small_bank: QuestionBank, run: Callable[..., tuple[int, str, str]]
) -> None:
    asyncio.run(seed(env / "quiz.db", small_bank, ten_quizzes()))
    target = env / "items.csv"
    code, out, _ = run("--csv", str(target))
    assert code == 0 and f"wrote {target} (3 questions)" in out
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with a BOM, so a spreadsheet reads it as UTF-8
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert tuple(rows[0]) == CSV_COLUMNS and [r["id"] for r in rows] == ["alpha-tf", "alpha-0", "alpha-1"]
    assert rows[0] == {
        "id": "alpha-tf",
        "n": "10",
        "p": "0.300",
        "r": "-0.655",
        "upper_lower": "-1.000",
        "most_chosen_wrong": "0",
        "most_chosen_wrong_share": "0.700",
        "flags": "below_chance;negative_discrimination",
        "difficulty": "1",
        "suggested": "",
        "chosen_counts": "7;3",
    }
    assert rows[1]["chosen_counts"] == "5;5;0" and rows[1]["flags"] == ""  # alpha-0: 5 right (0), 5 chose 1


def test_a_suggested_label_appears_from_30_answers(
    env: Path, small_bank: QuestionBank, run: Callable[..., tuple[int, str, str]]
) -> None:
    # beta-0 (labelled 2) is right 29 times in 30: p ≈ 0.97 says easy. beta-1 (labelled 2) is right every other time.
    quizzes = [(300 + n, JANUARY + n, {"beta-0": n != 1, "beta-1": n % 2 == 0}) for n in range(30)]
    asyncio.run(seed(env / "quiz.db", small_bank, quizzes[:29]))
    code, out, _ = run()
    assert code == 0
    assert row(out, "beta-0")[1] == "29" and row(out, "beta-0")[-1] == "2"  # 29 answers: no suggestion yet
    assert row(out, "beta-1")[-1] == "2"
    asyncio.run(seed(env / "quiz.db", small_bank, quizzes[29:], first=29))
    code, out, _ = run()
    assert code == 0
    assert row(out, "beta-0")[:3] == ["beta-0", "30", "0.97"] and row(out, "beta-0")[-2:] == [
        "too_easy",
        "2 → suggest 1",
    ]
    assert row(out, "beta-1")[:3] == ["beta-1", "30", "0.50"] and row(out, "beta-1")[-1] == "2 ✓"


def test_a_bad_date_is_a_usage_error(
    run: Callable[..., tuple[int, str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    for bad in ("2024-13-01", "2024-1-5", "yesterday", "20240105"):
        with pytest.raises(SystemExit) as exited:
            main(["items", "--since", bad])
        assert exited.value.code == 2
        err = capsys.readouterr().err
        assert f"argument --since: {bad!r} is not a date: write YYYY-MM-DD" in err and "Traceback" not in err


def test_a_missing_database_is_not_created(env: Path, run: Callable[..., tuple[int, str, str]]) -> None:
    code, out, err = run()
    assert code == 1 and out == ""
    assert (
        err.strip() == f"error: no database at {env / 'quiz.db'}: nothing has been answered there (check DATABASE_URL)"
    )
    assert not (env / "quiz.db").exists()


def test_an_empty_database_says_so(env: Path, run: Callable[..., tuple[int, str, str]]) -> None:
    async def create() -> None:
        await (await SQLiteStorage.open(str(env / "quiz.db"))).close()

    asyncio.run(create())
    code, out, err = run()
    assert code == 0 and err == ""
    assert out == f"no answers to analyse in sqlite:///{env / 'quiz.db'}\n"


async def test_each_quiz_is_its_own_respondent(tmp_path: Path, small_bank: QuestionBank) -> None:
    """The same person answering alpha-0 in two quizzes counts twice (once per quiz), never as an error."""
    await seed(tmp_path / "q.db", small_bank, [(7, JANUARY, {"alpha-0": True}), (7, MARCH, {"alpha-0": False})])
    storage = await SQLiteStorage.open(str(tmp_path / "q.db"))
    try:
        analysis = await ItemService(small_bank, storage).analysis()
    finally:
        await storage.close()
    [line] = analysis.lines
    assert (line.stats.n, line.stats.right, line.stats.chosen) == (2, 1, (1, 1, 0))
    assert analysis.answers == 2 and analysis.first_at == JANUARY and analysis.last_at == MARCH


async def test_answers_that_no_longer_fit_their_question_are_skipped_and_counted(small_bank: QuestionBank) -> None:
    """An option index past the question's options (the bank dropped one) or a second answer to the same question in
    one quiz would stop the analysis; each is skipped and counted instead."""

    def answer(session: str, chosen: int) -> AnswerRecord:
        return AnswerRecord(
            session_id=SessionId(session),
            user_id=UserId(1),
            question_id=QuestionId("alpha-0"),
            topic="alpha",
            position=0,
            chosen=chosen,
            correct=chosen == 0,
            confidence=None,
            elapsed_ms=900,
            answered_at=JANUARY,
        )

    class Stored:
        async def all_answers(self, since: float | None = None) -> list[AnswerRecord]:
            return [answer("s1", 0), answer("s1", 1), answer("s2", 5), answer("s3", 2)]

    analysis = await ItemService(small_bank, Stored()).analysis()
    assert analysis.answers == 2 and analysis.unusable == 2
    [line] = analysis.lines
    assert line.stats.chosen == (1, 0, 1) and line.stats.most_chosen_wrong == 2
