"""Benchmark: the whole stack with real worker processes, SQLite or PostgreSQL, one or two workers.

Run: .venv/bin/python bench/bench_stack.py --database sqlite --workers 1 --users 10 100 1000
     TEST_DATABASE_URL=postgresql://... .venv/bin/python bench/bench_stack.py --database postgres --workers 2

Each worker is `python -m bot run --webhook` in its own process; the load generator (this process, which also hosts
the Bot API emulator the workers reply to) posts updates straight to the workers' webhook ports, people spread over
the workers by id, as a load balancer would. Every person takes a private quiz at once: /quiz, then per question an
option, a confidence level and Next, waiting for the bot's answer each time. The time of an update runs from the POST
to the worker's first API call about that person. Memory per live member is the workers' resident memory added
while everyone's quiz was open, divided by the number of people. AIORateLimiter is off (the emulator enforces no
send limit, so it would only measure the limiter).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import random
import socket
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.emulator import ApiCall, BotApiEmulator  # noqa: E402

TOKEN = "123456:BENCH-token-value"
SECRET = "bench-secret"
FAILED = "Something went wrong — please try again."  # the bot's answer when an update failed on the database
RETRIES = 5
# Seconds to wait for the reply to /quiz before sending it again: longer than the queue of 10,000 people starting at
# once (about 20 s), so only a command that failed on the database is sent twice.
QUIZ_PATIENCE = 90


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class Waiting(BotApiEmulator):
    """Resolves a person's waiter at the bot's first call about them, and again at the call that ends a step."""

    def __init__(self) -> None:
        super().__init__(token=TOKEN, bot_username="BenchBot")
        self.first: dict[int, asyncio.Future[float]] = {}
        self.last: dict[int, tuple[str, asyncio.Future[ApiCall]]] = {}
        self.query_owner: dict[str, int] = {}
        self.history: dict[int, list[str]] = {}  # the latest calls about each person, for a failure's message

    def _record(self, call: ApiCall) -> None:
        super()._record(call)
        owner = call.params.get("chat_id") or self.query_owner.pop(str(call.params.get("callback_query_id")), None)
        if owner is None:
            return
        owner = int(owner)
        said = str(call.params.get("text", ""))[:50]
        self.history.setdefault(owner, []).append(f"{call.method} ok={call.ok} {said!r}")
        del self.history[owner][:-12]
        first = self.first.pop(owner, None)
        if first is not None and not first.done():
            first.set_result(call.time)
        waiting = self.last.get(owner)
        if waiting is not None and waiting[0] == call.method and not waiting[1].done():
            del self.last[owner]
            waiting[1].set_result(call)


async def person(
    api: Waiting,
    http: aiohttp.ClientSession,
    ports: list[int],
    user_id: int,
    questions: int,
    delays: list[float],
    gate: asyncio.Semaphore,
    opened: asyncio.Event,
    ready: list[int],
    failures: list[int],
    think: float,
) -> None:
    user = api.make_user(user_id, f"U{user_id}")
    rng = random.Random(user_id)
    port = ports[user_id % len(ports)]
    loop = asyncio.get_running_loop()

    async def step(update: dict, closing: str) -> ApiCall:
        # Held here too: a late reply to an earlier try takes the entry out of `api.first`.
        first = api.first[user_id] = loop.create_future()
        done: asyncio.Future[ApiCall] = loop.create_future()
        api.last[user_id] = (closing, done)
        if "callback_query" in update:
            api.query_owner[update["callback_query"]["id"]] = user_id
        async with gate:
            started = time.monotonic()
            async with http.post(
                f"http://127.0.0.1:{port}/hook", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
            ) as reply:
                assert reply.status == 200, reply.status
            delays.append(await asyncio.wait_for(first, 120) - started)
            return await asyncio.wait_for(done, 120)

    async def press(shown: dict, data: str) -> None:
        """Press a button (after reading for `think` seconds, give or take half); pressed again when the bot says
        its database failed (it does not act then)."""
        if think:
            await asyncio.sleep(think * rng.uniform(0.5, 1.5))
        for _ in range(RETRIES):
            answered = await step(
                api.press_button(user, api.message(user_id, shown["message_id"]), data), "answerCallbackQuery"
            )
            if answered.params.get("text") != FAILED:
                return
            failures.append(user_id)
        raise RuntimeError(f"person {user_id}: the bot failed {RETRIES} times in a row")

    if think:  # people arrive over the first `think` seconds, not all in the same millisecond
        await asyncio.sleep(think * rng.random())
    for _ in range(RETRIES):
        try:
            message = (await asyncio.wait_for(step(api.send_text(user, "/quiz"), "sendMessage"), QUIZ_PATIENCE)).result
            break
        except TimeoutError:  # the command failed on the database: no reply comes
            failures.append(user_id)
    else:
        raise RuntimeError(f"person {user_id}: /quiz failed {RETRIES} times in a row")
    ready.append(user_id)
    await opened.wait()  # measure memory while every quiz is open

    def buttons(shown: dict) -> list[list[dict]]:
        if "reply_markup" not in shown:  # say what the bot did instead, rather than a bare KeyError
            calls = "\n  ".join(api.history.get(user_id, []))
            raise RuntimeError(f"person {user_id}: no buttons on message {shown['message_id']}; calls:\n  {calls}")
        return shown["reply_markup"]["inline_keyboard"]

    for _ in range(questions):
        await press(message, buttons(message)[0][0]["callback_data"])
        rating = api.message(user_id, message["message_id"])
        await press(rating, buttons(rating)[0][-1]["callback_data"])
        revealed = api.message(user_id, message["message_id"])
        await press(revealed, buttons(revealed)[0][0]["callback_data"])
        message = api.last_message(user_id)


@contextlib.contextmanager
def measuring() -> Iterator[None]:
    """No garbage collection in this process while it measures.

    Why: this process hosts the emulator (which keeps every call) and the clock; its own full collections took
    50-145 ms with 10,000 people, and every answer stored meanwhile was seen late, which put this process's pauses
    into the workers' p99. The bot's workers collect as they always do.
    """
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.unfreeze()


@contextlib.asynccontextmanager
async def started_workers(api: Waiting, database_url: str, workers: int, pin: bool, **extra: str):
    """`workers` processes of `python -m bot run --webhook`; yields them with their webhook ports.

    With `pin`, worker i runs on CPU i only and this process on the CPUs left over: "one core" means one core.
    """
    ports = [free_port() for _ in range(workers)]
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": api.base_url,
        "DATABASE_URL": database_url,
        "LOG_LEVEL": "WARNING",
        "TELEGRAM_RATE_LIMITER": "off",
        "WEBHOOK_URL": "https://bench.example.test/hook",
        "WEBHOOK_LISTEN": "127.0.0.1",
        "WEBHOOK_SECRET": SECRET,
        **extra,
    }
    cpus = sorted(os.sched_getaffinity(0))
    processes = []
    for index, port in enumerate(ports):
        core = {cpus[index % len(cpus)]}
        processes.append(
            await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                "run",
                "--webhook",
                "--env-file",
                "/nonexistent",
                cwd=ROOT,
                env={**env, "WEBHOOK_PORT": str(port), "PROJECTOR_PORT": "0"},  # each worker its own page port
                stdout=asyncio.subprocess.DEVNULL,
                preexec_fn=(lambda core=core: os.sched_setaffinity(0, core)) if pin else None,
            )
        )
    rest = set(cpus) - {cpus[i % len(cpus)] for i in range(workers)}
    if pin and rest:
        os.sched_setaffinity(0, rest)
    try:
        await api.wait_for("setWebhook", count=workers, timeout=60)
        await asyncio.sleep(0.5)
        yield processes, ports
    finally:
        os.sched_setaffinity(0, cpus)
        for process in processes:
            if process.returncode is None:  # a worker that failed to start is gone already (its error is above)
                process.terminate()
        for process in processes:
            await process.wait()


async def run(database_url: str, workers: int, users: int, questions: int, pin: bool, think: float) -> dict[str, float]:
    async with (
        Waiting() as api,
        started_workers(api, database_url, workers, pin, QUIZ_LENGTH=str(questions)) as (processes, ports),
    ):
        base_rss = sum(rss_kib(p.pid) for p in processes)
        gate = asyncio.Semaphore(200)  # open connections from the load generator at once
        opened = asyncio.Event()
        ready: list[int] = []
        delays: list[float] = []
        failures: list[int] = []
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=400)) as http:
            cpu_before = sum(cpu_seconds(p.pid) for p in processes)
            started = time.perf_counter()
            tasks = [
                asyncio.ensure_future(
                    person(api, http, ports, 100_000 + n, questions, delays, gate, opened, ready, failures, think)
                )
                for n in range(users)
            ]
            while len(ready) < users:
                await asyncio.sleep(0.05)
                if any(t.done() and t.exception() for t in tasks):
                    raise next(t.exception() for t in tasks if t.done() and t.exception())
            live_rss = sum(rss_kib(p.pid) for p in processes)
            with measuring():
                opened.set()
                await asyncio.gather(*tasks)
            elapsed = time.perf_counter() - started
            cpu_used = sum(cpu_seconds(p.pid) for p in processes) - cpu_before
    result = figures(delays, elapsed, cpu_used, workers, memory=max(0, live_rss - base_rss) / users)
    result["failed"] = len(failures)
    return result


def figures(delays: list[float], elapsed: float, cpu_used: float, workers: int, memory: float) -> dict[str, float]:
    ordered = sorted(delays)
    return {
        "updates": len(ordered),
        "rate": len(ordered) / elapsed,
        "p50": ordered[len(ordered) // 2] * 1000,
        "p99": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
        "memory": memory,
        "cpu": cpu_used / len(ordered) * 1000,
        "busy": cpu_used / elapsed / workers,
    }


class StoredAnswers:
    """Notes when each answer becomes visible in the database, by polling it (a poll answer gets no reply).

    Rows are asked for above a floor below which every id has been seen. Not simply above the highest id seen:
    with two workers on PostgreSQL, a row can commit after a row with a higher id (each transaction took its ids
    earlier), and would never be seen. A hole that stays open for a second is an id no row will have (a rollback).
    """

    HOLE_PATIENCE = 1.0

    def __init__(self, database_url: str) -> None:
        self.url = database_url
        self.seen: dict[int, float] = {}
        self._floor = 0
        self._above: set[int] = set()  # ids seen above the floor
        self._hole_since: float | None = None

    async def watch(self, expected: int) -> None:
        if self.url.startswith("sqlite:///"):
            db = sqlite3.connect(self.url.removeprefix("sqlite:///"))
            try:
                while len(self.seen) < expected:
                    self._note(db.execute("SELECT id, user_id FROM answers WHERE id > ?", (self._floor,)).fetchall())
                    await asyncio.sleep(0.002)
            finally:
                db.close()
            return
        import asyncpg

        db = await asyncpg.connect(self.url)
        try:
            while len(self.seen) < expected:
                self._note(await db.fetch("SELECT id, user_id FROM answers WHERE id > $1", self._floor))
                await asyncio.sleep(0.002)
        finally:
            await db.close()

    def _note(self, rows) -> None:
        now = time.monotonic()
        for answer_id, user_id in rows:
            self._above.add(answer_id)
            self.seen.setdefault(user_id, now)
        while self._above:
            if self._floor + 1 in self._above:
                self._floor += 1
                self._above.discard(self._floor)
                self._hole_since = None
            elif self._hole_since is None:
                self._hole_since = now
                break
            elif now - self._hole_since > self.HOLE_PATIENCE:
                self._floor += 1
                self._hole_since = None
            else:
                break


async def group_run(database_url: str, workers: int, members: int, groups: int, rate: float, pin: bool) -> dict:
    """Open loop: `members` people in `groups` groups answer one quiz poll each, `rate` answers a second in all."""
    async with (
        Waiting() as api,
        started_workers(api, database_url, workers, pin, GROUP_QUESTION_SECONDS="900", GROUP_LOBBY_SECONDS="900") as (
            processes,
            ports,
        ),
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=400)) as http,
    ):

        async def deliver(update: dict, port: int) -> None:
            async with http.post(
                f"http://127.0.0.1:{port}/hook", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
            ) as reply:
                assert reply.status == 200, reply.status

        polls: list[tuple[str, list[dict]]] = []
        per_group = members // groups
        for g in range(groups):
            chat_id = -(1_000_000 + g)
            people = [api.make_user(10_000_000 * (g + 1) + n, f"M{n}") for n in range(per_group)]
            starter = api.make_user(9_000_000 + g, "Starter")
            api.add_group(chat_id, f"G{g}", type="supergroup", admins=[starter], members=people)
            mark = api.mark()
            await deliver(api.send_text(starter, "/quiz 1", chat_id), ports[g % len(ports)])
            lobby = (await api.wait_for("sendMessage", since=mark, chat_id=chat_id, timeout=60)).result
            start = next(
                b["callback_data"] for b in lobby["reply_markup"]["inline_keyboard"][0] if b["callback_data"][0] == "b"
            )
            mark = api.mark()
            await deliver(api.press_button(starter, lobby, start), ports[g % len(ports)])
            poll = (await api.wait_for("sendPoll", since=mark, chat_id=chat_id, timeout=60)).result
            polls.append((poll["poll"]["id"], people))
        # Round-robin over the groups: answers to every poll interleave, as they would in real traffic.
        answers = [(poll_id, people[i]) for i in range(per_group) for poll_id, people in polls]
        with measuring():
            stored = StoredAnswers(database_url)
            watcher = asyncio.ensure_future(stored.watch(len(answers)))
            base_rss = sum(rss_kib(p.pid) for p in processes)
            cpu_before = sum(cpu_seconds(p.pid) for p in processes)
            posted: dict[int, float] = {}
            sending: list[asyncio.Task] = []
            began = time.monotonic()
            for index, (poll_id, person) in enumerate(answers):
                due = began + index / rate
                delay = due - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                update = api.answer_poll(person, poll_id, [0], poll_update=False)
                posted[person["id"]] = time.monotonic()
                sending.append(asyncio.ensure_future(deliver(update, ports[person["id"] % len(ports)])))
            await asyncio.gather(*sending)
            await asyncio.wait_for(watcher, 300)
            live_rss = sum(rss_kib(p.pid) for p in processes)
            cpu_used = sum(cpu_seconds(p.pid) for p in processes) - cpu_before
            elapsed = max(stored.seen.values()) - began
    delays = [stored.seen[user] - posted[user] for user in posted]
    result = figures(delays, elapsed, cpu_used, workers, memory=max(0, live_rss - base_rss) / len(answers))
    result["offered"] = len(answers) / (max(posted.values()) - began) if len(answers) > 1 else rate
    return result


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scene", choices=("private", "group"), default="private")
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--users", type=int, nargs="+", default=[10, 100, 1000], help="people at once")
    parser.add_argument("--questions", type=int, default=3, help="private scene: questions a person (at most 9)")
    parser.add_argument(
        "--think", type=float, default=0.0, help="private scene: seconds a person reads before each press (0: none)"
    )
    parser.add_argument("--groups", type=int, default=1, help="group scene: the people split over this many groups")
    parser.add_argument("--rate", type=float, default=1000.0, help="group scene: answers a second offered")
    parser.add_argument("--no-pin", dest="pin", action="store_false", help="do not pin worker i to CPU i")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if args.scene == "private":
        # Above 9 questions a person sends more than the per-person burst allowance (30) at machine speed.
        print(
            f"private, {args.database}, {args.workers} worker(s), {args.questions} questions: "
            "1 + 3 x questions updates a person"
            + (f", {args.think:g} s to read before each press" if args.think else ", at machine speed")
        )
    else:
        print(
            f"group, {args.database}, {args.workers} worker(s), {args.groups} group(s), "
            f"{args.rate:.0f} answers/s offered"
        )
    for users in args.users:
        results = []
        for _ in range(args.runs):
            with tempfile.TemporaryDirectory() as folder:
                if args.database == "sqlite":
                    url = f"sqlite:///{folder}/bench.db"
                else:
                    url = os.environ.get("TEST_DATABASE_URL") or sys.exit("set TEST_DATABASE_URL for PostgreSQL")
                    await reset_postgres(url)
                if args.scene == "private":
                    results.append(await run(url, args.workers, users, args.questions, args.pin, args.think))
                else:
                    results.append(await group_run(url, args.workers, users, args.groups, args.rate, args.pin))
        rate, p50, p99, memory, cpu, busy = (
            statistics.median(r[k] for r in results) for k in ("rate", "p50", "p99", "memory", "cpu", "busy")
        )
        runs = ", ".join(
            f"{r['rate']:.0f}/s p99 {r['p99']:.0f} ms" + (f" {r['failed']} failed" if r.get("failed") else "")
            for r in results
        )
        print(
            f"  {users:>6} people: {rate:7.1f} updates/s, p50 {p50:6.1f} ms, p99 {p99:7.1f} ms, "
            f"{memory:6.1f} KiB per live member, {cpu:.2f} ms worker CPU per update, workers {busy:.0%} busy"
            f"   (runs: {runs})"
        )


async def reset_postgres(url: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        await connection.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    finally:
        await connection.close()


if __name__ == "__main__":
    asyncio.run(main())
