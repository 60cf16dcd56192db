"""Classroom drills end to end: set-up, joining, live and self-paced rounds, pre/post, report files, refusals."""

from __future__ import annotations

import asyncio
import csv
import io
import time
from pathlib import Path

import pytest
from PIL import Image

from bot.core.drill import Drill, DrillPhase
from bot.services.drill import DrillService
from bot.telegram.app import BotRuntime
from tests.emulator import BotApiEmulator
from tests.telegram.conftest import BANK, bot_settings, stored

TEACHER = 500


def drills_of(runtime: BotRuntime) -> DrillService:
    assert runtime.services is not None, "the bot is not running"
    return runtime.services.drill


async def the_drill(runtime: BotRuntime, code: str) -> Drill:
    drill = await drills_of(runtime).by_code(code)
    assert drill is not None, code
    return drill


async def nicknames(runtime: BotRuntime, code: str) -> list[str]:
    """The nicknames of the drill's students, in the order they joined (as the teacher's panel lists them)."""
    panel = await drills_of(runtime).panel((await the_drill(runtime, code)).id)
    assert panel is not None, "the drill has no panel"
    return panel.nicknames


async def drill_answers(runtime: BotRuntime, code: str) -> int:
    """How many answers the drill's students have given, in every round (as the report counts them)."""
    drill = await the_drill(runtime, code)
    return len((await drills_of(runtime).report(drill)).answers)


def buttons(message: dict) -> list[tuple[str, str]]:
    return [
        (b["text"], b["callback_data"])
        for row in message.get("reply_markup", {}).get("inline_keyboard", [])
        for b in row
    ]


def data_for(message: dict, label: str) -> str:
    found = [d for text, d in buttons(message) if label in text]
    assert found, f"no button {label!r} in {buttons(message)}"
    return found[0]


async def start(api: BotApiEmulator, database_url: str, **overrides: str) -> BotRuntime:
    runtime = BotRuntime(bot_settings(api, database_url, **overrides), BANK)
    await runtime.start(poll_timeout=1.0)
    return runtime


@pytest.fixture
async def classroom(bot_api: BotApiEmulator, database_url: str):
    runtime = await start(bot_api, database_url)
    yield bot_api, runtime, database_url
    await runtime.stop()


async def say(api: BotApiEmulator, user: dict, text: str) -> dict:
    mark = api.mark()
    api.send_text(user, text)
    return (await api.wait_for("sendMessage", since=mark, chat_id=user["id"])).result


async def press(api: BotApiEmulator, user: dict, message: dict, data: str) -> str:
    """Press a button and wait for the bot to answer that very press; returns the notice shown, if any."""
    mark = api.mark()  # the answer comes after the press: looking only there keeps each wait short in long tests
    update = api.press_button(user, message, data)
    query_id = update["callback_query"]["id"]
    answer = await api.wait_for("answerCallbackQuery", since=mark, callback_query_id=query_id)
    return answer.params.get("text", "")


async def make_drill(
    api: BotApiEmulator,
    teacher: dict,
    *,
    count: str = "5",
    mode: str = "Live",
    seconds: str = "Untimed",
    days: str = "7 days",
    pair: str = "No",
    retest: str = "No re-test",
) -> tuple[str, dict]:
    """Walk the wizard; returns the join code and the teacher's control panel message."""
    overview = await say(api, teacher, "/drill")
    assert "Your drills" in overview["text"]
    message = overview
    await press(api, teacher, message, data_for(message, "New drill"))
    message = api.message(teacher["id"], message["message_id"])
    assert "step 1" in message["text"]
    await press(api, teacher, message, data_for(message, "Next"))
    for label in (count, mode, seconds if mode == "Live" else days, pair, retest):
        message = api.message(teacher["id"], message["message_id"])
        await press(api, teacher, message, data_for(message, label))
    message = api.message(teacher["id"], message["message_id"])
    assert "Your new drill" in message["text"]
    mark = api.mark()
    api.press_button(teacher, message, data_for(message, "Create"))
    photo = await api.wait_for("sendPhoto", since=mark, chat_id=teacher["id"])
    control = await api.wait_for("sendMessage", since=mark, chat_id=teacher["id"])
    await api.wait_for("answerCallbackQuery", since=mark)  # the press is done: the panel's id is stored too
    created = api.message(teacher["id"], message["message_id"])["text"]
    code = created.split("Join code: ")[1].split("\n")[0]
    assert len(code) == 8 and not set(code) & set("01OIL")
    assert f"https://t.me/DeepfakeQuizBot?start={code}" in created
    png = photo.files["photo"].data
    assert Image.open(io.BytesIO(png)).format == "PNG"
    return code, control.result


