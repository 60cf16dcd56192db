"""Load and validate the YAML question bank.

Every problem is collected (never the first one only) as `file:line: question-id: what is wrong`; a bank
with any error is not returned, so nothing can serve half-valid content.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import opencc
import yaml

from .article import Article
from .bankrules import bank_wide_problems
from .lang import AUTHORED_LANGS, Lang, Localized
from .limits import poll_misfits
from .model import (
    FIXED_ORDER_TYPES,
    JUDGE_ORDER,
    NamedSource,
    Question,
    QuestionBank,
    QuestionId,
    QuestionType,
    Skill,
    Source,
    Topic,
    TopicId,
    Verdict,
)
from .problems import Problem
from .yamlsource import LineDict, error_line, load_yaml

RETIRED_FILE = "_retired.yaml"
VOCABULARY_FILE = "_zh_hans_vocabulary.yaml"
SOURCES_FILE = "_sources.yaml"
USAGE_FILE = "_regional_usage.yaml"
JUDGE_OPTIONS_FILE = "_judge_options.yaml"
ID_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
TOPIC_PATTERN = re.compile(r"^[a-z0-9]+(?:_[a-z0-9]+)*$")
LANG_KEYS = {lang.value for lang in Lang}
QUESTION_KEYS = {
    "id",
    "topic",
    "type",
    "skill",
    "difficulty",
    "prompt",
    "options",
    "answer",
    "explanation",
    "source",
    "shuffle",
    "verdict",
}
SOURCE_KEYS = {"paragraph", "quote", "refs"}
NAMED_SOURCE_KEYS = {"id", "name", "title", "publisher", "date", "link"}


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadReport:
    """What loading produced: the bank (only when there are no problems), the problems, and notes."""

    bank: QuestionBank | None
    problems: tuple[Problem, ...]
    notes: tuple[str, ...]
    files: tuple[Path, ...]
    # What does not stop the bank from being served but fails `check` (e.g. a vocabulary word that never fires).
    lint: tuple[Problem, ...] = ()

    @property
    def ok(self) -> bool:
        return self.bank is not None

    def render(self) -> str:
        """The report as people read it: notes, then one line per problem, then a summary."""
        lines = [f"note: {note}" for note in self.notes]
        lines += [str(problem) for problem in self.problems]
        if self.problems:
            problems, files = len(self.problems), len(self.files)
            lines.append(f"{counted(problems, 'problem')} in {counted(files, 'file')}: the bank is not served")
        return "\n".join(lines)


def counted(n: int, noun: str) -> str:
    """ "1 problem", "2 problems": the command-line reports are English only (people, not locales, read them)."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


class BankInvalid(Exception):
    """Raised where a valid bank is required and loading found problems."""

    def __init__(self, report: LoadReport) -> None:
        super().__init__(report.render())
        self.report = report


class _Converter:
    """zh-Hant (Taiwan usage) -> zh-Hans (mainland usage); cached, since 對/錯 and option labels repeat a lot.

    Text goes through OpenCC's `tw2sp`, which converts Taiwan words with phrase tables (影片 -> 视频, 網路 -> 网络,
    資訊 -> 信息), then through the bank's short list of words tw2sp gets wrong, then mainland quotation marks.
    Article quotes go through `t2s` only: the article is mainland text in Traditional characters, and a quote is
    converted character by character, never reworded.
    """

    def __init__(self, vocabulary: dict[str, str] | None = None) -> None:
        self._tw2sp = opencc.OpenCC("tw2sp")
        self._t2s = opencc.OpenCC("t2s")
        self._cache: dict[tuple[str, bool], str] = {}
        self._vocabulary = vocabulary or {}
        self.used: set[str] = set()  # vocabulary words that fired, so `check` can name the ones that never do
        # Longest first, so a guard such as 电视频段 wins over 视频.
        words = sorted(self._vocabulary, key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, words))) if words else None

    def to_simplified(self, text: str, *, vocabulary: bool = True) -> str:
        key = (text, vocabulary)
        converted = self._cache.get(key)
        if converted is None:
            if vocabulary:
                converted = self._tw2sp.convert(text)
                if self._pattern is not None:
                    converted = self._pattern.sub(self._replace, converted)
                converted = converted.translate(_MAINLAND_QUOTES)
            else:
                converted = self._t2s.convert(text)
            self._cache[key] = converted
        return converted

    def _replace(self, match: re.Match[str]) -> str:
        self.used.add(match.group())
        return self._vocabulary[match.group()]


