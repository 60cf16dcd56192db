"""Command line: `python -m bot play | check | run`. The one place that wires settings, storage and adapters."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import random
import sys
from collections.abc import Sequence
from pathlib import Path

from . import __version__
from .config import DEFAULT_ENV_FILE, PROJECT_ROOT, ConfigError, Settings, load_settings
from .core.bankstats import bank_stats, paragraph_coverage
from .core.echo import echo_safe
from .core.engine import QuizMode, QuizSpec, UserId
from .core.lang import Lang, parse_lang
from .core.loader import BankInvalid, counted
from .core.model import QuestionBank
from .core.quality import cue_report, quality_problems
from .logs import configure_logging
from .redact import redact_url, url_secrets
from .services.bank import check_bank, load_article, open_bank
from .services.items import ItemAnalysis, ItemLine, items_csv
from .services.wiring import StorageError, missing_sqlite_file, open_services

LOCAL_USER = UserId(0)  # the terminal's own player; Telegram user ids are positive and never 0
BROKEN_PIPE = 141  # 128 + SIGPIPE: the shell's status for a command whose reader went away


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description=(
            "A deepfake-awareness quiz: play in a terminal, check the question bank, or run the Telegram bot."
        ),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    play = commands.add_parser("play", help="take a quiz in the terminal (no Telegram token needed)")
    play.add_argument(
        "--lang",
        type=lang_arg,
        help="zh-Hant, zh-Hans or en (default: from the locale; when it is neither Chinese nor English, a terminal "
        "asks and scripted input gets English)",
    )
    play.add_argument("--topic", help="only questions of this topic (id or title)")
    play.add_argument("--count", type=question_count, help="number of questions, 1 or more (default: QUIZ_LENGTH, 5)")
    play.add_argument("--difficulty", type=int, choices=(1, 2, 3), help="only questions of this difficulty")
    play.add_argument("--review", action="store_true", help="go over the questions you got wrong before")
    play.add_argument("--no-confidence", action="store_true", help="don't ask how sure you are")
    play.add_argument("--seed", type=int, help="fix the random choice and order of questions (reproducible)")
    play.add_argument("--user", type=int, default=LOCAL_USER, help="player id in the store (default 0)")

    check = commands.add_parser("check", help="validate the question bank; exit 1 on any problem")
    check.add_argument("paths", nargs="*", type=Path, help="files or folders (default: QUESTIONS_PATH, questions/)")
    check.add_argument("--article", type=Path, help="the article to check quotes against (default: ARTICLE_PATH)")
    check.add_argument("--stats", action="store_true", help="print counts per topic, type, difficulty and language")
    check.add_argument("--coverage", action="store_true", help="list article paragraphs no question cites; fail if any")
    check.add_argument("--paragraphs", action="store_true", help="print the article's numbered paragraphs")

    report = commands.add_parser("report", help="a classroom drill's report: summary, CSV and chart")
    report.add_argument("code", help="the drill's join code")
    report.add_argument(
        "--csv", type=Path, help="write one row per answer to this file, and one row per student beside it (-students)"
    )
    report.add_argument("--png", type=Path, help="write the chart (accuracy and discernment per round) to this PNG")
    report.add_argument("--lang", type=parse_lang, default=Lang.EN, help="language of the summary and CSV")

    items = commands.add_parser(
        "items", help="item analysis over every stored answer, with difficulty labels suggested from the answers"
    )
    items.add_argument("--since", type=iso_date, metavar="DATE", help="only answers from this day on (YYYY-MM-DD, UTC)")
    items.add_argument("--csv", type=Path, metavar="FILE", help="also write the table to this CSV file")

    export = commands.add_parser(
        "export", help="write the bank (or a topic) for Moodle (GIFT, Moodle XML), Canvas and others (QTI), or CSV"
    )
    export.add_argument("--format", required=True, choices=("gift", "moodle-xml", "qti", "csv"), help="file format")
    export.add_argument("--lang", type=lang_arg, default=Lang.EN, help="zh-Hant, zh-Hans or en (default: en)")
    export.add_argument("--topic", help="only the questions of this topic (id or title)")
    export.add_argument(
        "--out", type=Path, metavar="FILE", help="write to this file (default: standard output; qti needs a .zip)"
    )

    run = commands.add_parser("run", help="run the Telegram bot (needs TELEGRAM_BOT_TOKEN)")
    run.add_argument(
        "--env-file", type=Path, default=DEFAULT_ENV_FILE, help="settings file (default: .env in the current folder)"
    )
    run.add_argument(
        "--webhook", action="store_true", help="serve a webhook (WEBHOOK_URL, WEBHOOK_SECRET...) instead of polling"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run a command. When whoever reads the output stops reading (`python -m bot check | head`), the command ends
    quietly with 141, the status of a process ended by SIGPIPE as `cat` or `grep` would be: it did not finish, so
    it must not report success, yet it prints no traceback."""
    try:
        try:
            return run_command(argv)
        finally:
            sys.stdout.flush()  # inside the try: buffered output fails here, not at exit
    except BrokenPipeError:
        # Point stdout at /dev/null, so the interpreter's own flush at exit has nothing left to fail on.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return BROKEN_PIPE


