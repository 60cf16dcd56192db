"""Benchmark: a classroom drill of 200 students answering at once, and building a 200 x 20 report.

Run: .venv/bin/python bench/bench_drill.py [--students 200] [--questions 20] [--runs 3]

1. Live drill through the local Bot API emulator: the class joins, the teacher starts, and every student presses
   an option and a confidence level at the same moment. The time to record an answer runs from the injection of
   the confidence press to the answer being stored. AIORateLimiter is off (capacity, not Telegram's limits).
2. Report: answers for every student to every question (a pre/post pair: 2 x students x questions answers) are
   stored, then the summary, the CSV and the chart are built; the time for all three is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config import load_settings  # noqa: E402
from bot.core.drill import DrillRound, DrillSpec  # noqa: E402
from bot.core.engine import AnswerRecord, Confidence, SessionId, UserId  # noqa: E402
from bot.core.lang import Lang  # noqa: E402
from bot.i18n import translator  # noqa: E402
from bot.i18n.report_chart import render_report_chart  # noqa: E402
from bot.i18n.report_text import chart_data, report_summary  # noqa: E402
from bot.services import QuizService  # noqa: E402
from bot.services.bank import open_bank  # noqa: E402
from bot.services.drill import DrillService  # noqa: E402
from bot.services.report_files import report_csv  # noqa: E402
from bot.storage.sqlite import SQLiteStorage  # noqa: E402
from bot.telegram.app import BotRuntime  # noqa: E402
from tests.emulator import BotApiEmulator  # noqa: E402

TOKEN = "123456:BENCH-token-value"
SETTINGS = load_settings({})
BANK = open_bank([SETTINGS.questions_path], SETTINGS.article_path)


def keyboard(message: dict) -> list[tuple[str, str]]:
    return [(b["text"], b["callback_data"]) for row in message["reply_markup"]["inline_keyboard"] for b in row]


async def live_answers(students: int) -> dict[str, float]:
    stored: dict[int, float] = {}
    original = DrillService.live_answer

    async def timed(service, user_id, drill_id, **kw):
        result = await original(service, user_id, drill_id, **kw)
        stored[user_id] = time.monotonic()
        return result

    DrillService.live_answer = timed  # type: ignore[method-assign]
    with tempfile.TemporaryDirectory() as folder:
        async with BotApiEmulator(token=TOKEN, bot_username="BenchBot") as api:
            env = {
                "TELEGRAM_BOT_TOKEN": TOKEN,
                "TELEGRAM_API_BASE_URL": api.base_url,
                "PROJECTOR_PORT": "0",  # a free port of its own: the page is served, as in a real run
                "LOG_LEVEL": "WARNING",
                "DATABASE_URL": f"sqlite:///{folder}/bench.db",
                "DRILL_MAX_STUDENTS": str(students),
            }
            runtime = BotRuntime(load_settings(env), BANK, rate_limit=False)
            await runtime.start(poll_timeout=1.0)
            svc = runtime.application.bot_data["services"]
            teacher = api.make_user(1, "Teacher")
            drill = await svc.drill.create(1, DrillSpec(count=5))
            control = await api.make_bot().send_message(1, "panel")  # a panel message the bot can edit
            await svc.drill.note_control_message(drill.id, control.message_id)
            kids = [api.make_user(10_000 + n, f"S{n}") for n in range(students)]
            mark = api.mark()
            for kid in kids:
                api.send_text(kid, f"/join {drill.code}")
            await api.wait_for(
                "sendMessage", lambda c: "nickname" in c.params["text"], since=mark, count=students, timeout=120
            )
            mark = api.mark()
            for n, kid in enumerate(kids):
                api.send_text(kid, f"Kid {n}")
            await api.wait_for(
                "sendMessage", lambda c: "Thanks" in c.params["text"], since=mark, count=students, timeout=120
            )
            mark = api.mark()
            api.inject(
                {
                    "callback_query": {
                        "id": "start",
                        "from": teacher,
                        "chat_instance": "1",
                        "data": f"D:{drill.id}:n",
                        "message": {"message_id": control.message_id, "date": 1, "chat": {"id": 1, "type": "private"}},
                    }
                }
            )
            questions = await api.wait_for(
                "sendMessage", lambda c: c.params["chat_id"] >= 10_000, since=mark, count=students, timeout=120
            )
            for call in questions:
                kid = next(k for k in kids if k["id"] == call.params["chat_id"])
                api.press_button(kid, call.result, keyboard(call.result)[0][1])
            mark = api.mark()
            await api.wait_for("answerCallbackQuery", since=mark - 1, count=students, timeout=120)
            await asyncio.sleep(0.5)
            sent: dict[int, float] = {}
            started = time.perf_counter()
            for call in questions:
                kid = next(k for k in kids if k["id"] == call.params["chat_id"])
                rating = api.message(kid["id"], call.result["message_id"])
                sure = next(d for t, d in keyboard(rating) if d.endswith(":s"))
                sent[kid["id"]] = time.monotonic()
                api.press_button(kid, rating, sure)
            while len(stored) < students and time.perf_counter() - started < 120:  # noqa: ASYNC110 - counts
                await asyncio.sleep(0.05)
            elapsed = time.perf_counter() - started
            await runtime.stop()
    DrillService.live_answer = original  # type: ignore[method-assign]
    delays = sorted(stored[u] - sent[u] for u in sent if u in stored)
    return {
        "recorded": len(delays),
        "elapsed": elapsed,
        "p50": delays[len(delays) // 2] * 1000,
        "p99": delays[min(len(delays) - 1, int(len(delays) * 0.99))] * 1000,
    }


async def report_time(students: int, questions: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        storage = await SQLiteStorage.open(f"{folder}/report.db")
        drills = DrillService(BANK, storage, QuizService(BANK, storage), max_students=students)
        drill = await drills.create(1, DrillSpec(count=questions, pair=True))
        rng = random.Random(5)
        for user in range(students):
            await storage.add_student(drill.id, 100 + user, 0, limit=students)
            await storage.set_nickname(drill.id, 100 + user, f"Student {user}")
            for round_ in (DrillRound.PRE, DrillRound.POST):
                key = f"{drill.id}.{round_.value}"
                await storage.link_session(drill.id, round_, 100 + user, key)
                for position, item in enumerate(drill.items):
                    question = BANK.get(item.question_id)
                    await storage.record_answer(
                        AnswerRecord(
                            session_id=SessionId(key),
                            user_id=UserId(100 + user),
                            question_id=question.id,
                            topic=question.topic,
                            position=position,
                            chosen=rng.randrange(len(question.options)),
                            correct=rng.random() < (0.5 if round_ is DrillRound.PRE else 0.8),
                            confidence=rng.choice(list(Confidence)),
                            elapsed_ms=1000,
                            answered_at=1e9,
                            context="drill",
                        )
                    )
        started = time.perf_counter()
        full = await drills.report(drill)
        report, answers = full.report, full.answers
        summary = report_summary(report, BANK, translator(), Lang.EN)
        table = report_csv(report, answers, BANK)
        chart = render_report_chart(chart_data(report, BANK, Lang.EN), translator(), Lang.EN).png
        elapsed = time.perf_counter() - started
        await storage.close()
    return {"elapsed": elapsed, "answers": len(answers), "csv": len(table), "png": len(chart), "summary": len(summary)}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--questions", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    lives, reports = [], []
    for run in range(1, args.runs + 1):
        live = await live_answers(args.students)
        lives.append(live)
        print(
            f"run {run}: {args.students} students answer at once: {int(live['recorded'])} recorded in "
            f"{live['elapsed']:.2f} s, p50 {live['p50']:.1f} ms, p99 {live['p99']:.1f} ms"
        )
        rep = await report_time(args.students, args.questions)
        reports.append(rep)
        print(
            f"run {run}: report for {args.students} students x {args.questions} questions (pre + post, "
            f"{int(rep['answers'])} answers): {rep['elapsed'] * 1000:.0f} ms (CSV {int(rep['csv']) // 1024} KiB, "
            f"PNG {int(rep['png']) // 1024} KiB)"
        )
    print(
        f"median: p99 time to record an answer {statistics.median(r['p99'] for r in lives):.1f} ms; "
        f"report {statistics.median(r['elapsed'] for r in reports) * 1000:.0f} ms"
    )


if __name__ == "__main__":
    asyncio.run(main())