# Taiwan writes 「」『』, the mainland “”‘’ (GB/T 15834); quotes from the article already use “”.
_MAINLAND_QUOTES = str.maketrans({"「": "“", "」": "”", "『": "‘", "』": "’"})


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
    sources: dict[str, NamedSource] = field(default_factory=dict)
    source_lines: dict[str, str] = field(default_factory=dict)
    cited: set[str] = field(default_factory=set)
    usage: dict[Lang, dict[str, str]] = field(default_factory=dict)
    judge_options: tuple[Localized, ...] | None = None  # in JUDGE_ORDER, from _judge_options.yaml


@dataclass(frozen=True, slots=True, kw_only=True)
class BankFiles:
    """The files of a bank by role: topics, and the `_`-prefixed files that serve them."""

    topics: list[Path]
    retired: list[Path]
    vocabulary: list[Path]
    sources: list[Path]
    usage: list[Path]
    judge_options: list[Path]
    missing: list[str]


def discover(paths: Iterable[Path]) -> BankFiles:
    """The bank's files among `paths` (folders: their *.yaml). A topic file named on its own still gets the
    `_`-prefixed files of its folder, so `check questions/one.yaml` resolves its sources like the whole bank."""
    found = BankFiles(topics=[], retired=[], vocabulary=[], sources=[], usage=[], judge_options=[], missing=[])
    roles = {
        RETIRED_FILE: found.retired,
        VOCABULARY_FILE: found.vocabulary,
        SOURCES_FILE: found.sources,
        USAGE_FILE: found.usage,
        JUDGE_OPTIONS_FILE: found.judge_options,
    }
    seen: set[Path] = set()

    def add(candidate: Path) -> None:
        if candidate.resolve() in seen:
            return
        seen.add(candidate.resolve())
        role = roles.get(candidate.name)
        if role is not None:
            role.append(candidate)
        elif not candidate.name.startswith("_"):
            found.topics.append(candidate)

    for path in paths:
        if path.is_dir():
            for candidate in sorted([*path.glob("*.yaml"), *path.glob("*.yml")]):
                add(candidate)
        elif path.is_file():
            add(path)
            if not path.name.startswith("_"):
                for name in roles:
                    if (path.parent / name).is_file():
                        add(path.parent / name)
        else:
            found.missing.append(str(path))
    return found


