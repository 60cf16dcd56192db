"""Benchmark: projectors polling a drill's projector page, beside a bare aiohttp server returning a fixed body.

Run: .venv/bin/python bench/bench_projector.py [--students 200] [--questions 10] [--projectors 100] [--polls 20]
     [--rounds 5] [--question 1] [--runs 3] [--profile]

A real BotRuntime (Bot API emulator, a temporary SQLite database, PROJECTOR_PORT=0, LOG_LEVEL=WARNING,
AIORateLimiter off) holds a live drill of `--questions` questions for `--students` students, built through the
services: they join and choose nicknames, the teacher opens a question, every student answers it, and the
teacher reveals it (with `--question N`, questions 1 to N-1 are answered and revealed first). The projector's
screen is then the heaviest one: the split of every student's answer. `--projectors` simulated projectors each
send `--polls` requests to `.../state` back to back, all at once, in two kinds:

- changed: no `key`, so every reply carries the whole screen's HTML (what a projector gets when the drill moves);
- unchanged: the current key, so every reply is only `{key, remaining}` (what it gets every other second).

The server holds each client address to 10 requests a second with bursts of 30, and trusts X-Real-IP from
127.0.0.1 (the proxy of docs/deploy.md). Each simulated projector sends its own X-Real-IP, a fresh one for every
round of every kind, and sends 1 + `--polls` requests (the first opens its connection and is not timed), which
stays within its burst of 30: no poll should be refused. Any reply other than 200 (a 429) is counted and printed.
A real projector polls once a second, far below its bucket; back-to-back polls measure capacity.

Baseline, in the same run on the same machine: a bare aiohttp server (one route, no middleware) returning a fixed
JSON body of the same size as the projector's reply of that kind (a copy of one), polled by the same client with
the same concurrency. Machines differ 2-3x from day to day; the ratio projector / baseline is the figure that holds.
The kinds and the baseline alternate `--rounds` times per run, and each figure pools its rounds. The load
generator is a separate process (one aiohttp client session), so its work is not counted in the servers' event
loop; both servers live in this process, which also runs the bot (idle). "Server CPU" is this process's CPU time
per request; "client CPU" is the load generator's share of one core (at 100% the client is what limits the rate).
"Builds" counts the views the projector service built from the database, against the polls it answered.

Also timed in-process, each the median of 200 calls: `ProjectorService.view()` through its public path with its
cache defeated (the service's monotonic clock, its own seam, is moved past FRESH_SECONDS before each call, so every
call reads the database and builds the view), the same call while the cache is fresh (what most polls pay), and
rendering the screen's HTML. `--profile` prints a cProfile of the cache-defeated calls.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import multiprocessing
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config import load_settings  # noqa: E402
from bot.core.drill import Drill, DrillSpec  # noqa: E402
from bot.core.engine import Confidence  # noqa: E402
from bot.core.lang import Lang  # noqa: E402
from bot.core.model import QuestionBank  # noqa: E402
from bot.i18n import translator  # noqa: E402
from bot.services.bank import open_bank  # noqa: E402
from bot.services.projector import FRESH_SECONDS, ProjectorService, ProjectorView  # noqa: E402
from bot.telegram.app import BotRuntime  # noqa: E402
from bot.web.page import ProjectorPage  # noqa: E402
from tests.emulator import BotApiEmulator  # noqa: E402

TOKEN = "123456:BENCH-token-value"
TEACHER = 1
BURST = 30  # the server's RateLimit(rate=10.0, burst=30.0) per client address
VIEW_CALLS = 200
KINDS = ("changed", "unchanged", "base changed", "base unchanged")


# ---------------------------------------------------------------- the load generator (a process of its own)


async def _poll(url: str, key: str | None, projectors: int, polls: int, subnet: int) -> dict:
    params = {"key": key} if key is not None else {}
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    sizes: set[int] = set()
    ready = asyncio.Event()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:

        async def get(headers: dict[str, str]) -> tuple[int, bytes]:
            async with session.get(url, params=params, headers=headers) as reply:
                return reply.status, await reply.read()

        async def projector(n: int) -> None:
            headers = {"X-Real-IP": f"10.{subnet}.{n // 250}.{n % 250 + 1}"}
            await get(headers)  # opens this projector's connection: not timed, but one of its burst
            await ready.wait()
            for _ in range(polls):
                sent = time.perf_counter()
                status, body = await get(headers)
                latencies.append(time.perf_counter() - sent)
                statuses[status] += 1
                sizes.add(len(body))

        tasks = [asyncio.create_task(projector(n)) for n in range(projectors)]
        await asyncio.sleep(0.3)  # every connection open
        cpu = time.process_time()
        started = time.perf_counter()
        ready.set()
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu
    return {"latencies": latencies, "elapsed": elapsed, "client_cpu": cpu, "statuses": statuses, "size": max(sizes)}


def poll(url: str, key: str | None, projectors: int, polls: int, subnet: int) -> dict:
    """`projectors` clients, each with its own X-Real-IP (10.<subnet>.x.y), each sending `polls` GETs back to back
    after one that opens its connection."""
    return asyncio.run(_poll(url, key, projectors, polls, subnet))


# ---------------------------------------------------------------- the drill and the servers


async def build_drill(runtime: BotRuntime, students: int, questions: int, revealed: int) -> str:
    """A live drill whose question `revealed` (1-based) every student answered and the teacher revealed (and every
    one before it); returns the path of its projector state."""
    svc = runtime.services
    assert svc is not None
    rng = random.Random(16)
    drill = await svc.drill.create(TEACHER, DrillSpec(lang=Lang.EN, count=questions))
    assert drill is not None and drill.projector_token is not None
    for n in range(students):
        joined = await svc.drill.join(10_000 + n, drill.code)
        await svc.drill.name_student(joined.student, f"Kid {n}", ask_confidence=True)
    for _ in range(revealed):
        opened = (await svc.drill.live_next(TEACHER, drill.id)).drill
        options = len(opened.items[opened.position].order)
        for n in range(students):
            answer = await svc.drill.live_answer(
                10_000 + n,
                drill.id,
                round_=opened.round,
                position=opened.position,
                shown=rng.randrange(options),
                confidence=rng.choice(list(Confidence)),
            )
            assert answer.recorded
        reveal = await svc.drill.live_reveal(drill.id, teacher_id=TEACHER)
        assert len(reveal.answers) == students
    return f"/projector/{drill.id}/{drill.projector_token}/state"


async def baseline_server(bodies: dict[str, bytes]) -> tuple[web.AppRunner, int]:
    """A bare aiohttp server: one route, a fixed JSON body per kind, no middleware."""

    async def fixed(request: web.Request) -> web.Response:
        return web.Response(body=bodies[request.match_info["kind"]], content_type="application/json")

    app = web.Application()
    app.router.add_get("/{kind}", fixed)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner, int(runner.addresses[0][1])


class Builds:
    """Counts the views the service builds from the database (wraps the instance's `_build`)."""

    def __init__(self, service: ProjectorService) -> None:
        self.count = 0
        build = service._build

        async def counted(drill: Drill) -> ProjectorView:
            self.count += 1
            return await build(drill)

        service._build = counted  # type: ignore[method-assign]


async def timed_view(service: ProjectorService, bank: QuestionBank, drill_id: str, token: str) -> dict[str, float]:
    """view() with the cache defeated and fresh, and the screen's HTML: medians of VIEW_CALLS calls, in ms."""
    real = service._monotonic  # the service's own clock seam
    shift = 0.0
    service._monotonic = lambda: real() + shift
    cold, warm, render = [], [], []
    try:
        for _ in range(VIEW_CALLS):
            shift += 2 * FRESH_SECONDS  # past FRESH_SECONDS: this call reads the database and builds the view
            started = time.perf_counter()
            view = await service.view(drill_id, token)
            cold.append(time.perf_counter() - started)
        assert view is not None
        frozen = real() + shift
        service._monotonic = lambda: frozen  # the cache stays fresh: each call reads only the drill's own row
        for _ in range(VIEW_CALLS):
            started = time.perf_counter()
            await service.view(drill_id, token)
            warm.append(time.perf_counter() - started)
    finally:
        service._monotonic = real
    page = ProjectorPage(translator(), bank)
    for _ in range(VIEW_CALLS):
        started = time.perf_counter()
        page.screen(view, join_link="https://t.me/BenchBot?start=ABCD1234")
        render.append(time.perf_counter() - started)
    return {name: statistics.median(times) * 1000 for name, times in (("cold", cold), ("warm", warm), ("html", render))}


async def profile_view(service: ProjectorService, bank: QuestionBank, drill_id: str, token: str) -> None:
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    await timed_view(service, bank, drill_id, token)
    profiler.disable()
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)


