"""A drill measures learning end to end: judgment pre-test, lesson, post-test and re-test, then the report.

The teacher sets the drill up in the /drill wizard (a topic, and the judgment block toggle: ten real-or-fake items),
four students join with /join and take each round with a known script of right and wrong answers, and `/report CODE`
must show the figures that script implies: the rounds in teaching order, discernment with d′ and c per round,
normalized gain, retention, calibration, what to discuss and the item flags, with the chart and the two CSV files;
then in Traditional and Simplified Chinese."""

from __future__ import annotations

import csv
import io
import time
from statistics import NormalDist

import pytest

from bot.core.drill import DrillPhase
from bot.core.model import Question, Verdict
from bot.telegram.app import BotRuntime
from bot.telegram.context import SERVICES_KEY, BotServices
from bot.telegram.ratelimit import UserThrottle
from tests.emulator import BotApiEmulator
from tests.telegram.conftest import BANK, start_bot, stored
from tests.telegram.test_drill import press, say

pytestmark = pytest.mark.slow

TEACHER = 700
NAMES = ("Ava", "Ben", "Cai", "Dee")  # Dee still says "fake" to everything after the lesson
TOPIC = "Seeing is believing?"  # the verification topic
ROUNDS = ("pre", "post", "retest")
RATED_PER_ROUND = 2  # each student rates the first two answers of every round "Certain" and skips the rest


def buttons(message: dict) -> list[tuple[str, str]]:
    return [
        (b["text"], b["callback_data"])
        for row in message.get("reply_markup", {}).get("inline_keyboard", [])
        for b in row
    ]


def data_for(message: dict, label: str, *, exact: bool = False) -> str:
    found = [d for text, d in buttons(message) if (text == label if exact else label in text)]
    assert found, f"no button {label!r} in {buttons(message)}"
    return found[0]


async def make_drill(api: BotApiEmulator, teacher: dict) -> tuple[str, dict]:
    """The wizard: one topic, 5 questions plus the judgment block, self-paced, a pre/post pair, a 7-day re-test.

    The topic is not the judgment topic: with it, the block drew judge items the topic part already held, and a
    self-paced round (which asks each question once) showed fewer questions than the drill counted.
    """
    message = await say(api, teacher, "/drill")
    await press(api, teacher, message, data_for(message, "New drill"))
    message = api.message(teacher["id"], message["message_id"])
    await press(api, teacher, message, data_for(message, TOPIC))
    message = api.message(teacher["id"], message["message_id"])
    assert f"✅ {TOPIC}" in str(buttons(message))
    await press(api, teacher, message, data_for(message, "Next"))
    message = api.message(teacher["id"], message["message_id"])
    await press(api, teacher, message, data_for(message, "Add a judgment block (10 real-or-fake items)"))
    message = api.message(teacher["id"], message["message_id"])
    assert "✅ Add a judgment block" in str(buttons(message)), "the toggle stays on step 2, switched on"
    for label in ("5", "Self-paced", "3 days", "Yes", "7 days"):
        await press(api, teacher, message, data_for(message, label, exact=label == "5"))
        message = api.message(teacher["id"], message["message_id"])
    summary = message["text"]
    assert "Judgment block: 10 real-or-fake items, half genuine" in summary and "Re-test: 7 days" in summary
    mark = api.mark()
    api.press_button(teacher, message, data_for(message, "Create"))
    control = await api.wait_for("sendMessage", since=mark, chat_id=teacher["id"])
    await api.wait_for("answerCallbackQuery", since=mark)
    created = api.message(teacher["id"], message["message_id"])["text"]
    return created.split("Join code: ")[1].split("\n")[0], control.result


def call(round_: str, student: int, position: int, verdicts: list[Verdict | None]) -> bool:
    """The script: whether each student answers each item right in each round.

    On a judgment item a wrong answer is the other call: "fake" for a genuine item, "genuine" for a fake one.
    """
    verdict = verdicts[position]
    name = NAMES[student]
    first_topic = verdicts.index(None)
    first_genuine = verdicts.index(Verdict.GENUINE)
    first_fake = verdicts.index(Verdict.MANIPULATED)
    if verdict is None:  # a topic question: learned in the lesson, one forgotten by the re-test
        return round_ != "pre" and not (round_ == "retest" and name == "Ben" and position == first_topic)
    if round_ == "pre" or name == "Dee":
        return verdict is Verdict.MANIPULATED  # everyone doubts everything before the lesson; Dee goes on doing so
    if round_ == "retest" and name == "Ava" and position == first_genuine:
        return False  # a week later Ava doubts one genuine item...
    # ...and Cai lets one fake through.
    return not (round_ == "retest" and name == "Cai" and position == first_fake)