def load_bank(paths: Sequence[Path], *, article: Article | None, root: Path | None = None) -> LoadReport:
    """Load every topic file under `paths` and validate it against the article (when given).

    `root` only shortens file names in the report.
    """
    files = discover(paths)
    collector = _Collector()
    for name in files.missing:
        collector.problems.append(Problem(file=name, line=0, question_id="-", message="no such file or folder"))
    if not files.topics and not files.missing:
        collector.problems.append(
            Problem(file=", ".join(map(str, paths)), line=0, question_id="-", message="no question files found")
        )
    if article is None:
        collector.notes.append("article not available: quotes were NOT checked against it")
    vocabulary: dict[str, str] = {}
    vocabulary_lines: dict[str, str] = {}
    for path in files.vocabulary:
        words = _load_vocabulary(path, _display(path, root), collector)
        vocabulary.update({word: value for word, (value, _) in words.items()})
        vocabulary_lines.update({word: f"{_display(path, root)}:{line}" for word, (_, line) in words.items()})
    converter = _Converter(vocabulary)
    for path in files.usage:
        _load_usage(path, _display(path, root), collector)
    for path in files.sources:
        _load_sources(path, _display(path, root), converter, collector)
    for path in files.retired:
        _load_retired(path, _display(path, root), collector)
    for path in files.judge_options:
        _load_judge_options(path, _display(path, root), converter, collector)
    for path in files.topics:
        _load_topic_file(path, _display(path, root), article, converter, collector)
    lint: list[Problem] = []
    if len(files.topics) > 1 or any(p.is_dir() for p in paths):
        # Only a whole bank can tell that a source is never cited, or that a vocabulary word never fires.
        for word in sorted(set(vocabulary) - converter.used):
            if vocabulary[word] != word:  # a guard (a word mapped to itself) fires only when the text needs it
                lint.append(
                    Problem.at(vocabulary_lines[word], word, "vocabulary word never fires in the bank: remove it")
                )
        for source_id in sorted(set(collector.sources) - collector.cited):
            file, line = collector.source_lines[source_id].rsplit(":", 1)
            collector.problems.append(
                Problem(file=file, line=int(line), question_id=source_id, message="source is never cited: remove it")
            )
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
    collector.problems += bank_wide_problems(collector.questions, collector.usage)
    all_files = tuple(
        files.topics + files.retired + files.vocabulary + files.sources + files.usage + files.judge_options
    )
    if collector.problems:
        return LoadReport(bank=None, problems=tuple(collector.problems), notes=tuple(collector.notes), files=all_files)
    bank = QuestionBank(
        questions=tuple(collector.questions),
        topics=tuple(collector.topics),
        retired=frozenset(QuestionId(qid) for qid in collector.retired),
        sources=tuple(collector.sources.values()),
    )
    return LoadReport(bank=bank, problems=(), notes=tuple(collector.notes), files=all_files, lint=tuple(lint))


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


def _id_entries(
    path: Path, display: str, collector: _Collector, *, key: str, shape: str, each: str
) -> Iterator[tuple[_FileContext, LineDict]]:
    """The entries of a `key:` list of mappings with an `id`, each with a context that reports against that id."""
    ctx = _FileContext(path=path, display=display, problems=collector.problems)
    data = _read(path, ctx)
    if data is None:
        return
    entries = data.get(key) if isinstance(data, dict) else None
    if not isinstance(entries, list):
        ctx.add(getattr(data, "line", 1), f"expected a mapping with a `{key}:` list of {shape}")
        return
    for entry in entries:
        if not isinstance(entry, LineDict) or not isinstance(entry.get("id"), str):
            ctx.add(getattr(entry, "line", 1), f"each {each} needs an `id`")
            continue
        ctx.question_id = entry["id"] if ID_PATTERN.match(entry["id"]) else repr(entry["id"])
        yield ctx, entry
        ctx.question_id = "-"


def _load_retired(path: Path, display: str, collector: _Collector) -> None:
    for ctx, entry in _id_entries(path, display, collector, key="retired", shape="{id, reason}", each="retired entry"):
        if not isinstance(entry.get("reason"), str) or not entry["reason"].strip():
            ctx.add(entry.line, "a retired id needs a `reason`")
        collector.retired[entry["id"]] = f"{display}:{entry.line}"


def _load_sources(path: Path, display: str, converter: _Converter, collector: _Collector) -> None:
    sources = _id_entries(path, display, collector, key="sources", shape="{id, name, title, ...}", each="source")
    for ctx, entry in sources:
        source_id = entry["id"]
        _check_keys(entry, NAMED_SOURCE_KEYS, ctx, "source")
        ok = bool(ID_PATTERN.match(source_id))
        if not ok:
            ctx.add(entry.line_of("id"), "source id must be lower-kebab-case")
        if source_id in collector.sources:
            ctx.add(entry.line_of("id"), f"duplicate source id (first defined at {collector.source_lines[source_id]})")
            ok = False
        name = _localized(entry.get("name"), entry.line_of("name"), "name", ctx, converter)
        texts: dict[str, str] = {}
        for key in ("title", "publisher", "date", "link"):
            value = entry.get(key)
            # YAML reads 2024-02-15 as a date and 2017 as a number: both are fine as text here.
            text = str(value).strip() if isinstance(value, str | int | datetime.date) else ""
            if not text or isinstance(value, bool):
                ctx.add(entry.line_of(key), f"source: missing `{key}`")
                ok = False
            texts[key] = text
        if texts["link"] and not texts["link"].startswith("https://"):
            ctx.add(entry.line_of("link"), "source: `link` must be an https:// address")
            ok = False
        if ok and name is not None:
            collector.sources[source_id] = NamedSource(id=source_id, name=name, **texts)
            collector.source_lines[source_id] = f"{display}:{entry.line}"


