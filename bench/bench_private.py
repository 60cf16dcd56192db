"""Benchmark: N people take whole private quizzes through the local Bot API emulator, beside an echo bot.

Run: .venv/bin/python bench/bench_private.py [--users 50] [--questions 5] [--runs 3]

Each simulated person sends /quiz, then for every question presses an option, a confidence level and Next,
waiting for the bot's answer each time, all people at once. Per update it records the time from injection to
the bot's first API call about it. A bare python-telegram-bot echo bot gets the same number of updates from
the same number of people through the same emulator in the same run; the ratio of the two is the figure that
holds on a noisy machine. AIORateLimiter is off for the capacity runs (the emulator does not enforce Telegram's
30 messages a second, which would otherwise be the only thing measured); one run with it on is printed too.
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

from telegram import Update  # noqa: E402
from telegram.ext import CallbackQueryHandler, ContextTypes, MessageHandler, filters  # noqa: E402

from bot.config import load_settings  # noqa: E402
from bot.services.bank import open_bank  # noqa: E402
from bot.telegram.app import BotRuntime  # noqa: E402
from tests.emulator import ApiCall, BotApiEmulator  # noqa: E402

TOKEN = "123456:BENCH-token-value"


class TimedEmulator(BotApiEmulator):
    """Resolves a waiter the moment the bot makes an API call about a person: no polling of the call list."""

    def __init__(self) -> None:
        super().__init__(token=TOKEN, bot_username="BenchBot")
        self.first: dict[int, asyncio.Future[float]] = {}
        self.done: dict[int, tuple[str, asyncio.Future[ApiCall]]] = {}
        self.query_owner: dict[str, int] = {}

    def _record(self, call: ApiCall) -> None:
        super()._record(call)
        if call.method == "getUpdates":
            return
        owner = call.params.get("chat_id")
        if owner is None:
            owner = self.query_owner.pop(str(call.params.get("callback_query_id")), None)
        if owner is None:
            return
        owner = int(owner)
        first = self.first.pop(owner, None)
        if first is not None and not first.done():
            first.set_result(call.time)
        waiting = self.done.get(owner)
        if waiting is not None and waiting[0] == call.method and not waiting[1].done():
            del self.done[owner]
            waiting[1].set_result(call)

    async def step(self, user_id: int, inject, final_method: str) -> tuple[float, ApiCall]:
        """Inject one update; return the delay to the bot's first call about it and the closing call."""
        loop = asyncio.get_running_loop()
        self.first[user_id] = loop.create_future()
        finished: asyncio.Future[ApiCall] = loop.create_future()
        self.done[user_id] = (final_method, finished)
        started = time.monotonic()
        update = inject()
        if "callback_query" in update:
            self.query_owner[update["callback_query"]["id"]] = user_id
        first_at = await asyncio.wait_for(self.first[user_id], 30)
        return first_at - started, await asyncio.wait_for(finished, 30)


def keyboard(message: dict) -> list[str]:
    return [b["callback_data"] for row in message.get("reply_markup", {}).get("inline_keyboard", []) for b in row]


async def quiz_taker(api: TimedEmulator, user_id: int, questions: int, latencies: list[float]) -> int:
    user = api.make_user(user_id, f"P{user_id}", language_code="en")
    rng = random.Random(user_id)
    delay, call = await api.step(user_id, lambda: api.send_text(user, "/quiz"), "sendMessage")
    latencies.append(delay)
    message, updates = call.result, 1
    for _ in range(questions):
        options = keyboard(message)
        delay, _ = await api.step(
            user_id, lambda m=message, o=options: api.press_button(user, m, rng.choice(o)), "answerCallbackQuery"
        )
        latencies.append(delay)
        rating = api.message(user_id, message["message_id"])
        sure = next(d for d in keyboard(rating) if d.endswith(":s"))
        delay, _ = await api.step(user_id, lambda m=rating, d=sure: api.press_button(user, m, d), "answerCallbackQuery")
        latencies.append(delay)
        revealed = api.message(user_id, message["message_id"])
        [next_button] = keyboard(revealed)
        # The bot sends the next question, then answers the press: wait for the answer, the last call.
        delay, _ = await api.step(
            user_id, lambda m=revealed, d=next_button: api.press_button(user, m, d), "answerCallbackQuery"
        )
        latencies.append(delay)
        message = api.last_message(user_id)
        updates += 3
    return updates