def wrong_option(question: Question) -> int:
    """The wrong option every student picks when wrong (for a judge item: the other call)."""
    return next(n for n in range(len(question.options)) if n != question.answer)


def shown_index(question_text: str, option: str) -> int:
    """Where an option stands among the letters shown."""
    lines = [line.strip().removeprefix("👉 ") for line in question_text.split("\n")]
    options = [line.split(". ", 1)[1] for line in lines if line[:2] in {f"{c}." for c in "ABCD"}]
    assert option in options, (option, options)
    return options.index(option)


async def take_round(
    api: BotApiEmulator, student: dict, number: int, first: dict, round_: str, questions: list[Question]
) -> None:
    verdicts = [q.verdict for q in questions]
    message = first
    for position, question in enumerate(questions):
        assert f"Question {position + 1}/{len(questions)}" in message["text"], message["text"]
        assert question.prompt.en in message["text"], "the round asks the drill's questions in the drill's order"
        right = call(round_, number, position, verdicts)
        option = question.options[question.answer if right else wrong_option(question)].en
        notice = await press(api, student, message, buttons(message)[shown_index(message["text"], option)][1])
        assert not notice, (notice, position, message["text"])
        rating = api.message(student["id"], message["message_id"])
        await press(api, student, rating, data_for(rating, "Certain" if position < RATED_PER_ROUND else "Skip"))
        revealed = api.message(student["id"], message["message_id"])
        mark = api.mark()
        api.press_button(student, revealed, buttons(revealed)[0][1])
        message = (await api.wait_for("sendMessage", since=mark, chat_id=student["id"])).result
    assert "Quiz complete" in message["text"]


async def start_round(api: BotApiEmulator, student: dict, invite: dict, total: int) -> dict:
    mark = api.mark()
    api.press_button(student, invite, buttons(invite)[0][1])
    first = await api.wait_for(
        "sendMessage", lambda c: f"Question 1/{total}" in c.params["text"], since=mark, chat_id=student["id"]
    )
    return first.result


async def report(api: BotApiEmulator, teacher: dict, code: str):
    """`/report CODE`: the summary (in one or more messages), the two CSV files and the chart."""
    mark = api.mark()
    api.send_text(teacher, f"/report {code}")
    chart = await api.wait_for("sendPhoto", since=mark, chat_id=TEACHER, timeout=15)
    await api.wait_idle()  # a chart caption too long for a caption follows the chart as messages
    texts = [c.result["text"] for c in api.calls_to("sendMessage", since=mark, chat_id=TEACHER)]
    documents = api.calls_to("sendDocument", since=mark, chat_id=TEACHER)
    return "\n".join(texts), documents, chart


async def start(api: BotApiEmulator, database_url: str) -> BotRuntime:
    """The bot, with room for quick students: the emulated ones tap 45 times a round, far faster than a person, and
    the per-person throttle (tested in test_abuse.py) would slow them down."""
    runtime = await start_bot(api, database_url)
    assert runtime.application is not None
    services: BotServices = runtime.application.bot_data[SERVICES_KEY]
    services.throttle = UserThrottle(burst=10_000)
    return runtime


def z(rate: float) -> float:
    return NormalDist().inv_cdf(rate)


def two(value: float) -> str:
    return f"{round(value, 2) + 0.0:.2f}"