def _load_judge_options(path: Path, display: str, converter: _Converter, collector: _Collector) -> None:
    """The two answers every `judge` item offers; written once so every item words them the same."""
    ctx = _FileContext(path=path, display=display, problems=collector.problems)
    data = _read(path, ctx)
    if data is None:
        return
    if not isinstance(data, LineDict):
        ctx.add(1, f"expected {', '.join(f'`{v.value}:`' for v in JUDGE_ORDER)}, each with its text per language")
        return
    _check_keys(data, {v.value for v in JUDGE_ORDER}, ctx, JUDGE_OPTIONS_FILE)
    options = []
    for verdict in JUDGE_ORDER:
        if verdict.value not in data:
            ctx.add(data.line, f"missing `{verdict.value}:`")
            return
        option = _localized(data[verdict.value], data.line_of(verdict.value), verdict.value, ctx, converter)
        if option is None:
            return
        options.append(option)
    collector.judge_options = tuple(options)


def _load_usage(path: Path, display: str, collector: _Collector) -> None:
    """Words each Chinese script must not use (the other region's usage), with the word to use instead."""
    ctx = _FileContext(path=path, display=display, problems=collector.problems)
    data = _read(path, ctx)
    if data is None:
        return
    for lang in (Lang.ZH_HANT, Lang.ZH_HANS):
        words = data.get(lang.value) if isinstance(data, dict) else None
        if not isinstance(words, LineDict) or not all(isinstance(v, str) and v for v in words.values()):
            ctx.add(getattr(data, "line", 1), f"expected `{lang.value}:` mapping words to avoid to the word to use")
            continue
        for key, line in words.duplicate_keys:
            ctx.add(line, f"{lang.value}: {key!r} appears twice")
        collector.usage.setdefault(lang, {}).update({k: v for k, v in words.items() if k.strip()})


def _load_vocabulary(path: Path, display: str, collector: _Collector) -> dict[str, tuple[str, int]]:
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
    return {key: (value, words.line_of(key)) for key, value in words.items() if key.strip()}


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
        qtype = QuestionType(str(raw.get("type")))
    except ValueError:
        ctx.add(raw.line_of("type"), f"type must be one of: {', '.join(QuestionType)}")
        qtype = None
    try:
        skill = Skill(str(raw.get("skill")))
    except ValueError:
        ctx.add(raw.line_of("skill"), f"skill must be one of: {', '.join(Skill)}")
        skill = None
    difficulty = raw.get("difficulty")
    if isinstance(difficulty, bool) or not isinstance(difficulty, int) or not 1 <= difficulty <= 3:
        ctx.add(raw.line_of("difficulty"), "difficulty must be 1, 2 or 3")
        ok = False
    prompt = _localized(raw.get("prompt"), raw.line_of("prompt"), "prompt", ctx, converter)
    explanation = _localized(raw.get("explanation"), raw.line_of("explanation"), "explanation", ctx, converter)
    verdict: Verdict | None = None
    answer: Any
    if qtype is QuestionType.JUDGE:
        options, answer, verdict = _judge(raw, skill, ctx, collector)
        ok = ok and verdict is not None
    else:
        if "verdict" in raw:
            ctx.add(raw.line_of("verdict"), "only a `judge` item has a verdict")
            ok = False
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
    elif shuffle and qtype is QuestionType.JUDGE:
        ctx.add(raw.line_of("shuffle"), "a judge item's two answers keep their order (genuine, then manipulated)")
        ok = False
    source = _source(raw, article, converter, ctx, collector)
    if not ok or None in (qtype, skill, prompt, explanation, options, source, topic):
        return None
    assert prompt is not None and explanation is not None and options is not None  # narrowed above
    assert topic is not None and qtype is not None and source is not None and skill is not None
    assert isinstance(qid, str) and isinstance(difficulty, int) and isinstance(answer, int)
    poll_langs = frozenset(
        lang
        for lang in Lang
        if not poll_misfits(prompt.get(lang), [o.get(lang) for o in options], explanation.get(lang))
    )
    return Question(
        id=QuestionId(qid),
        topic=topic.id,
        type=qtype,
        skill=skill,
        difficulty=difficulty,
        prompt=prompt,
        options=options,
        answer=answer,
        explanation=explanation,
        source=source,
        shuffle=shuffle,
        poll_langs=poll_langs,
        location=f"{ctx.display}:{raw.line}",
        verdict=verdict,
    )