async def one_run(args: argparse.Namespace, clients: ProcessPoolExecutor, bank: QuestionBank) -> dict:
    loop = asyncio.get_running_loop()
    with tempfile.TemporaryDirectory() as folder:
        async with BotApiEmulator(token=TOKEN, bot_username="BenchBot") as api:
            env = {
                "TELEGRAM_BOT_TOKEN": TOKEN,
                "TELEGRAM_API_BASE_URL": api.base_url,
                "PROJECTOR_PORT": "0",  # a free port of its own
                "LOG_LEVEL": "WARNING",
                "DATABASE_URL": f"sqlite:///{folder}/bench.db",
                "DRILL_MAX_STUDENTS": str(args.students),
            }
            # A seeded rng: the same questions, so the same reply sizes, in every run.
            runtime = BotRuntime(load_settings(env), bank, rate_limit=False, rng=random.Random(16))
            await runtime.start(poll_timeout=1.0)
            try:
                assert runtime.services is not None and runtime.projector is not None
                service = runtime.services.projector
                path = await build_drill(runtime, args.students, args.questions, args.question)
                url = f"http://127.0.0.1:{runtime.projector.port}{path}"
                async with aiohttp.ClientSession() as session:
                    async with session.get(url) as reply:
                        assert reply.status == 200, reply.status
                        changed_body = await reply.read()
                    key = json.loads(changed_body)["key"]
                    async with session.get(url, params={"key": key}) as reply:
                        unchanged_body = await reply.read()
                assert "html" in json.loads(changed_body) and "html" not in json.loads(unchanged_body)
                runner, port = await baseline_server({"changed": changed_body, "unchanged": unchanged_body})
                targets = {
                    "changed": (url, None),
                    "unchanged": (url, key),
                    "base changed": (f"http://127.0.0.1:{port}/changed", None),
                    "base unchanged": (f"http://127.0.0.1:{port}/unchanged", None),
                }
                pooled = {
                    kind: {"latencies": [], "elapsed": 0.0, "client_cpu": 0.0, "statuses": Counter(), "server_cpu": 0.0}
                    for kind in KINDS
                }
                builds = Builds(service)
                subnet = 0
                try:
                    for _ in range(args.rounds):
                        for kind in KINDS:
                            subnet += 1  # fresh client addresses: each projector's bucket starts full
                            before, cpu = builds.count, time.process_time()
                            target, sent_key = targets[kind]
                            r = await loop.run_in_executor(
                                clients, poll, target, sent_key, args.projectors, args.polls, subnet
                            )
                            into = pooled[kind]
                            into["server_cpu"] += time.process_time() - cpu
                            into["builds"] = into.get("builds", 0) + builds.count - before
                            into["size"] = r["size"]
                            into["latencies"] += r["latencies"]
                            into["statuses"] += r["statuses"]
                            into["elapsed"] += r["elapsed"]
                            into["client_cpu"] += r["client_cpu"]
                finally:
                    await runner.cleanup()
                result = {
                    kind: summary(pooled[kind], args.projectors * (args.polls + 1) * args.rounds) for kind in KINDS
                }
                drill_id, token = path.split("/")[2:4]
                result["view"] = await timed_view(service, bank, drill_id, token)
                if args.profile:
                    await profile_view(service, bank, drill_id, token)
            finally:
                await runtime.stop()
    return result