async def test_a_judgment_pre_post_retest_drill_reports_learning_in_every_language(
    bot_api: BotApiEmulator, database_url: str
) -> None:
    api = bot_api
    runtime = await start(api, database_url)
    try:
        teacher = api.make_user(TEACHER, "Ms Wong", language_code="en")
        code, control = await make_drill(api, teacher)
        assert runtime.services is not None
        drill = await runtime.services.drill.by_code(code)
        assert drill is not None and drill.spec.judgment == 10 and drill.spec.pair and drill.spec.retest_days == 7
        questions = [BANK.get(item.question_id) for item in drill.items]
        assert all(q is not None for q in questions)
        verdicts = [q.verdict for q in questions]
        total = len(questions)
        # Five topic questions, then the block: ten judge items, half of them genuine.
        assert total == 15 and verdicts[:5] == [None] * 5
        assert verdicts[5:].count(Verdict.GENUINE) == verdicts[5:].count(Verdict.MANIPULATED) == 5
        class_ = [api.make_user(800 + n, f"Real {n}", language_code="en") for n in range(len(NAMES))]
        # The pre-test.
        for number, student in enumerate(class_):
            await say(api, student, f"/join {code}")
            mark = api.mark()
            api.send_text(student, NAMES[number])
            first = await api.wait_for(
                "sendMessage", lambda c: f"Question 1/{total}" in c.params["text"], since=mark, chat_id=student["id"]
            )
            await take_round(api, student, number, first.result, "pre", questions)
        panel = api.message(TEACHER, control["message_id"])
        await press(api, teacher, panel, data_for(panel, "End this round"))
        # The lesson happens; the post-test.
        panel = api.message(TEACHER, control["message_id"])
        assert "Pre-test done" in panel["text"]
        mark = api.mark()
        api.press_button(teacher, panel, data_for(panel, "Start post-test"))
        invites = await api.wait_for("sendMessage", lambda c: "post-test" in c.params["text"], since=mark, count=4)
        by_chat = {c.params["chat_id"]: c.result for c in invites}
        for number, student in enumerate(class_):
            first = await start_round(api, student, by_chat[student["id"]], total)
            await take_round(api, student, number, first, "post", questions)
        panel = api.message(TEACHER, control["message_id"])
        await press(api, teacher, panel, data_for(panel, "End this round"))
        [closed] = await runtime.services.drill.teacher_drills(TEACHER)
        assert closed.phase is DrillPhase.CLOSED and closed.retest_at is not None
        await runtime.stop()
        # A week passes (the stored re-test time is moved to now); the restarted bot sends the re-test.
        async with stored(database_url) as store:
            [closed] = await store.teacher_drills(TEACHER)
            assert await store.commit_drill(closed.bump(retest_at=time.time()), expected_version=closed.version)
        mark = api.mark()
        runtime = await start(api, database_url)
        invites = await api.wait_for(
            "sendMessage", lambda c: "Re-test time" in c.params["text"], since=mark, count=4, timeout=10
        )
        by_chat = {c.params["chat_id"]: c.result for c in invites}
        for number, student in enumerate(class_):
            first = await start_round(api, student, by_chat[student["id"]], total)
            await take_round(api, student, number, first, "retest", questions)

        # What the script implies.
        fakes = verdicts.count(Verdict.MANIPULATED)
        genuine = verdicts.count(Verdict.GENUINE)
        n = len(NAMES)
        counts = {  # round: (hits, false alarms), over the whole class
            "pre": (n * fakes, n * genuine),
            "post": (n * fakes, genuine),  # Dee doubts every genuine item
            "retest": (n * fakes - 1, genuine + 1),  # Cai let one fake through; Ava and Dee doubted genuine ones
        }
        scores = {  # round: each student's percent score
            round_: [100 * sum(call(round_, s, p, verdicts) for p in range(total)) / total for s in range(n)]
            for round_ in ROUNDS
        }
        mean = {round_: sum(values) / n for round_, values in scores.items()}
        g = (mean["post"] - mean["pre"]) / (100 - mean["pre"])

        text, documents, chart = await report(api, teacher, code)
        assert f"Report for drill {code}" in text and f"Students: {n}" in text
        print(text)  # shown with -s: the report as the teacher reads it
        lines = text.split("\n")
        rounds = [line.split(":")[0] for line in lines if f": {n} answered, average score" in line]
        assert rounds == ["pre-test", "post-test", "re-test"], "the rounds are listed in teaching order"
        assert f"average score {round(mean['pre'])}%" in text and f"average score {round(mean['post'])}%" in text
        assert (
            f"📈 Pre-test {round(mean['pre'])}% → post-test {round(mean['post'])}% for the {n} students who took both"
        ) in text
        assert f"normalized gain g = {two(g)} for the class" in text
        assert f"🔁 Re-test {round(mean['retest'])}% (the class's post-test: {round(mean['post'])}%)" in text
        assert f"kept {round(100 * mean['retest'] / mean['post'])}% of their post-test score" in text
        assert "Telling genuine from fake" in text
        for name, round_ in zip(("pre-test", "post-test", "re-test"), ROUNDS, strict=True):
            hits, false_alarms = counts[round_]
            zh = z((hits + 0.5) / (n * fakes + 1))
            zf = z((false_alarms + 0.5) / (n * genuine + 1))
            line = next(line for line in text.split("\n") if line.startswith(f"{name}: fakes caught"))
            assert line.startswith(
                f"{name}: fakes caught {hits} of {n * fakes} ({round(100 * hits / (n * fakes))}%), "
                f"genuine items doubted {false_alarms} of {n * genuine} "
                f"({round(100 * false_alarms / (n * genuine))}%)"
            ), line
            assert f"d′ {two(zh - zf)}, c {two(-(zh + zf) / 2)}." in line, line
        # Calibration is read from the rounds before the re-test (by then the class has seen the answers): the two
        # "Certain" answers per student per round are Q1 and Q2, topic questions everyone missed before the lesson.
        rated = RATED_PER_ROUND * n * 2
        assert f"🎯 Confidence, over {rated} rated answers: the class expected 95% right and got 50%" in text
        assert f"Certain: {rated // 2} of {rated} right" in text
        # What to discuss: the pre-test's most missed, by accuracy then position: the topic questions, which everyone
        # got wrong with the same wrong option; then the item with negative discrimination (below).
        wrong = questions[0].options[wrong_option(questions[0])].en
        assert "What to discuss:" in text
        assert f"1. Q1: 0% right; the wrong answer chosen most: “{wrong}” ({n}) — {questions[0].prompt.en}" in text
        assert "2. Q2: 0% right" in text
        # Item flags, over every round's answers (12 per item). Cai, the strongest in the re-test, is the one who let
        # a fake through: negative discrimination. The first genuine item, doubted by the whole class before the
        # lesson and by Ava and Dee after, is right below chance (5 of 12). The other fakes, caught every time, tell
        # little. (The thresholds themselves are unit-tested with the item analysis.)
        first_fake, first_genuine = verdicts.index(Verdict.MANIPULATED), verdicts.index(Verdict.GENUINE)
        assert f"Q{first_fake + 1}: the stronger students missed it more than the weaker ones" in text
        check = text[text.index("Item check") :].split("\n")
        flagged = {line.split(":")[0]: line for line in check[1:] if line.startswith("Q")}
        assert "the stronger students missed it more" in flagged[f"Q{first_fake + 1}"]
        assert f"{round(100 * 11 / 12)}% right of 12 answers" in flagged[f"Q{first_fake + 1}"]
        assert "42% right of 12 answers — fewer right than by chance" in flagged[f"Q{first_genuine + 1}"]
        for position, verdict in enumerate(verdicts):
            if verdict is Verdict.MANIPULATED and position != first_fake:
                assert "100% right of 12 answers — almost everyone got it right" in flagged[f"Q{position + 1}"]
        assert chart.files["photo"].data[:8] == b"\x89PNG\r\n\x1a\n"
        names = sorted(d.files["document"].filename for d in documents)
        assert names == [f"drill-{code}-answers.csv", f"drill-{code}-students.csv"]
        files = {d.files["document"].filename: d.files["document"].data.decode("utf-8-sig") for d in documents}
        answers = list(csv.DictReader(io.StringIO(files[f"drill-{code}-answers.csv"])))
        assert len(answers) == n * total * len(ROUNDS)
        assert {r["round"] for r in answers} == set(ROUNDS)
        assert sum(r["confidence"] == "sure" for r in answers) == RATED_PER_ROUND * n * len(ROUNDS)
        per_student = {r["nickname"]: r for r in csv.DictReader(io.StringIO(files[f"drill-{code}-students.csv"]))}
        assert sorted(per_student) == sorted(NAMES)
        ava, dee = per_student["Ava"], per_student["Dee"]
        assert float(ava["pre_score_pct"]) == pytest.approx(scores["pre"][0], abs=0.05)
        assert float(ava["post_score_pct"]) == 100.0 and float(ava["normalized_gain"]) == 1.0
        assert float(dee["post_score_pct"]) == pytest.approx(scores["post"][3], abs=0.05)
        dee_g = (scores["post"][3] - scores["pre"][3]) / (100 - scores["pre"][3])
        assert float(dee["normalized_gain"]) == pytest.approx(dee_g, abs=0.0005)
        assert dee["post_hit_rate"] == "1.000" and dee["post_false_alarm_rate"] == "1.000"
        assert int(ava["rated_answers"]) == RATED_PER_ROUND * 2 and ava["retest_judged"] == "10"

        # The same report in Traditional and Simplified Chinese.
        for choice, title, section in (
            ("zh-Hant", f"練習 {code} 的報告", "分辨真假"),
            ("zh-Hans", f"练习 {code} 的报告", "分辨真假"),
        ):
            mark = api.mark()
            api.send_text(teacher, "/lang")
            chooser = (await api.wait_for("sendMessage", lambda c: "reply_markup" in c.params, since=mark)).result
            await press(api, teacher, chooser, f"l:{choice}")
            text, documents, chart = await report(api, teacher, code)
            assert title in text and section in text and "g = " + two(g) in text, text
            assert len(documents) == 2 and chart.files["photo"].data[:4] == b"\x89PNG"
        assert "标准化进步" in text and "重测" in text
    finally:
        await runtime.stop()