async def join(api: BotApiEmulator, student: dict, code: str, nickname: str, how: str = "link") -> dict:
    first = await say(api, student, f"/start {code}" if how == "link" else f"/join {code}")
    assert "Send me a nickname" in first["text"], first["text"]
    return await say(api, student, nickname)


async def panel_shows(api: BotApiEmulator, control: dict, words: str, since: int | None = None) -> None:
    """Wait until the teacher's control panel has been edited to show `words`: it is refreshed in batches
    (bot/telegram/drill.py's CONTROL_REFRESH_SECONDS), so this waits for the edit rather than a fixed time."""
    await api.wait_for(
        "editMessageText",
        lambda c: words in c.params["text"],
        since=since,
        chat_id=TEACHER,
        message_id=control["message_id"],
        timeout=15,
    )


def students(api: BotApiEmulator, count: int, first: int = 600) -> list[dict]:
    return [api.make_user(first + n, f"Real Name {n}", language_code="en") for n in range(count)]


def right_letter_index(question_text: str) -> int:
    """Find the right option by looking it up in the bank (the test knows the answer key)."""
    prompt = question_text.split("\n")[2]
    question = next(q for q in BANK.questions if q.prompt.en == prompt)
    lines = [line.strip().removeprefix("👉 ") for line in question_text.split("\n")]
    options = [line.split(". ", 1)[1] for line in lines if line[:2] in {f"{c}." for c in "ABCDEFGH"}]
    assert question.options[question.answer].en in options, (question_text, options)
    return options.index(question.options[question.answer].en)


