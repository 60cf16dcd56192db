"""Load and validate the YAML question bank.

Every problem is collected (never the first one only) as `file:line: question-id: what is wrong`; a bank
with any error is not returned, so nothing can serve half-valid content.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import opencc
import yaml

from .article import Article
from .lang import AUTHORED_LANGS, Lang, Localized
from .limits import poll_misfits
from .model import (
    FIXED_ORDER_TYPES,
    Question,
    QuestionBank,
    QuestionId,
    QuestionType,
    Source,
    Topic,
    TopicId,
)
from .yamlsource import LineDict, error_line, load_yaml

RETIRED_FILE = "_retired.yaml"
VOCABULARY_FILE = "_zh_hans_vocabulary.yaml"
ID_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
TOPIC_PATTERN = re.compile(r"^[a-z0-9]+(?:_[a-z0-9]+)*$")
FACT_PATTERN = re.compile(r"^[AB][0-9]{1,2}$")
LANG_KEYS = {lang.value for lang in Lang}
QUESTION_KEYS = {
    "id",
    "topic",
    "type",
    "difficulty",
    "prompt",
    "options",
    "answer",
    "explanation",
    "source",
    "shuffle",
}
SOURCE_KEYS = {"paragraph", "quote", "facts"}


@dataclass(frozen=True, slots=True, kw_only=True)
class Problem:
    """One thing wrong with the bank."""

    file: str
    line: int
    question_id: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.question_id}: {self.message}"


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadReport:
    """What loading produced: the bank (only when there are no problems), the problems, and notes."""

    bank: QuestionBank | None
    problems: tuple[Problem, ...]
    notes: tuple[str, ...]
    files: tuple[Path, ...]

    @property
    def ok(self) -> bool:
        return self.bank is not None

    def render(self) -> str:
        """The report as people read it: notes, then one line per problem, then a summary."""
        lines = [f"note: {note}" for note in self.notes]
        lines += [str(problem) for problem in self.problems]
        if self.problems:
            lines.append(f"{len(self.problems)} problem(s) in {len(self.files)} file(s): the bank is not served")
        return "\n".join(lines)


class BankInvalid(Exception):
    """Raised where a valid bank is required and loading found problems."""

    def __init__(self, report: LoadReport) -> None:
        super().__init__(report.render())
        self.report = report


class _Converter:
    """OpenCC Traditional -> Simplified, then the bank's mainland vocabulary; cached (對/錯 repeat a lot).

    OpenCC's t2s changes characters, not words: 影片 stays 影片 where a mainland reader says 视频. The vocabulary
    file maps such words once for the whole bank, instead of an override on every field that uses them.
    """

    def __init__(self, vocabulary: dict[str, str] | None = None) -> None:
        self._t2s = opencc.OpenCC("t2s")
        self._cache: dict[str, str] = {}
        self._vocabulary = vocabulary or {}
        # Longest first, so 假訊息 wins over 訊息.
        words = sorted(self._vocabulary, key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, words))) if words else None

    def to_simplified(self, text: str, *, vocabulary: bool = True) -> str:
        converted = self._cache.get(text)
        if converted is None:
            converted = self._cache[text] = self._t2s.convert(text)
        if vocabulary and self._pattern is not None:
            converted = self._pattern.sub(lambda m: self._vocabulary[m.group()], converted)
        return converted


@dataclass(slots=True)
class _FileContext:
    """State while validating one file: where problems go and what the file declared."""

    path: Path
    display: str
    problems: list[Problem]
    question_id: str = "-"

    def add(self, line: int, message: str) -> None:
        self.problems.append(Problem(file=self.display, line=line, question_id=self.question_id, message=message))


@dataclass(slots=True)
class _Collector:
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    questions: list[Question] = field(default_factory=list)
    topics: list[Topic] = field(default_factory=list)
    first_seen: dict[str, str] = field(default_factory=dict)
    retired: dict[str, str] = field(default_factory=dict)


def discover(paths: Iterable[Path]) -> tuple[list[Path], list[Path], list[Path], list[str]]:
    """Topic files, retired-id files, vocabulary files and missing paths among `paths` (folders: their *.yaml)."""
    topic_files: list[Path] = []
    retired_files: list[Path] = []
    vocabulary_files: list[Path] = []
    missing: list[str] = []
    for path in paths:
        if path.is_dir():
            candidates = sorted([*path.glob("*.yaml"), *path.glob("*.yml")])
        elif path.is_file():
            candidates = [path]
        else:
            missing.append(str(path))
            continue
        for candidate in candidates:
            if candidate.name == RETIRED_FILE:
                retired_files.append(candidate)
            elif candidate.name == VOCABULARY_FILE:
                vocabulary_files.append(candidate)
            elif not candidate.name.startswith("_"):
                topic_files.append(candidate)
    return topic_files, retired_files, vocabulary_files, missing


def load_bank(paths: Sequence[Path], *, article: Article | None, root: Path | None = None) -> LoadReport:
    """Load every topic file under `paths` and validate it against the article (when given).

    `root` only shortens file names in the report.
    """
    topic_files, retired_files, vocabulary_files, missing = discover(paths)
    collector = _Collector()
    for name in missing:
        collector.problems.append(Problem(file=name, line=0, question_id="-", message="no such file or folder"))
    if not topic_files and not missing:
        collector.problems.append(
            Problem(file=", ".join(map(str, paths)), line=0, question_id="-", message="no question files found")
        )
    if article is None:
        collector.notes.append("article not available: quotes were NOT checked against it")
    vocabulary: dict[str, str] = {}
    for path in vocabulary_files:
        vocabulary.update(_load_vocabulary(path, _display(path, root), collector))
    converter = _Converter(vocabulary)
    for path in retired_files:
        _load_retired(path, _display(path, root), collector)
    for path in topic_files:
        _load_topic_file(path, _display(path, root), article, converter, collector)
    for question in collector.questions:
        if question.id in collector.retired:
            file, line = question.location.rsplit(":", 1)
            collector.problems.append(
                Problem(
                    file=file,
                    line=int(line),
                    question_id=question.id,
                    message=f"id is listed as retired in {collector.retired[question.id]}; "
                    "a released id is never reused",
                )
            )
    files = tuple(topic_files + retired_files + vocabulary_files)
    if collector.problems:
        return LoadReport(bank=None, problems=tuple(collector.problems), notes=tuple(collector.notes), files=files)
    bank = QuestionBank(
        questions=tuple(collector.questions),
        topics=tuple(collector.topics),
        retired=frozenset(QuestionId(qid) for qid in collector.retired),
    )
    return LoadReport(bank=bank, problems=(), notes=tuple(collector.notes), files=files)


def _display(path: Path, root: Path | None) -> str:
    if root is not None:
        try:
            return str(path.resolve().relative_to(root.resolve()))
        except ValueError:
            pass
    return str(path)


def _read(path: Path, ctx: _FileContext) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        ctx.add(1, f"not UTF-8 text ({error.reason} at byte {error.start})")
        return None
    except OSError as error:
        ctx.add(0, f"cannot read: {error.strerror}")
        return None
    try:
        return load_yaml(text)
    except yaml.YAMLError as error:
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        ctx.add(error_line(error), f"YAML syntax error: {problem}")
        return None


def _check_keys(mapping: LineDict, allowed: set[str], ctx: _FileContext, what: str) -> None:
    for key, line in mapping.duplicate_keys:
        ctx.add(line, f"{what}: key {key!r} appears twice")
    for key in mapping:
        if key not in allowed:
            ctx.add(mapping.line_of(key), f"{what}: unknown key {key!r} (allowed: {', '.join(sorted(allowed))})")


def _load_retired(path: Path, display: str, collector: _Collector) -> None:
    ctx = _FileContext(path=path, display=display, problems=collector.problems)
    data = _read(path, ctx)
    if data is None:
        return
    entries = data.get("retired") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        ctx.add(getattr(data, "line", 1), "expected a mapping with a `retired:` list of {id, reason}")
        return
    for entry in entries:
        if not isinstance(entry, LineDict) or not isinstance(entry.get("id"), str):
            ctx.add(getattr(entry, "line", 1), "each retired entry needs an `id`")
            continue
        ctx.question_id = entry["id"] if ID_PATTERN.match(entry["id"]) else repr(entry["id"])
        if not isinstance(entry.get("reason"), str) or not entry["reason"].strip():
            ctx.add(entry.line, "a retired id needs a `reason`")
        collector.retired[entry["id"]] = f"{display}:{entry.line}"
        ctx.question_id = "-"


def _load_vocabulary(path: Path, display: str, collector: _Collector) -> dict[str, str]:
    ctx = _FileContext(path=path, display=display, problems=collector.problems)
    data = _read(path, ctx)
    if data is None:
        return {}
    words = data.get("vocabulary") if isinstance(data, dict) else None
    if not isinstance(words, LineDict) or not all(isinstance(v, str) and v for v in words.values()):
        ctx.add(getattr(data, "line", 1), "expected `vocabulary:` mapping OpenCC's output words to mainland words")
        return {}
    for key, line in words.duplicate_keys:
        ctx.add(line, f"vocabulary: {key!r} appears twice")
    blank = [key for key in words if not key.strip()]
    for key in blank:
        # An empty word would match between every two characters and garble every Simplified text.
        ctx.add(words.line_of(key), f"vocabulary: an empty word ({key!r}) can't be replaced")
    return {key: value for key, value in words.items() if key.strip()}


def _load_topic_file(
    path: Path, display: str, article: Article | None, converter: _Converter, collector: _Collector
) -> None:
    ctx = _FileContext(path=path, display=display, problems=collector.problems)
    data = _read(path, ctx)
    if data is None:
        return
    if not isinstance(data, LineDict):
        ctx.add(1, "expected a mapping with `topic:` and `questions:`")
        return
    _check_keys(data, {"topic", "questions"}, ctx, "file")
    topic = _topic(data.get("topic"), data.line_of("topic"), path, ctx, converter)
    if topic is not None:
        collector.topics.append(topic)
    questions = data.get("questions")
    if not isinstance(questions, list) or not questions:
        ctx.add(data.line_of("questions"), "`questions:` must be a non-empty list")
        return
    for index, raw in enumerate(questions, 1):
        ctx.question_id = f"#{index}"
        if not isinstance(raw, LineDict):
            ctx.add(data.line_of("questions"), f"question {index} is not a mapping")
            continue
        question = _question(raw, topic, article, converter, ctx, collector)
        if question is not None:
            collector.questions.append(question)
    ctx.question_id = "-"


def _topic(raw: Any, line: int, path: Path, ctx: _FileContext, converter: _Converter) -> Topic | None:
    if not isinstance(raw, LineDict):
        ctx.add(line, "`topic:` must be a mapping with `id` and `title`")
        return None
    _check_keys(raw, {"id", "title"}, ctx, "topic")
    topic_id = raw.get("id")
    if not isinstance(topic_id, str) or not TOPIC_PATTERN.match(topic_id):
        ctx.add(raw.line_of("id"), "topic id must be lower_snake_case")
        return None
    if topic_id != path.stem:
        ctx.add(raw.line_of("id"), f"topic id {topic_id!r} differs from the file name {path.stem!r}")
    title = _localized(raw.get("title"), raw.line_of("title"), "title", ctx, converter)
    return Topic(id=TopicId(topic_id), title=title) if title is not None else None


def _localized(
    raw: Any, line: int, what: str, ctx: _FileContext, converter: _Converter, *, vocabulary: bool = True
) -> Localized | None:
    """A text field in every language; zh-Hans is derived from zh-Hant unless overridden.

    `vocabulary=False` for article quotes: they are converted character by character, never reworded.
    """
    if not isinstance(raw, LineDict):
        ctx.add(line, f"{what}: expected a mapping of languages ({', '.join(sorted(LANG_KEYS))})")
        return None
    _check_keys(raw, LANG_KEYS, ctx, what)
    texts: dict[str, str] = {}
    ok = True
    for lang in AUTHORED_LANGS:
        value = raw.get(lang.value)
        if isinstance(value, bool | int | float):
            # YAML 1.1 reads True, No, 1.0 as non-text: "No" would silently become False.
            ctx.add(raw.line_of(lang.value), f"{what}: {lang.value} text {value!r} is read as a YAML value; quote it")
            ok = False
        elif not isinstance(value, str) or not value.strip():
            ctx.add(raw.line_of(lang.value), f"{what}: missing {lang.value} text")
            ok = False
        else:
            texts[lang.value] = value.strip()
    override = raw.get(Lang.ZH_HANS.value)
    if override is not None and (not isinstance(override, str) or not override.strip()):
        ctx.add(raw.line_of(Lang.ZH_HANS.value), f"{what}: empty {Lang.ZH_HANS.value} override")
        ok = False
    if not ok:
        return None
    hant = texts[Lang.ZH_HANT.value]
    hans = override.strip() if isinstance(override, str) else converter.to_simplified(hant, vocabulary=vocabulary)
    return Localized(zh_hant=hant, zh_hans=hans, en=texts[Lang.EN.value])


def _question(
    raw: LineDict,
    topic: Topic | None,
    article: Article | None,
    converter: _Converter,
    ctx: _FileContext,
    collector: _Collector,
) -> Question | None:
    qid = raw.get("id")
    if isinstance(qid, str):
        # An id that breaks the pattern is shown quoted, so it can't break a report line or forge another.
        ctx.question_id = qid if ID_PATTERN.match(qid) else repr(qid)
    _check_keys(raw, QUESTION_KEYS, ctx, "question")
    ok = True
    if not isinstance(qid, str) or not ID_PATTERN.match(qid):
        ctx.add(raw.line_of("id"), "id must be lower-kebab-case (a-z, 0-9, single hyphens)")
        ok = False
    elif qid in collector.first_seen:
        ctx.add(raw.line_of("id"), f"duplicate id (first defined at {collector.first_seen[qid]})")
        ok = False
    else:
        collector.first_seen[qid] = f"{ctx.display}:{raw.line}"
    if "topic" in raw and topic is not None and raw["topic"] != topic.id:
        ctx.add(raw.line_of("topic"), f"topic {raw['topic']!r} differs from the file's topic {topic.id!r}")
        ok = False
    try:
        qtype = QuestionType(raw.get("type"))
    except ValueError:
        ctx.add(raw.line_of("type"), f"type must be one of: {', '.join(QuestionType)}")
        qtype = None
    difficulty = raw.get("difficulty")
    if isinstance(difficulty, bool) or not isinstance(difficulty, int) or not 1 <= difficulty <= 3:
        ctx.add(raw.line_of("difficulty"), "difficulty must be 1, 2 or 3")
        ok = False
    prompt = _localized(raw.get("prompt"), raw.line_of("prompt"), "prompt", ctx, converter)
    explanation = _localized(raw.get("explanation"), raw.line_of("explanation"), "explanation", ctx, converter)
    options = _options(raw, qtype, ctx, converter)
    answer = raw.get("answer")
    if isinstance(answer, bool) or not isinstance(answer, int):
        ctx.add(raw.line_of("answer"), "answer must be the 0-based index of the right option")
        ok = False
    elif options is not None and not 0 <= answer < len(options):
        ctx.add(raw.line_of("answer"), f"answer {answer} is not among the {len(options)} options (0-based)")
        ok = False
    shuffle = raw.get("shuffle", qtype not in FIXED_ORDER_TYPES)
    if not isinstance(shuffle, bool):
        ctx.add(raw.line_of("shuffle"), "shuffle must be true or false")
        ok = False
    source = _source(raw, article, converter, ctx)
    if not ok or None in (qtype, prompt, explanation, options, source, topic):
        return None
    assert prompt is not None and explanation is not None and options is not None  # narrowed above
    assert topic is not None and qtype is not None and source is not None
    poll_langs = frozenset(
        lang
        for lang in Lang
        if not poll_misfits(prompt.get(lang), [o.get(lang) for o in options], explanation.get(lang))
    )
    return Question(
        id=QuestionId(qid),
        topic=topic.id,
        type=qtype,
        difficulty=difficulty,
        prompt=prompt,
        options=options,
        answer=answer,
        explanation=explanation,
        source=source,
        shuffle=shuffle,
        poll_langs=poll_langs,
        location=f"{ctx.display}:{raw.line}",
    )


def _options(
    raw: LineDict, qtype: QuestionType | None, ctx: _FileContext, converter: _Converter
) -> tuple[Localized, ...] | None:
    items = raw.get("options")
    line = raw.line_of("options")
    if not isinstance(items, list):
        ctx.add(line, "options must be a list")
        return None
    options: list[Localized] = []
    for number, item in enumerate(items, 1):
        option = _localized(item, getattr(item, "line", line), f"option {number}", ctx, converter)
        if option is None:
            return None
        options.append(option)
    if not 2 <= len(options) <= 12:
        ctx.add(line, f"{len(options)} options: a question needs 2 to 12")
        return None
    if qtype is QuestionType.TRUE_FALSE and len(options) != 2:
        ctx.add(line, "a true_false question has exactly 2 options (true, then false)")
        return None
    for lang in Lang:
        seen: dict[str, int] = {}
        for number, option in enumerate(options, 1):
            key = " ".join(option.get(lang).casefold().split())
            if key in seen:
                ctx.add(line, f"options {seen[key]} and {number} are the same in {lang.value}")
                return None
            seen[key] = number
    return tuple(options)


def _source(raw: LineDict, article: Article | None, converter: _Converter, ctx: _FileContext) -> Source | None:
    data = raw.get("source")
    line = raw.line_of("source")
    if not isinstance(data, LineDict):
        ctx.add(line, "source: expected a mapping with `paragraph` + `quote` and/or `facts`")
        return None
    _check_keys(data, SOURCE_KEYS, ctx, "source")
    paragraph = data.get("paragraph")
    facts = data.get("facts", [])
    ok = True
    if not isinstance(facts, list) or not all(isinstance(f, str) and FACT_PATTERN.match(f) for f in facts):
        ctx.add(data.line_of("facts"), "source.facts must be a list of fact numbers such as A12 or B4")
        facts, ok = [], False
    has_quote = "quote" in data
    if (paragraph is None) != (not has_quote):
        ctx.add(line, "source: `paragraph` and `quote` go together")
        return None
    if paragraph is None and not facts:
        ctx.add(line, "source: needs `paragraph` + `quote` from the article, or `facts`")
        return None
    quote = None
    if has_quote:
        quote = _localized(data.get("quote"), data.line_of("quote"), "source.quote", ctx, converter, vocabulary=False)
        if isinstance(paragraph, bool) or not isinstance(paragraph, int) or paragraph < 1:
            ctx.add(data.line_of("paragraph"), "source.paragraph must be a paragraph number (1 or more)")
            ok = False
        elif quote is not None and article is not None:
            ok = _check_quote(article, paragraph, quote.zh_hant, data.line_of("quote"), ctx) and ok
    if not ok or (has_quote and quote is None):
        return None
    return Source(paragraph=paragraph, quote=quote, facts=tuple(facts))


def _check_quote(article: Article, paragraph: int, quote: str, line: int, ctx: _FileContext) -> bool:
    text = article.paragraph(paragraph)
    if text is None:
        ctx.add(line, f"source.paragraph {paragraph} does not exist (the article has {len(article.paragraphs)})")
        return False
    if quote in text:
        return True
    found = article.locate(quote)
    if found:
        where = ", ".join(map(str, found))
        ctx.add(line, f"quote is in paragraph {where}, not {paragraph}")
    else:
        ctx.add(line, f"quote is not verbatim in the article (paragraph {paragraph}): {quote!r}")
    return False