def summary(pooled: dict, requests: int) -> dict:
    latencies = sorted(pooled["latencies"])
    return {
        "rate": len(latencies) / pooled["elapsed"],
        "p50": latencies[len(latencies) // 2] * 1000,
        "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
        "size": pooled["size"],
        "statuses": dict(pooled["statuses"]),
        "server_cpu": pooled["server_cpu"] / requests * 1000,
        "client_cpu": pooled["client_cpu"] / pooled["elapsed"],
        "builds": pooled.get("builds", 0),
        "polls": len(latencies),
    }


def line(name: str, r: dict) -> str:
    refused = {status: n for status, n in r["statuses"].items() if status != 200}
    builds = f", {r['builds']} builds" if not name.startswith("base") else ""
    return (
        f"{name}: {r['rate']:.0f} polls/s, p50 {r['p50']:.1f} ms, p99 {r['p99']:.1f} ms, reply {r['size']} B, "
        f"server CPU {r['server_cpu']:.3f} ms/poll, client CPU {r['client_cpu'] * 100:.0f}%{builds}"
        + (f", NOT 200: {refused}" if refused else f", all {r['polls']} 200")
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--questions", type=int, default=10)
    parser.add_argument("--question", type=int, default=1, help="the question revealed (the earlier ones are too)")
    parser.add_argument("--projectors", type=int, default=100)
    parser.add_argument("--polls", type=int, default=20, help=f"per projector, back to back (its burst is {BURST})")
    parser.add_argument("--rounds", type=int, default=5, help="of each kind and the baseline, alternating")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the cache-defeated view() calls")
    args = parser.parse_args()
    if args.polls + 1 > BURST:
        parser.error(f"--polls must be below a client's burst of {BURST} (one more request opens the connection)")
    if not 1 <= args.question <= args.questions:
        parser.error("--question must be one of the drill's questions")
    logging.basicConfig(level=logging.WARNING)
    settings = load_settings({})
    bank = open_bank([settings.questions_path], settings.article_path)
    runs = []
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as clients:
        await asyncio.get_running_loop().run_in_executor(clients, time.sleep, 0)  # the process is up
        for run in range(1, args.runs + 1):
            started = time.perf_counter()
            r = await one_run(args, clients, bank)
            runs.append(r)
            print(f"run {run} ({time.perf_counter() - started:.0f} s):")
            for kind in KINDS:
                print("  " + line(kind, r[kind]))
            for kind in ("changed", "unchanged"):
                p, b = r[kind], r[f"base {kind}"]
                print(
                    f"  ratio projector / baseline, {kind}: throughput {p['rate'] / b['rate']:.2f}x, "
                    f"p99 {p['p99'] / b['p99']:.1f}x, server CPU per poll {p['server_cpu'] / b['server_cpu']:.1f}x"
                )
            v = r["view"]
            print(
                f"  view(): {v['cold']:.2f} ms read and built, {v['warm']:.3f} ms from the cache; "
                f"screen HTML {v['html']:.3f} ms (medians of {VIEW_CALLS})"
            )

    def med(kind: str, figure: str) -> float:
        return statistics.median(r[kind][figure] for r in runs)

    def ratio(kind: str, figure: str) -> float:
        return statistics.median(r[kind][figure] / r[f"base {kind}"][figure] for r in runs)

    print(
        f"median: changed {med('changed', 'rate'):.0f} polls/s (p99 {med('changed', 'p99'):.1f} ms), "
        f"unchanged {med('unchanged', 'rate'):.0f} polls/s (p99 {med('unchanged', 'p99'):.1f} ms); "
        f"baseline {med('base changed', 'rate'):.0f} / {med('base unchanged', 'rate'):.0f} polls/s; "
        f"ratio changed / unchanged: throughput {ratio('changed', 'rate'):.2f}x / {ratio('unchanged', 'rate'):.2f}x, "
        f"p99 {ratio('changed', 'p99'):.1f}x / {ratio('unchanged', 'p99'):.1f}x; "
        f"view() {statistics.median(r['view']['cold'] for r in runs):.2f} ms built, "
        f"{statistics.median(r['view']['warm'] for r in runs):.3f} ms cached"
    )


if __name__ == "__main__":
    asyncio.run(main())