@pytest.mark.slow
async def test_a_live_drill_with_thirty_students_and_its_report(classroom) -> None:
    api, runtime, _ = classroom
    teacher = api.make_user(TEACHER, "Ms Lee", language_code="en")
    code, control = await make_drill(api, teacher, count="5")
    class_ = students(api, 30)
    for n, student in enumerate(class_):
        welcome = await join(api, student, code, f"Owl {n}", how="link" if n % 2 else "command")
        assert "The questions will appear here when your teacher starts" in welcome["text"]
    assert len(await nicknames(runtime, code)) == 30
    await panel_shows(api, control, "Joined: 30: ")  # the panel shows who joined, in one batched edit
    panel = api.message(TEACHER, control["message_id"])
    assert "Joined: 30: Owl 0" in panel["text"] and "Real Name" not in panel["text"]
    for number in range(5):
        mark = api.mark()
        api.press_button(teacher, panel, data_for(panel, "Start" if number == 0 else "Next question"))
        questions = await api.wait_for("sendMessage", lambda c: c.params["chat_id"] >= 600, since=mark, count=30)
        for index, call in enumerate(questions):
            student = next(s for s in class_ if s["id"] == call.params["chat_id"])
            right = right_letter_index(call.result["text"])
            shown = right if index < 20 + number else (right + 1) % len(buttons(call.result))
            await press(api, student, call.result, buttons(call.result)[shown][1])
            rating = api.message(student["id"], call.result["message_id"])
            await press(api, student, rating, data_for(rating, "Certain"))
        assert await drill_answers(runtime, code) == 30 * (number + 1)
        await panel_shows(api, control, f"Question {number + 1}/5 is open: 30/30 answered.")  # batched too
        panel = api.message(TEACHER, control["message_id"])
        assert f"Question {number + 1}/5 is open: 30/30 answered." in panel["text"]
        mark = api.mark()
        api.press_button(teacher, panel, data_for(panel, "Reveal"))
        reveals = await api.wait_for(
            "editMessageText", lambda c: c.params.get("chat_id", 0) >= 600, since=mark, count=30
        )
        assert all("💡 Why" in c.params["text"] for c in reveals)
        await panel_shows(api, control, f"30 answered, {20 + number} right", since=mark)
        panel = api.message(TEACHER, control["message_id"])
        assert f"30 answered, {20 + number} right" in panel["text"]
    mark = api.mark()
    api.press_button(teacher, panel, data_for(panel, "End this round"))
    done = await api.wait_for("sendMessage", lambda c: "This round is over" in c.params["text"], since=mark, count=30)
    assert any("review list" in c.params["text"] for c in done)
    assert [d.phase for d in await drills_of(runtime).teacher_drills(TEACHER)] == [DrillPhase.CLOSED]
    # The report: a summary, a CSV (one row per student per question) and a chart.
    mark = api.mark()
    api.send_text(teacher, f"/report {code.lower()}")
    summary = await api.wait_for("sendMessage", since=mark, chat_id=TEACHER)
    document = await api.wait_for("sendDocument", since=mark, chat_id=TEACHER)
    chart = await api.wait_for("sendPhoto", since=mark, chat_id=TEACHER)
    text = summary.params["text"]
    assert f"Report for drill {code}" in text and "Students: 30" in text and "average score 73%" in text
    assert "What to discuss:" in text and ": 67% right; the wrong answer chosen most:" in text and "💡" in text
    assert "over 150 rated answers: the class expected 95% right and got 73%" in text
    table = list(csv.DictReader(io.StringIO(document.files["document"].data.decode("utf-8-sig"))))
    assert len(table) == 150 and {r["nickname"] for r in table} == {f"Owl {n}" for n in range(30)}
    assert sum(int(r["correct"]) for r in table) == 20 + 21 + 22 + 23 + 24
    assert {r["confidence"] for r in table} == {"sure"}
    image = Image.open(io.BytesIO(chart.files["photo"].data))
    assert image.format == "PNG" and image.size == (1600, 900)


@pytest.mark.slow
async def test_a_self_paced_pre_post_pair_shows_the_gain(classroom) -> None:
    api, _, _ = classroom
    teacher = api.make_user(TEACHER, "Mr Chan", language_code="en")
    code, control = await make_drill(api, teacher, count="5", mode="Self-paced", days="3 days", pair="Yes")
    # Ten students, one after another (a class of 30 sending at once is the live drill's test above): each round is
    # about 45 presses a student, held to Telegram's 30 messages a second by the rate limiter.
    class_ = students(api, 10)

    async def take(student: dict, first: dict, right: int) -> None:
        question = first
        for n in range(5):
            shown = right_letter_index(question["text"])
            if n >= right:
                shown = (shown + 1) % len([b for b in buttons(question)])
            await press(api, student, question, buttons(question)[shown][1])
            rating = api.message(student["id"], question["message_id"])
            await press(api, student, rating, data_for(rating, "Fairly sure"))
            revealed = api.message(student["id"], question["message_id"])
            assert "💡 Why" in revealed["text"]  # self-paced: explained at once
            mark = api.mark()
            api.press_button(student, revealed, buttons(revealed)[0][1])
            question = (await api.wait_for("sendMessage", since=mark, chat_id=student["id"])).result
        assert "Quiz complete" in question["text"]

    for n, student in enumerate(class_):
        await say(api, student, f"/join {code}")
        mark = api.mark()
        api.send_text(student, f"Fox {n}")
        first = await api.wait_for(
            "sendMessage", lambda c: "Question 1/5" in c.params["text"], since=mark, chat_id=student["id"]
        )
        await take(student, first.result, right=2)
    panel = api.message(TEACHER, control["message_id"])
    await press(api, teacher, panel, data_for(panel, "End this round"))
    panel = api.message(TEACHER, control["message_id"])
    assert "Pre-test done" in panel["text"]
    mark = api.mark()
    api.press_button(teacher, panel, data_for(panel, "Start post-test"))
    invites = await api.wait_for("sendMessage", lambda c: "post-test" in c.params["text"], since=mark, count=10)
    for student, invite in zip(class_, sorted(invites, key=lambda c: c.params["chat_id"]), strict=True):
        mark = api.mark()
        api.press_button(student, invite.result, buttons(invite.result)[0][1])
        first = await api.wait_for(
            "sendMessage", lambda c: "Question 1/5" in c.params["text"], since=mark, chat_id=student["id"]
        )
        await take(student, first.result, right=4)
    mark = api.mark()
    api.send_text(teacher, f"/report {code}")
    summary = (await api.wait_for("sendMessage", since=mark, chat_id=TEACHER)).params["text"]
    assert "Pre-test 40% → post-test 80% for the 10 students who took both: +40 points" in summary
    assert "normalized gain g = 0.67 for the class" in summary  # (80 - 40) / (100 - 40)
    chart = await api.wait_for("sendPhoto", since=mark, chat_id=TEACHER)
    assert Image.open(io.BytesIO(chart.files["photo"].data)).size == (1600, 900)
    document = await api.wait_for("sendDocument", since=mark, chat_id=TEACHER)
    table = list(csv.DictReader(io.StringIO(document.files["document"].data.decode("utf-8-sig"))))
    assert len(table) == 100 and {r["round"] for r in table} == {"pre", "post"}