def run_command(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    env_file = getattr(args, "env_file", DEFAULT_ENV_FILE)
    try:
        settings = load_settings(os.environ, env_file=env_file)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    # INFO is the running bot's operator log (each quiz started and ended...): the other commands are used by a
    # person at a terminal, whose screen it would clutter. They log warnings and errors, or everything at DEBUG.
    quiet = args.command != "run" and settings.log_level != logging.DEBUG
    configure_logging(max(settings.log_level, logging.WARNING) if quiet else settings.log_level)
    if args.command == "check":
        return command_check(args, settings)
    if args.command == "play":
        return command_play(args, settings)
    if args.command == "report":
        return command_report(args, settings)
    if args.command == "items":
        return command_items(args, settings)
    if args.command == "export":
        return command_export(args, settings)
    from .telegram.app import run_bot  # imported here: the terminal quiz and `check` never load telegram

    return run_bot(settings, webhook=args.webhook)


def command_check(args: argparse.Namespace, settings: Settings) -> int:
    article_path = args.article or settings.article_path
    if args.paragraphs:
        article = load_article(article_path)
        if article is None:
            print(f"error: the article is not at {article_path} (set ARTICLE_PATH or --article)", file=sys.stderr)
            return 1
        for number, text in enumerate(article.paragraphs, 1):
            print(f"{number:>3}  {text}")
        return 0
    paths = args.paths or [settings.questions_path]
    report = check_bank(paths, article_path, root=Path.cwd())
    if report.notes or report.problems:
        print(report.render(), file=sys.stderr if report.problems else sys.stdout)
    if report.bank is None:
        return 1
    bank = report.bank
    quality = [*report.lint, *quality_problems(bank)]
    if quality:
        print("\n".join(map(str, quality)), file=sys.stderr)
        print(
            f"{counted(len(quality), 'quality problem')}: the bank loads, but `check` fails until they are fixed",
            file=sys.stderr,
        )
    else:
        print(
            f"ok: {counted(len(bank), 'question')} in {counted(len(bank.topics), 'topic')}, "
            f"{counted(len(bank.retired), 'retired id')}"
        )
    status = 1 if quality else 0
    if args.stats:
        print_stats(bank)
        print("\n".join(cue_report(bank)))
    if args.coverage:
        status = print_coverage(bank, article_path) or status
    return status


def print_stats(bank: QuestionBank) -> None:
    stats = bank_stats(bank)
    print("\nper topic:")
    for topic in bank.topics:
        print(f"  {topic.id:<24} {stats.by_topic[topic.id]:>4}   {topic.title.en}")
    print("per type:")
    for kind, count in stats.by_type.items():
        print(f"  {kind.value:<24} {count:>4}")
    print("per difficulty:")
    for level, count in stats.by_difficulty.items():
        print(f"  {level:<24} {count:>4}   {count / stats.questions:.0%}")
    print("per language (all questions carry every language); fit a native quiz poll:")
    for lang in Lang:
        print(
            f"  {lang.value:<24} {stats.questions:>4}   poll {stats.poll_fit[lang]:>4} ({stats.poll_share(lang):.0%})"
        )
    print(f"quote the article: {stats.with_quote} of {stats.questions}")


def print_coverage(bank: QuestionBank, article_path: Path) -> int:
    article = load_article(article_path)
    if article is None:
        print(f"error: cannot check coverage: the article is not at {article_path}", file=sys.stderr)
        return 1
    coverage = paragraph_coverage(bank, article)
    missing = [n for n, count in coverage.items() if count == 0]
    print("\nquestions per article paragraph:")
    for number, count in coverage.items():
        print(f"  P{number:<3} {count:>3}   {(article.paragraph(number) or '')[:30]}…")
    if missing:
        print(f"paragraphs with a point and no question: {', '.join(f'P{n}' for n in missing)}", file=sys.stderr)
        return 1
    print("every paragraph with a point has a question")
    return 0


def lang_arg(text: str) -> Lang:
    """`play --lang`: zh-Hant, zh-Hans or en (a locale-style name such as zh_TW or en_GB is understood too)."""
    from .terminal import served_lang

    try:
        return parse_lang(text)
    except ValueError:
        lang = served_lang(text)
        if lang is None:
            raise argparse.ArgumentTypeError(f"unknown language {text!r}: choose zh-Hant, zh-Hans or en") from None
        return lang


def question_count(text: str) -> int:
    """`play --count`: a whole number of questions, 1 or more."""
    try:
        count = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number of questions, 1 or more, not {text!r}") from None
    if count < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {count}")
    return count


def bank_or_report(settings: Settings, *, heading: str | None = None) -> QuestionBank | None:
    """The question bank for a command; None after printing why it can't be served (the check report, after
    `heading` when given)."""
    try:
        return open_bank([settings.questions_path], settings.article_path, root=Path.cwd())
    except BankInvalid as error:
        if heading is not None:
            print(heading, file=sys.stderr)
        print(error.report.render(), file=sys.stderr)
        return None


def command_play(args: argparse.Namespace, settings: Settings) -> int:
    from .i18n import translator
    from .terminal import Screen, TerminalQuiz, choose_lang

    t = translator()
    screen = Screen(sys.stdin, sys.stdout)
    lang = args.lang or choose_lang(
        t, environ=os.environ, screen=screen, interactive=sys.stdin.isatty(), errors=sys.stderr
    )
    if lang is None:  # quit at the language picker
        return 0
    bank = bank_or_report(settings, heading=t("terminal.no_bank", lang))
    if bank is None:
        return 1
    topic = None
    if args.topic:
        found = bank.find_topic(args.topic)
        if found is None:
            topics = ", ".join(t.id for t in bank.topics)
            # The topic as typed is echoed cleaned, as every echo of input is (core/echo.py): no bidi overrides.
            print(t("quiz.unknown_topic", lang, topic=echo_safe(args.topic), topics=topics), file=sys.stderr)
            return 2
        topic = found.id
    count = args.count or settings.quiz_length
    if count < 1:
        print("error: --count must be 1 or more", file=sys.stderr)
        return 2
    mode = QuizMode.REVIEW if args.review else QuizMode.TOPIC if topic else QuizMode.QUICK
    spec = QuizSpec(
        mode=mode, topic=topic, difficulty=args.difficulty, count=count, ask_confidence=not args.no_confidence
    )

    with asyncio.Runner() as runner:
        try:
            opening = open_services(settings.database_url, bank, base=PROJECT_ROOT, rng=random.Random(args.seed))
            services = runner.run(opening)
        except StorageError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        try:
            service = services.quiz
            user = UserId(args.user)
            runner.run(service.user(user, default_lang=lang))
            quiz = TerminalQuiz(service, runner, t=t, lang=lang, user_id=user, screen=screen)
            return quiz.play(spec)
        finally:
            runner.run(services.close())


def refuse_missing_database(settings: Settings, *, nothing_there: str) -> int | None:
    """Exit status 1, with one line, when the database can't be opened without creating it (a missing SQLite file:
    opening it would make an empty one and then report that nothing is there); None when it may be opened."""
    try:
        missing = missing_sqlite_file(settings.database_url, base=Path.cwd())
    except StorageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if missing is not None:
        print(f"error: no database at {missing}: {nothing_there} (check DATABASE_URL)", file=sys.stderr)
        return 1
    return None


def command_report(args: argparse.Namespace, settings: Settings) -> int:
    """The same report a teacher gets with /report, from the command line (for whoever runs the bot)."""
    from .core.drill import CODE_LENGTH, normalize_code
    from .i18n import translator
    from .i18n.report_chart import render_report_chart
    from .i18n.report_text import chart_data, report_summary
    from .services.report_files import report_csv, students_csv

    code = normalize_code(args.code)
    if code is None:
        print(
            f"error: {args.code!r} is not a drill code: a code is {CODE_LENGTH} letters and digits, like ABCD2345 "
            "(no 0, O, 1, I or L)",
            file=sys.stderr,
        )
        return 2
    bank = bank_or_report(settings)
    if bank is None:
        return 1
    refused = refuse_missing_database(settings, nothing_there="no drill has been run there")
    if refused is not None:
        return refused

    async def build() -> int:
        services = await open_services(settings.database_url, bank, base=Path.cwd())
        try:
            drill = await services.drill.by_code(code)
            if drill is None:
                print(f"error: no drill with the code {code} in {redact_url(settings.database_url)}", file=sys.stderr)
                return 1
            full = await services.drill.report(drill)
        finally:
            await services.close()
        report, answers = full.report, full.answers
        print(report_summary(report, bank, translator(), args.lang))
        if args.csv:
            args.csv.write_text(report_csv(report, answers, bank, args.lang), encoding="utf-8-sig")
            print(f"wrote {args.csv} ({len(answers)} answers)")
            per_student = args.csv.with_name(f"{args.csv.stem}-students{args.csv.suffix}")
            per_student.write_text(students_csv(report), encoding="utf-8-sig")
            print(f"wrote {per_student} ({len(report.student_results)} students)")
        if args.png:
            chart = render_report_chart(chart_data(report, bank, args.lang), translator(), args.lang)
            args.png.write_bytes(chart.png)
            print(f"wrote {args.png} ({chart.width}x{chart.height})")
            print(chart.caption)
        return 0

    try:
        return asyncio.run(build())
    except StorageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


def iso_date(text: str) -> float:
    """`items --since`: a day written YYYY-MM-DD, as the timestamp of its start in UTC."""
    import re
    from datetime import UTC, date, datetime

    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            raise ValueError(text)
        day = date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date: write YYYY-MM-DD, e.g. 2025-09-01") from None
    return datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()


def command_items(args: argparse.Namespace, settings: Settings) -> int:
    """Item analysis over every stored answer (private, group and drill), for whoever maintains the bank."""
    bank = bank_or_report(settings)
    if bank is None:
        return 1
    # redact_url rebuilds the URL, which turns sqlite:///x into sqlite:/x: only a URL with a secret needs it.
    where = redact_url(settings.database_url) if url_secrets(settings.database_url) else settings.database_url
    refused = refuse_missing_database(settings, nothing_there="nothing has been answered there")
    if refused is not None:
        return refused

    async def analyse() -> ItemAnalysis:
        services = await open_services(settings.database_url, bank, base=Path.cwd())
        try:
            return await services.items.analysis(since=args.since)
        finally:
            await services.close()

    try:
        analysis = asyncio.run(analyse())
    except StorageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    since = f" since {_day(args.since)}" if args.since is not None else ""
    if not analysis.answers:
        gone = f" ({_gone(analysis)})" if analysis.gone_answers or analysis.unusable else ""
        print(f"no answers to analyse{since} in {where}{gone}")
        return 0
    print("\n".join(items_text(analysis)))
    if args.csv:
        args.csv.write_text(items_csv(analysis), encoding="utf-8-sig")
        print(f"wrote {args.csv} ({len(analysis.lines)} questions)")
    return 0


def _day(timestamp: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(timestamp, UTC).date().isoformat()


def _gone(analysis: ItemAnalysis) -> str:
    gone = counted(analysis.gone_questions, "question")
    parts = [f"{gone} no longer in the bank skipped ({counted(analysis.gone_answers, 'answer')})"]
    if analysis.unusable:
        parts.append(
            f"{counted(analysis.unusable, 'answer')} skipped: an option the question no longer has, or a repeat"
        )
    return "; ".join(parts)


def _item_row(line: ItemLine) -> tuple[str, ...]:
    """One question's cells in the `items` table."""
    item, wrong = line.stats, line.stats.most_chosen_wrong
    level = str(line.difficulty)
    if line.suggested is not None:
        level += f" → suggest {line.suggested}" if line.mismatch else " ✓"
    return (
        item.question_id,
        str(item.n),
        f"{item.difficulty:.2f}",
        _signed(item.discrimination),
        _signed(item.upper_lower),
        "–" if wrong is None else f"{wrong} ({item.chosen[wrong] / item.n:.0%})",
        ",".join(sorted(flag.value for flag in item.flags)) or "–",
        level,
    )


def _signed(value: float | None) -> str:
    # `+ 0.0` turns -0.0 into 0.0, so a zero never prints as "-0.00".
    return "–" if value is None else f"{round(value, 2) + 0.0:+.2f}"


def items_text(analysis: ItemAnalysis) -> list[str]:
    """The `items` table: a line per column explaining it, a line per question, and what it was computed over."""
    from .core.measures import (
        MIN_CORRELATED,
        MIN_FLAGGED,
        MIN_SUGGESTED,
        MIN_UPPER_LOWER,
        TOO_EASY_AT,
        UPPER_LOWER_SHARE,
        ItemFlag,
    )

    rows = [_item_row(line) for line in analysis.lines]
    head = ("id", "n", "p", "r", "u-l", "wrong", "flags", "level")
    widths = [max(len(row[i]) for row in [head, *rows]) for i in range(len(head))]
    right_aligned = {1, 2, 3, 4}

    def layout(row: tuple[str, ...]) -> str:
        cells = [
            cell.rjust(w) if i in right_aligned else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        return "  ".join(cells).rstrip()

    out = [
        "Item analysis: every stored answer (private quizzes, group quizzes, drill rounds); a respondent is one person "
        "in one quiz.",
        "  id     the question's id in the bank",
        "  n      answers to the question",
        "  p      share right (difficulty: higher is easier)",
        "  r      discrimination: correlation of right/wrong with the respondent's other answers in the same quiz "
        f"(–: under {MIN_CORRELATED} or no spread)",
        f"  u-l    share right in the top {UPPER_LOWER_SHARE}% minus the bottom {UPPER_LOWER_SHARE}% by those other "
        f"answers (–: under {MIN_UPPER_LOWER})",
        "  wrong  the wrong option chosen most (authored index from 0) and its share of all answers (–: nobody wrong)",
        f"  flags  {ItemFlag.NEGATIVE_DISCRIMINATION}: r below 0; {ItemFlag.TOO_EASY}: p ≥ {TOO_EASY_AT}; "
        f"{ItemFlag.BELOW_CHANCE}: p under 1/options (both from {MIN_FLAGGED} answers)",
        f"  level  the bank's difficulty (1 easy, 2 medium, 3 hard); from {MIN_SUGGESTED} answers ✓ when p agrees, "
        "→ suggest N when it points elsewhere",
        "",
        layout(head),
        *map(layout, rows),
        "",
    ]
    since = f", counted since {_day(analysis.since)}" if analysis.since is not None else ""
    first, last = analysis.first_at, analysis.last_at
    assert first is not None and last is not None  # there are answers
    total = len(analysis.lines) + len(analysis.unanswered)
    out += [
        f"{counted(analysis.answers, 'answer')} given {_day(first)} to {_day(last)} (UTC){since}, to "
        f"{counted(len(analysis.lines), 'question')}",
        f"{len(analysis.unanswered)} of the bank's {total} questions had none; {_gone(analysis)}",
    ]
    return out


def command_export(args: argparse.Namespace, settings: Settings) -> int:
    """The bank as a file a teacher imports into Moodle, Canvas or a spreadsheet (`bot/i18n/export.py`)."""
    from .i18n.export import ExportFormat, export_bank

    fmt = ExportFormat(args.format)
    if fmt is ExportFormat.QTI and (args.out is None or args.out.suffix.lower() != ".zip"):
        print("error: --format qti writes a zip package: give --out FILE.zip", file=sys.stderr)
        return 2
    bank = bank_or_report(settings)
    if bank is None:
        return 1
    topic = None
    if args.topic:
        topic = bank.find_topic(args.topic)
        if topic is None:
            print(
                f"error: no topic {args.topic!r}: choose one of {', '.join(t.id for t in bank.topics)}", file=sys.stderr
            )
            return 2
    data = export_bank(bank, fmt, args.lang, topic=topic)
    if args.out is None:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        return 0
    try:
        args.out.write_bytes(data)
    except OSError as error:
        print(f"error: cannot write {args.out}: {error.strerror or error}", file=sys.stderr)
        return 1
    count = len(bank.in_topic(topic.id)) if topic is not None else len(bank)
    print(f"wrote {args.out} ({counted(count, 'question')}, {args.lang.value}, {fmt.value})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
