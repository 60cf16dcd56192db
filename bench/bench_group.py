"""Benchmark: group quizzes under load, through the local Bot API emulator.

Run: .venv/bin/python bench/bench_group.py [--members 1000] [--groups 100] [--per-group 10] [--questions 3] [--runs 3]

Two scenes: one group whose members all answer each question at once, and many groups playing at the same time.
Every answer is a `poll_answer` update injected into the emulator; the time to score it runs from the injection
to the moment the bot has stored it. It prints updates handled per second, the p50/p99 time to score an answer,
and the Python memory the live sessions take per member (tracemalloc, peak over the baseline). Group pacing is
shortened and AIORateLimiter is off: this measures the bot's own capacity, not Telegram's send limits.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config import load_settings  # noqa: E402
from bot.services.bank import open_bank  # noqa: E402
from bot.services.group import GroupService  # noqa: E402
from bot.telegram.app import BotRuntime  # noqa: E402
from tests.emulator import BotApiEmulator  # noqa: E402

TOKEN = "123456:BENCH-token-value"


class FastEmulator(BotApiEmulator):
    """Resolves waiters as calls are recorded: the emulator's own wait_for rescans every call, which with a
    hundred groups waiting at once would make the harness, not the bot, the thing measured."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.waiters: dict[tuple[str, int], list[asyncio.Future]] = {}

    def _record(self, call) -> None:
        super()._record(call)
        chat = call.params.get("chat_id")
        if chat is None or not call.ok:
            return
        kind = call.method
        if kind == "sendMessage" and "Final results" in str(call.params.get("text", "")):
            kind = "final"
        for future in self.waiters.pop((kind, int(chat)), []):
            if not future.done():
                future.set_result(call)

    async def next_call(self, kind: str, chat_id: int, timeout: float = 180):  # noqa: ASYNC109
        future = asyncio.get_running_loop().create_future()
        self.waiters.setdefault((kind, chat_id), []).append(future)
        return await asyncio.wait_for(future, timeout)


class Scored:
    """Wraps GroupService.answer to note when each member's answer to each question is stored."""

    def __init__(self) -> None:
        self.done: dict[tuple[int, int], float] = {}
        self.events: dict[tuple[int, int], asyncio.Event] = {}
        original = GroupService.answer

        async def answer(service, session_id, *, position, user_id, name, shown):
            ack = await original(service, session_id, position=position, user_id=user_id, name=name, shown=shown)
            self.done[(user_id, position)] = time.monotonic()
            return ack

        GroupService.answer = answer  # type: ignore[method-assign]


async def play(
    api: FastEmulator, chat_id: int, members: list[dict], questions: int, sent: dict, scored: Scored
) -> None:
    starter = members[0]
    waiting = asyncio.ensure_future(api.next_call("sendMessage", chat_id))
    await asyncio.sleep(0)
    api.send_text(starter, "/quiz " + str(questions), chat_id)
    lobby = (await waiting).result
    start = next(
        b["callback_data"] for b in lobby["reply_markup"]["inline_keyboard"][0] if b["callback_data"][0] == "b"
    )
    finished = asyncio.ensure_future(api.next_call("final", chat_id))
    for position in range(questions):
        waiting = asyncio.ensure_future(api.next_call("sendPoll", chat_id))
        await asyncio.sleep(0)
        if position == 0:
            api.press_button(starter, lobby, start)
        poll = (await waiting).result
        correct = poll["poll"]["correct_option_ids"][0]
        for index, member in enumerate(members):
            sent[(member["id"], position)] = time.monotonic()
            api.answer_poll(member, poll["poll"]["id"], [correct if index % 3 else 0], poll_update=False)
    await finished


async def scene(groups: int, per_group: int, questions: int) -> dict[str, float]:
    settings = load_settings({})
    bank = open_bank([settings.questions_path], settings.article_path)
    scored = Scored()
    sent: dict[tuple[int, int], float] = {}
    with tempfile.TemporaryDirectory() as folder:
        async with FastEmulator(token=TOKEN, bot_username="BenchBot") as api:
            all_members = []
            for g in range(groups):
                members = [api.make_user(100_000 * (g + 1) + n, f"M{n}") for n in range(per_group)]
                api.add_group(-(1000 + g), f"G{g}", type="supergroup", admins=[members[0]], members=members[1:])
                all_members.append(members)
            runtime = BotRuntime(
                load_settings(
                    {
                        "TELEGRAM_BOT_TOKEN": TOKEN,
                        "TELEGRAM_API_BASE_URL": api.base_url,
                        "PROJECTOR_PORT": "0",  # a free port of its own: the page is served, as in a real run
                        "DATABASE_URL": f"sqlite:///{folder}/bench.db",
                        "LOG_LEVEL": "WARNING",
                        "GROUP_LOBBY_SECONDS": "600",
                        "GROUP_QUESTION_SECONDS": "120",
                        "GROUP_REVEAL_SECONDS": "0.1",
                        "GROUP_MIN_CYCLE_SECONDS": "0.1",
                    }
                ),
                bank,
                rate_limit=False,
            )
            await runtime.start(poll_timeout=1.0)
            tracemalloc.start()
            baseline = tracemalloc.get_traced_memory()[0]
            started = time.perf_counter()
            await asyncio.gather(
                *(play(api, -(1000 + g), all_members[g], questions, sent, scored) for g in range(groups))
            )
            elapsed = time.perf_counter() - started
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            await runtime.stop()
    delays = sorted(scored.done[key] - sent[key] for key in sent if key in scored.done)
    members = groups * per_group
    return {
        "answers": len(delays),
        "expected": len(sent),
        "rate": len(delays) / elapsed,
        "p50": delays[len(delays) // 2] * 1000,
        "p99": delays[min(len(delays) - 1, int(len(delays) * 0.99))] * 1000,
        "memory": (peak - baseline) / members,
        "elapsed": elapsed,
    }


def show(name: str, result: dict[str, float]) -> None:
    print(
        f"  {name:<26} {int(result['answers']):>6}/{int(result['expected'])} answers in {result['elapsed']:6.2f} s"
        f" = {result['rate']:7.1f} updates/s   score p50 {result['p50']:7.1f} ms   p99 {result['p99']:7.1f} ms"
        f"   {result['memory'] / 1024:6.1f} KiB per live member"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--groups", type=int, default=100)
    parser.add_argument("--per-group", type=int, default=10)
    parser.add_argument("--questions", type=int, default=3)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    big, many = [], []
    for run in range(1, args.runs + 1):
        print(f"run {run}:")
        big.append(await scene(1, args.members, args.questions))
        show(f"1 group x {args.members} members", big[-1])
        many.append(await scene(args.groups, args.per_group, args.questions))
        show(f"{args.groups} groups x {args.per_group} members", many[-1])
    for name, results in ((f"1 group x {args.members}", big), (f"{args.groups} groups x {args.per_group}", many)):
        print(
            f"median {name}: {statistics.median(r['rate'] for r in results):.1f} updates/s, "
            f"p99 {statistics.median(r['p99'] for r in results):.1f} ms, "
            f"{statistics.median(r['memory'] for r in results) / 1024:.1f} KiB per live member"
        )


if __name__ == "__main__":
    asyncio.run(main())