async def test_refusals(bot_api: BotApiEmulator, database_url: str) -> None:
    runtime = await start(bot_api, database_url, DRILL_MAX_STUDENTS="2")
    api = bot_api
    try:
        teacher = api.make_user(TEACHER, "T", language_code="en")
        code, control = await make_drill(api, teacher, count="5")
        a, b, c, guesser = students(api, 4)
        assert "Usage: /join CODE" in (await say(api, a, "/join"))["text"]
        assert "There is no drill with that code" in (await say(api, a, "/join ZZZZZZZZ"))["text"]
        # A text that can't be a code says what a code looks like (O and 1 are never in one).
        assert "a code is 8 letters and digits, like ABCD2345" in (await say(api, a, "/join BO0K-1"))["text"]
        assert "a code is 8 letters and digits" in (await say(api, teacher, "/report nope"))["text"]
        assert "teachers don't need to join" in (await say(api, teacher, f"/join {code}"))["text"]
        await join(api, a, code, "Ann")
        assert "already in this drill as “Ann”" in (await say(api, a, f"/join {code}"))["text"]
        await join(api, b, code, "Ann")  # a taken nickname gets a number
        assert await nicknames(runtime, code) == ["Ann", "Ann 2"]
        assert "That drill is full" in (await say(api, c, f"/join {code}"))["text"]
        for _ in range(5):
            assert "no drill with that code" in (await say(api, guesser, "/join ABCDEFGH"))["text"]
        assert "Too many wrong codes" in (await say(api, guesser, f"/join {code}"))["text"]
        assert "Only the teacher" in (await say(api, a, f"/report {code}"))["text"]
        # A student pressing the teacher's controls, and answering for someone else.
        mark = api.mark()
        pressed = api.press_raw(a, a["id"], control["message_id"], data_for(control, "Start"))
        query_id = pressed["callback_query"]["id"]
        refusal = await api.wait_for("answerCallbackQuery", since=mark, callback_query_id=query_id)
        assert refusal.params["text"] == "Only the teacher who made this drill can do that."
        panel = api.message(TEACHER, control["message_id"])
        mark = api.mark()
        api.press_button(teacher, panel, data_for(panel, "Start"))
        question = (await api.wait_for("sendMessage", since=mark, chat_id=a["id"])).result
        option = buttons(question)[0][1]
        assert option.startswith("e:")
        # Only the kind letter changes: replacing every "e:" also mangled a drill id that happened to end in "e".
        forged = "h:" + option.removeprefix("e:") + ":s"
        mark = api.mark()
        pressed = api.press_raw(c, c["id"], question["message_id"], forged)  # c never joined
        # That very press's answer: the teacher's Start press just before may be answered after the mark, too.
        query_id = pressed["callback_query"]["id"]
        refusal = await api.wait_for("answerCallbackQuery", since=mark, callback_query_id=query_id)
        assert refusal.params["text"] == "There is no drill with that code. Check it and try again."
        async with stored(database_url) as store:
            assert await store.answers() == []
        panel = api.message(TEACHER, control["message_id"])
        await press(api, teacher, panel, data_for(panel, "Close"))
        assert "That drill is closed" in (await say(api, c, f"/join {code}"))["text"]
        # A self-paced drill past its deadline (the day is over: its stored deadline is moved to long ago).
        code2, _ = await make_drill(api, teacher, mode="Self-paced", days="1 day")
        async with stored(database_url) as store:
            drill = await store.drill_by_code(code2)
            assert drill is not None and drill.deadline is not None
            assert await store.commit_drill(drill.bump(deadline=1.0), expected_version=drill.version)
        assert "deadline has passed" in (await say(api, c, f"/join {code2}"))["text"]
    finally:
        await runtime.stop()