def _judge(
    raw: LineDict, skill: Skill | None, ctx: _FileContext, collector: _Collector
) -> tuple[tuple[Localized, ...] | None, int, Verdict | None]:
    """A `judge` item's options (the bank's two fixed answers), its answer index and its verdict."""
    for key in ("options", "answer"):
        if key in raw:
            ctx.add(raw.line_of(key), f"a judge item has no `{key}`: its answers come from {JUDGE_OPTIONS_FILE}")
    if skill is not None and skill is not Skill.JUDGMENT:
        ctx.add(raw.line_of("skill"), "a judge item's skill is judgment")
    try:
        verdict: Verdict | None = Verdict(str(raw.get("verdict")))
    except ValueError:
        ctx.add(raw.line_of("verdict"), f"verdict must be one of: {', '.join(JUDGE_ORDER)}")
        verdict = None
    if collector.judge_options is None:
        ctx.add(raw.line, f"judge items need {JUDGE_OPTIONS_FILE} beside the topic files (their two answers)")
        return None, 0, None
    answer = JUDGE_ORDER.index(verdict) if verdict is not None else 0
    return collector.judge_options, answer, verdict


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


def _source(
    raw: LineDict, article: Article | None, converter: _Converter, ctx: _FileContext, collector: _Collector
) -> Source | None:
    data = raw.get("source")
    line = raw.line_of("source")
    if not isinstance(data, LineDict):
        ctx.add(line, "source: expected a mapping with `paragraph` + `quote` and/or `refs`")
        return None
    if "facts" in data:
        ctx.add(data.line_of("facts"), "source.facts is gone: cite named sources with `refs` (questions/_sources.yaml)")
        return None
    _check_keys(data, SOURCE_KEYS, ctx, "source")
    paragraph = data.get("paragraph")
    ref_ids = data.get("refs", [])
    ok = True
    if not isinstance(ref_ids, list) or not all(isinstance(r, str) for r in ref_ids):
        ctx.add(data.line_of("refs"), "source.refs must be a list of source ids from _sources.yaml")
        ref_ids, ok = [], False
    refs: list[NamedSource] = []
    for ref in ref_ids:
        collector.cited.add(ref)
        if ref in collector.sources:
            refs.append(collector.sources[ref])
        else:
            ctx.add(data.line_of("refs"), f"unknown source {ref!r}: define it in {SOURCES_FILE}")
            ok = False
    if len(set(ref_ids)) != len(ref_ids):
        ctx.add(data.line_of("refs"), "source.refs names a source twice")
        ok = False
    has_quote = "quote" in data
    if (paragraph is None) != (not has_quote):
        ctx.add(line, "source: `paragraph` and `quote` go together")
        return None
    if paragraph is None and not ref_ids:
        ctx.add(line, "source: needs `paragraph` + `quote` from the article, or `refs` to named sources")
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
    return Source(paragraph=paragraph, quote=quote, refs=tuple(refs))


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
