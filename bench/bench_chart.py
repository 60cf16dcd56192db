"""Benchmark: drawing the drill report's chart (matplotlib) for 200 students x 20 questions x 3 rounds.

Run: .venv/bin/python bench/bench_chart.py [--students 200] [--questions 20] [--runs 5] [--lang zh-Hant]

The chart's figures come from seeded random answers (pre-test, post-test, re-test; 8 of the questions are
real-or-fake judgments). Printed: the time to import matplotlib (paid once, at the first chart: the bot imports it
lazily), the first render (fonts found and their character maps read), the median of `--runs` further renders,
the PNG's size and the peak RSS increase over the process before matplotlib. Goal: under a second per chart.
The Pillow chart this replaced is gone from the tree, so there is no reference figure for it here.
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.core.drill import DrillRound  # noqa: E402
from bot.core.lang import Lang, parse_lang  # noqa: E402
from bot.i18n import translator  # noqa: E402
from bot.i18n.report_chart import ChartData, ChartRound, render_report_chart  # noqa: E402

GOAL_SECONDS = 1.0
LABELS = {
    Lang.ZH_HANT: [
        "無咬痕餅乾",
        "影片裡的手指",
        "查證新聞來源",
        "被裁掉的浮水印",
        "光影不一致",
        "聲音對不上嘴型",
        "反向搜尋圖片",
    ],
    Lang.ZH_HANS: [
        "无咬痕饼干",
        "视频里的手指",
        "查证新闻来源",
        "被裁掉的水印",
        "光影不一致",
        "声音对不上嘴型",
        "反向搜索图片",
    ],
    Lang.EN: [
        "cookie with no bite mark",
        "fingers in the video",
        "checking the news source",
        "cropped watermark",
        "light and shadow disagree",
        "voice out of sync with the lips",
        "reverse image search",
    ],
}


def chart_data(students: int, questions: int, lang: Lang, seed: int = 5) -> ChartData:
    """Accuracy per question from random answers; a judgment item is fake or genuine, judged fake or not."""
    rng = random.Random(seed)
    difficulty = [rng.uniform(-0.25, 0.25) for _ in range(questions)]
    judgment = {n: rng.random() < 0.5 for n in rng.sample(range(questions), min(8, questions))}  # n -> is fake
    rounds = []
    for round_, skill in ((DrillRound.PRE, 0.5), (DrillRound.POST, 0.8), (DrillRound.RETEST, 0.7)):
        answered, right = [0] * questions, [0] * questions
        hits = fakes = false_alarms = genuine = 0
        taking = [s for s in range(students) if round_ is not DrillRound.RETEST or rng.random() < 0.85]
        for _ in taking:
            for n in range(questions):
                if rng.random() < 0.03:  # skipped
                    continue
                correct = rng.random() < min(0.98, max(0.02, skill + difficulty[n]))
                answered[n] += 1
                right[n] += correct
                if n in judgment:
                    says_fake = correct if judgment[n] else not correct
                    if judgment[n]:
                        fakes, hits = fakes + 1, hits + says_fake
                    else:
                        genuine, false_alarms = genuine + 1, false_alarms + says_fake
        rounds.append(
            ChartRound(
                round=round_,
                accuracy=tuple(r / a if a else None for r, a in zip(right, answered, strict=True)),
                participants=len(taking),
                hit_rate=hits / fakes if fakes else None,
                false_alarm_rate=false_alarms / genuine if genuine else None,
                judged=fakes + genuine,
            )
        )
    names = LABELS[lang]
    labels = tuple(f"Q{n + 1} · {names[n % len(names)]}" for n in range(questions))
    return ChartData(code="ABCD2345", questions=labels, rounds=tuple(rounds))


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--questions", type=int, default=20)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--lang", type=parse_lang, default=Lang.ZH_HANT)
    parser.add_argument("--out", type=Path, help="write the chart here")
    args = parser.parse_args()
    t = translator()
    data = chart_data(args.students, args.questions, args.lang)
    if "matplotlib" in sys.modules:
        print("note: matplotlib was already imported; the import time below is not a cold import")
    rss_before = peak_rss_mib()

    started = time.perf_counter()
    import matplotlib.backends.backend_agg
    import matplotlib.figure
    import matplotlib.font_manager  # noqa: F401

    import_s = time.perf_counter() - started

    started = time.perf_counter()
    chart = render_report_chart(data, t, args.lang)
    first_s = time.perf_counter() - started

    times = []
    for _ in range(args.runs):
        started = time.perf_counter()
        chart = render_report_chart(data, t, args.lang)
        times.append(time.perf_counter() - started)
    median_s = statistics.median(times)
    rss_increase = peak_rss_mib() - rss_before
    if args.out:
        args.out.write_bytes(chart.png)

    print(
        f"chart: {args.students} students x {args.questions} questions x {len(data.rounds)} rounds, "
        f"{args.lang.value} (drawn in {chart.lang_used.value}, font_ok {chart.font_ok}), {chart.width}x{chart.height}"
    )
    print(f"matplotlib import: {import_s * 1000:.0f} ms")
    print(f"first render: {first_s * 1000:.0f} ms (finds the fonts and reads their character maps)")
    print(
        f"further renders: median {median_s * 1000:.0f} ms of {args.runs} "
        f"(min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f})"
    )
    print(f"PNG: {len(chart.png) / 1024:.0f} KiB; caption {len(chart.caption)} characters")
    print(f"peak RSS increase: {rss_increase:.0f} MiB (from {rss_before:.0f} MiB before matplotlib)")
    worst = max(first_s, median_s)
    print(
        f"goal (under {GOAL_SECONDS:.0f} s per chart, first included): "
        + ("goal met" if worst < GOAL_SECONDS else "not met")
        + f" ({worst * 1000:.0f} ms)"
    )


if __name__ == "__main__":
    main()