async def test_a_restart_mid_drill_keeps_every_answer_and_goes_on(bot_api: BotApiEmulator, database_url: str) -> None:
    api = bot_api
    runtime = await start(api, database_url)
    teacher = api.make_user(TEACHER, "T", language_code="en")
    code, control = await make_drill(api, teacher, count="5")
    class_ = students(api, 3)
    for n, student in enumerate(class_):
        await join(api, student, code, f"Kid {n}")
    panel = api.message(TEACHER, control["message_id"])
    mark = api.mark()
    api.press_button(teacher, panel, data_for(panel, "Start"))
    questions = await api.wait_for("sendMessage", lambda c: c.params["chat_id"] >= 600, since=mark, count=3)
    for call in questions[:2]:
        student = next(s for s in class_ if s["id"] == call.params["chat_id"])
        await press(api, student, call.result, buttons(call.result)[0][1])
        await press(
            api,
            student,
            api.message(student["id"], call.result["message_id"]),
            data_for(api.message(student["id"], call.result["message_id"]), "Skip"),
        )
    api.block_chat(class_[2]["id"], notify=False)  # this student blocked the bot meanwhile
    await runtime.stop()
    runtime = await start(api, database_url)
    try:
        assert await drill_answers(runtime, code) == 2
        panel = api.message(TEACHER, control["message_id"])
        mark = api.mark()
        api.press_button(teacher, panel, data_for(panel, "Reveal"))
        await api.wait_for("editMessageText", lambda c: c.params.get("chat_id", 0) >= 600, since=mark, count=2)
        await api.wait_for("editMessageText", since=mark, chat_id=TEACHER)
        panel = api.message(TEACHER, control["message_id"])
        mark = api.mark()
        api.press_button(teacher, panel, data_for(panel, "Next question"))
        await api.wait_for("sendMessage", lambda c: c.params["chat_id"] >= 600, since=mark, count=2)
        assert await drill_answers(runtime, code) == 2
    finally:
        await runtime.stop()