async def echo_taker(api: TimedEmulator, user_id: int, updates: int, latencies: list[float]) -> int:
    user = api.make_user(user_id, f"E{user_id}", language_code="en")
    for n in range(updates):
        delay, _ = await api.step(user_id, lambda n=n: api.send_text(user, f"echo {n}"), "sendMessage")
        latencies.append(delay)
    return updates


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Echo a text message."""
    await update.effective_message.reply_text(update.effective_message.text)


async def answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer a button press."""
    await update.callback_query.answer()


def summary(name: str, updates: int, elapsed: float, latencies: list[float]) -> dict[str, float]:
    ordered = sorted(latencies)
    p50 = ordered[len(ordered) // 2] * 1000
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
    rate = updates / elapsed
    print(
        f"  {name:<28} {updates:>6} updates in {elapsed:6.2f} s = {rate:7.1f} updates/s"
        f"   p50 {p50:6.1f} ms   p99 {p99:6.1f} ms"
    )
    return {"rate": rate, "p50": p50, "p99": p99}


async def run_quiz_bot(users: int, questions: int, *, rate_limit: bool) -> tuple[int, float, list[float]]:
    settings = load_settings({})
    bank = open_bank([settings.questions_path], settings.article_path)
    with tempfile.TemporaryDirectory() as folder:
        async with TimedEmulator() as api:
            runtime = BotRuntime(
                load_settings(
                    {
                        "TELEGRAM_BOT_TOKEN": TOKEN,
                        "TELEGRAM_API_BASE_URL": api.base_url,
                        "PROJECTOR_PORT": "0",  # a free port of its own: the page is served, as in a real run
                        "DATABASE_URL": f"sqlite:///{folder}/bench.db",
                        "QUIZ_LENGTH": str(questions),
                        "LOG_LEVEL": "WARNING",
                    }
                ),
                bank,
                rng=random.Random(1),
                rate_limit=rate_limit,
            )
            await runtime.start(poll_timeout=1.0)
            latencies: list[float] = []
            start = time.perf_counter()
            counts = await asyncio.gather(*(quiz_taker(api, 1000 + n, questions, latencies) for n in range(users)))
            elapsed = time.perf_counter() - start
            await runtime.stop()
    return sum(counts), elapsed, latencies


async def run_echo_bot(users: int, per_user: int) -> tuple[int, float, list[float]]:
    async with TimedEmulator() as api:
        application = api.application_builder().concurrent_updates(True).build()
        application.add_handler(MessageHandler(filters.TEXT, echo))
        application.add_handler(CallbackQueryHandler(answer))
        async with application:
            await application.start()
            await application.updater.start_polling(poll_interval=0.0, timeout=1)
            latencies: list[float] = []
            start = time.perf_counter()
            counts = await asyncio.gather(*(echo_taker(api, 5000 + n, per_user, latencies) for n in range(users)))
            elapsed = time.perf_counter() - start
            await application.updater.stop()
            await application.stop()
    return sum(counts), elapsed, latencies


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--questions", type=int, default=5)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    per_user = 1 + 3 * args.questions
    print(f"{args.users} people at once, {args.questions} questions each ({per_user} updates per person)")
    ratios = []
    for run in range(1, args.runs + 1):
        print(f"run {run}:")
        quiz = summary("quiz bot (no rate limiter)", *await run_quiz_bot(args.users, args.questions, rate_limit=False))
        plain = summary("echo bot", *await run_echo_bot(args.users, per_user))
        ratios.append((quiz["rate"] / plain["rate"], quiz["p50"] / plain["p50"], quiz["p99"] / plain["p99"]))
    throughput, p50, p99 = (statistics.median(r[i] for r in ratios) for i in range(3))
    print(
        f"median over {args.runs} runs: quiz bot / echo bot = "
        f"{throughput:.2f}x throughput, {p50:.2f}x p50, {p99:.2f}x p99"
    )
    print("with AIORateLimiter on (Telegram's 30 messages/s overall is the ceiling):")
    summary("quiz bot (rate limiter)", *await run_quiz_bot(args.users, args.questions, rate_limit=True))


if __name__ == "__main__":
    asyncio.run(main())
