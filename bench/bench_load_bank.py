"""Benchmark: load and validate the whole question bank, with the OpenCC conversions.

Run: .venv/bin/python bench/bench_load_bank.py [--runs 7]
Prints the median and spread of in-process loads (fresh converter each time, as at start-up) and of a whole
`python -m bot check` process, which includes interpreter start and imports.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config import load_settings  # noqa: E402
from bot.services.bank import check_bank  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    settings = load_settings({})
    loads: list[float] = []
    questions = 0
    for _ in range(args.runs):
        start = time.perf_counter()
        report = check_bank([settings.questions_path], settings.article_path)
        loads.append(time.perf_counter() - start)
        if report.bank is None:
            sys.exit("the bank has problems: run python -m bot check")
        questions = len(report.bank)
    processes: list[float] = []
    for _ in range(args.runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "bot", "check"], cwd=ROOT, check=True, capture_output=True)
        processes.append(time.perf_counter() - start)
    print(f"bank: {questions} questions, {args.runs} runs each")
    print(
        f"load + validate + convert (in process): median {statistics.median(loads) * 1000:.1f} ms "
        f"(min {min(loads) * 1000:.1f}, max {max(loads) * 1000:.1f})"
    )
    print(
        f"`python -m bot check` (whole process):  median {statistics.median(processes) * 1000:.1f} ms "
        f"(min {min(processes) * 1000:.1f}, max {max(processes) * 1000:.1f})"
    )


if __name__ == "__main__":
    main()