async def test_a_delayed_retest_reaches_students_and_the_report_shows_retention(
    bot_api: BotApiEmulator, database_url: str
) -> None:
    api = bot_api
    runtime = await start(api, database_url)
    teacher = api.make_user(TEACHER, "T", language_code="en")
    code, control = await make_drill(api, teacher, count="5", mode="Self-paced", days="1 day", retest="7 days")
    student = students(api, 1)[0]
    await say(api, student, f"/join {code}")
    mark = api.mark()
    api.send_text(student, "Sam")
    question = (await api.wait_for("sendMessage", lambda c: "Question 1/5" in c.params["text"], since=mark)).result
    for _ in range(5):
        await press(api, student, question, buttons(question)[right_letter_index(question["text"])][1])
        rating = api.message(student["id"], question["message_id"])
        await press(api, student, rating, data_for(rating, "Skip"))
        revealed = api.message(student["id"], question["message_id"])
        mark = api.mark()
        api.press_button(student, revealed, buttons(revealed)[0][1])
        question = (await api.wait_for("sendMessage", since=mark, chat_id=student["id"])).result
    panel = api.message(TEACHER, control["message_id"])
    await press(api, teacher, panel, data_for(panel, "End this round"))
    [drill] = await drills_of(runtime).teacher_drills(TEACHER)
    assert drill.phase is DrillPhase.CLOSED and drill.retest_at is not None and drill.retest_at > time.time()
    await runtime.stop()
    # A week passes (the stored re-test time is moved to now); a restarted bot finds it and sends the re-test.
    async with stored(database_url) as store:
        [drill] = await store.teacher_drills(TEACHER)
        assert await store.commit_drill(drill.bump(retest_at=time.time()), expected_version=drill.version)
    mark = api.mark()
    runtime = await start(api, database_url)
    try:
        invite = (
            await api.wait_for("sendMessage", lambda c: "Re-test time" in c.params["text"], since=mark, timeout=10)
        ).result
        mark = api.mark()
        api.press_button(student, invite, buttons(invite)[0][1])
        question = (await api.wait_for("sendMessage", lambda c: "Question 1/5" in c.params["text"], since=mark)).result
        for n in range(5):
            shown = right_letter_index(question["text"]) if n < 3 else (right_letter_index(question["text"]) + 1) % 2
            await press(api, student, question, buttons(question)[shown][1])
            rating = api.message(student["id"], question["message_id"])
            await press(api, student, rating, data_for(rating, "Skip"))
            revealed = api.message(student["id"], question["message_id"])
            mark = api.mark()
            api.press_button(student, revealed, buttons(revealed)[0][1])
            question = (await api.wait_for("sendMessage", since=mark, chat_id=student["id"])).result
        mark = api.mark()
        api.send_text(teacher, f"/report {code}")
        summary = (await api.wait_for("sendMessage", since=mark, chat_id=TEACHER)).params["text"]
        assert "Re-test 60% (the class's post-test: 100%)" in summary
    finally:
        await runtime.stop()


async def test_the_report_from_the_command_line(classroom, tmp_path: Path) -> None:
    api, _, database_url = classroom
    teacher = api.make_user(TEACHER, "T", language_code="en")
    code, control = await make_drill(api, teacher, count="5")
    kid = students(api, 1)[0]
    await join(api, kid, code, "Kit")
    panel = api.message(TEACHER, control["message_id"])
    mark = api.mark()
    api.press_button(teacher, panel, data_for(panel, "Start"))
    question = (await api.wait_for("sendMessage", since=mark, chat_id=kid["id"])).result
    await press(api, kid, question, buttons(question)[right_letter_index(question["text"])][1])
    rating = api.message(kid["id"], question["message_id"])
    await press(api, kid, rating, data_for(rating, "Certain"))
    import sys

    from bot.config import PROJECT_ROOT

    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": database_url, "PYTHONIOENCODING": "utf-8"}

    async def run(*args: str) -> tuple[int, str, str]:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "report",
            *args,
            env=env,
            cwd=PROJECT_ROOT,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await process.communicate()
        return process.returncode, out.decode(), err.decode()

    code_, out, err = await run(code, "--csv", str(tmp_path / "r.csv"), "--png", str(tmp_path / "r.png"))
    assert code_ == 0, err
    assert f"Report for drill {code}" in out and "Students: 1" in out
    table = list(csv.DictReader(io.StringIO((tmp_path / "r.csv").read_text(encoding="utf-8-sig"))))
    assert [(r["nickname"], r["correct"], r["confidence"]) for r in table] == [("Kit", "1", "sure")]
    assert Image.open(tmp_path / "r.png").size == (1600, 900)
    per_student = list(csv.DictReader(io.StringIO((tmp_path / "r-students.csv").read_text(encoding="utf-8-sig"))))
    assert [(r["nickname"], r["main_score_pct"]) for r in per_student] == [
        ("Kit", "20.0")
    ]  # 1 of the 5 questions answered
    returncode, _, missing_err = await run("ZZZZZZZZ")
    assert returncode == 1 and "no drill with the code ZZZZZZZZ" in missing_err
