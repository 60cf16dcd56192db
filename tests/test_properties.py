"""Property tests: the callback-data codec and the YAML question-bank loader against generated and hostile input.

Callback data comes back from the client and can be anything; the bank is written by people. Neither may crash
the bot: `parse` returns None for what `encode` did not make, and `load_bank` reports problems instead of raising.
"""

from __future__ import annotations

import re
import string
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from bot.core.article import Article
from bot.core.drill import DrillMode, DrillRound
from bot.core.engine import Confidence
from bot.core.lang import Lang
from bot.core.loader import LoadReport, Problem, load_bank
from bot.telegram import callbacks as cb
from bot.telegram.callbacks import DRILL_PATTERN, GROUP_KINDS, GROUP_PATTERN, Action, Kind, MenuItem, WizardState
from tests.conftest import ARTICLE_TEXT, question_yaml, topic_yaml

FAST = settings(max_examples=200, deadline=None)
FEW = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# ---------------------------------------------------------------------------------------------- the codec

SESSIONS = st.text(alphabet=string.ascii_letters + string.digits + "_-", min_size=1, max_size=22)
POSITIONS = st.integers(0, 999)  # a:/c:/n: positions: up to 3 digits
LIVE_POSITIONS = st.integers(0, 99)  # e:/h: positions: up to 2 digits (a drill has at most 99 questions)
OPTIONS = st.integers(0, 11)  # a question has 2 to 12 options
CONFIDENCES = st.sampled_from([*Confidence, None])
MENU_ITEMS = st.sampled_from(list(MenuItem))
LANGS = st.sampled_from(list(Lang))
TOPIC_IDS = st.from_regex(r"[a-z0-9_]{1,40}", fullmatch=True)
TEACHER_MOVES = st.sampled_from(list(cb.TeacherMove))
ROUNDS = st.sampled_from(list(DrillRound))
WIZARDS = st.builds(
    WizardState,
    topics=st.integers(0, 0xFFFF),
    count=st.integers(0, 99),
    seconds=st.integers(0, 999),
    mode=st.sampled_from(list(DrillMode)),
    days=st.integers(0, 99),
    pair=st.booleans(),
    retest=st.integers(0, 99),
    step=st.integers(0, 9),
    judgment=st.integers(0, 99),
    screen=st.integers(0, 3),
)
DRILL_KINDS = frozenset({Kind.WIZARD, Kind.TEACHER, Kind.LIVE_CHOICE, Kind.LIVE_RATING, Kind.SELF_START})


def _pair(kind: Kind, encode: Callable[..., str], **fields: st.SearchStrategy[Any]) -> st.SearchStrategy:
    """(encoded data, the Action parse must give back) for generated field values."""

    def build(values: dict[str, Any]) -> tuple[str, Action]:
        return encode(**values), _expected(kind, values)

    return st.fixed_dictionaries(fields).map(build)


def _expected(kind: Kind, values: dict[str, Any]) -> Action:
    """The Action that the encode helper's arguments stand for."""
    if kind is Kind.WIZARD:
        return Action(kind=kind, wizard=values["state"])
    fields: dict[str, Any] = {}
    if "session_id" in values:
        fields["session_id"] = values["session_id"]
    for name in ("position", "level"):
        if name in values:
            fields["confidence" if name == "level" else name] = values[name]
    if "shown" in values:
        fields["option"] = values["shown"]
    for name in ("item", "topic_id", "lang"):
        if name in values:
            fields["value"] = str(values[name])
    if "move" in values:
        fields["move"] = values["move"]
    if "round_" in values:
        fields["round"] = values["round_"]
    if "confirm" in values:
        fields["value"] = "yes" if values["confirm"] else "no"
    return Action(kind=kind, **fields)


ENCODED: dict[Kind, st.SearchStrategy[tuple[str, Action]]] = {
    Kind.ANSWER: _pair(Kind.ANSWER, cb.answer, session_id=SESSIONS, position=POSITIONS, shown=OPTIONS),
    Kind.CONFIDENCE: _pair(Kind.CONFIDENCE, cb.confidence, session_id=SESSIONS, position=POSITIONS, level=CONFIDENCES),
    Kind.NEXT: _pair(Kind.NEXT, cb.next_step, session_id=SESSIONS, position=POSITIONS),
    Kind.MENU: _pair(Kind.MENU, cb.menu, item=MENU_ITEMS),
    Kind.TOPIC: _pair(Kind.TOPIC, cb.topic, topic_id=TOPIC_IDS),
    Kind.LANG: _pair(Kind.LANG, cb.language, lang=LANGS),
    Kind.FORGET: _pair(Kind.FORGET, cb.forget, confirm=st.booleans()),
    Kind.JOIN: _pair(Kind.JOIN, cb.join, session_id=SESSIONS),
    Kind.BEGIN: _pair(Kind.BEGIN, cb.begin, session_id=SESSIONS),
    Kind.GROUP_ANSWER: _pair(
        Kind.GROUP_ANSWER, cb.group_answer, session_id=SESSIONS, position=POSITIONS, shown=OPTIONS
    ),
    Kind.RESUME: _pair(Kind.RESUME, cb.resume, session_id=SESSIONS),
    Kind.GROUP_LANG: _pair(Kind.GROUP_LANG, cb.group_language, lang=LANGS),
    Kind.WIZARD: _pair(Kind.WIZARD, lambda state: state.encode(), state=WIZARDS),
    Kind.TEACHER: _pair(
        Kind.TEACHER,
        lambda session_id, move: cb.teacher(session_id, move),
        session_id=SESSIONS,
        move=TEACHER_MOVES,
    ),
    Kind.LIVE_CHOICE: _pair(
        Kind.LIVE_CHOICE,
        lambda session_id, round_, position, shown: cb.live_choice(session_id, round_, position, shown),
        session_id=SESSIONS,
        round_=ROUNDS,
        position=LIVE_POSITIONS,
        shown=OPTIONS,
    ),
    Kind.LIVE_RATING: _pair(
        Kind.LIVE_RATING,
        lambda session_id, round_, position, shown, level: cb.live_rating(session_id, round_, position, shown, level),
        session_id=SESSIONS,
        round_=ROUNDS,
        position=LIVE_POSITIONS,
        shown=OPTIONS,
        level=CONFIDENCES,
    ),
    Kind.SELF_START: _pair(
        Kind.SELF_START,
        lambda session_id, round_: cb.self_start(session_id, round_),
        session_id=SESSIONS,
        round_=ROUNDS,
    ),
}
ANY_ENCODED = st.one_of(*ENCODED.values())


def reencode(action: Action) -> str:
    """The data the encode helpers make for a parsed action (the inverse of `parse`)."""
    k, sid = action.kind, action.session_id
    if k is Kind.ANSWER:
        return cb.answer(sid, action.position, action.option)
    if k is Kind.CONFIDENCE:
        return cb.confidence(sid, action.position, action.confidence)
    if k is Kind.NEXT:
        return cb.next_step(sid, action.position)
    if k is Kind.MENU:
        return cb.menu(MenuItem(action.value))
    if k is Kind.TOPIC:
        return cb.topic(action.value)
    if k is Kind.LANG:
        return cb.language(Lang(action.value))
    if k is Kind.FORGET:
        assert action.value in ("yes", "no")
        return cb.forget(action.value == "yes")
    if k is Kind.JOIN:
        return cb.join(sid)
    if k is Kind.BEGIN:
        return cb.begin(sid)
    if k is Kind.GROUP_ANSWER:
        return cb.group_answer(sid, action.position, action.option)
    if k is Kind.RESUME:
        return cb.resume(sid)
    if k is Kind.GROUP_LANG:
        return cb.group_language(Lang(action.value))
    if k is Kind.WIZARD:
        assert action.wizard is not None
        return action.wizard.encode()
    if k is Kind.TEACHER:
        assert action.move is not None
        return cb.teacher(sid, action.move)
    if k is Kind.LIVE_CHOICE:
        assert action.round is not None
        return cb.live_choice(sid, action.round, action.position, action.option)
    if k is Kind.LIVE_RATING:
        assert action.round is not None
        return cb.live_rating(sid, action.round, action.position, action.option, action.confidence)
    assert k is Kind.SELF_START
    assert action.round is not None
    return cb.self_start(sid, action.round)


def test_every_kind_has_a_generator() -> None:
    assert set(ENCODED) == set(Kind)


@pytest.mark.parametrize("kind", list(Kind), ids=[k.name for k in Kind])
@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_encode_then_parse_round_trips_within_64_bytes(kind: Kind, data: st.DataObject) -> None:
    encoded, expected = data.draw(ENCODED[kind])
    assert len(encoded.encode("utf-8")) <= cb.MAX_BYTES
    assert cb.parse(encoded) == expected
    assert reencode(expected) == encoded
    # Routing by first letter agrees with the kind: group buttons to the group module, drill buttons to drills.
    assert bool(GROUP_PATTERN.match(encoded)) is (kind in GROUP_KINDS)
    assert bool(DRILL_PATTERN.match(encoded)) is (kind in DRILL_KINDS)


def test_the_longest_values_still_fit_in_64_bytes() -> None:
    sid = "x" * 22
    longest = [
        cb.answer(sid, 999, 11),
        cb.confidence(sid, 999, Confidence.PROBABLY),
        cb.group_answer(sid, 999, 11),
        cb.live_rating(sid, DrillRound.RETEST, 99, 11, Confidence.SURE),
        cb.topic("t" * 40),
        WizardState(
            topics=0xFFFF, count=99, seconds=999, mode=DrillMode.SELF_PACED, days=99, pair=True, retest=99, step=9
        ).encode(),
    ]
    for data in longest:
        assert len(data.encode()) <= cb.MAX_BYTES
        assert cb.parse(data) is not None, data


ODD_CHARACTERS = [
    "\x00",
    "\n",
    "\r",
    "\t",
    "\u200e",  # LEFT-TO-RIGHT MARK
    "\u200f",  # RIGHT-TO-LEFT MARK
    "\u202e",  # RIGHT-TO-LEFT OVERRIDE
    "\u2066",  # LEFT-TO-RIGHT ISOLATE
    "\u200b",  # ZERO WIDTH SPACE
    "\u200d",  # ZERO WIDTH JOINER
    "\ufeff",  # BOM
    "\u0301",  # COMBINING ACUTE ACCENT
    "\u2028",  # LINE SEPARATOR
    "\ud800",  # a lone surrogate (Telegram never sends one, Python strings can hold one)
    "\udfff",
    "\U0001f600",
    "\uff1a",  # FULLWIDTH COLON
    "\u0663",  # ARABIC-INDIC DIGIT THREE
    "\u00b2",  # SUPERSCRIPT TWO
    ":",
    ".",
    "0",
    "9",
]
ODD_SEQUENCES = ["\U0001f469\u200d\U0001f4bb", "e\u0301", "\u202eabc", "\r\n", "::", "\x00\x00"]
ODD_TEXT = st.text(alphabet=st.one_of(st.characters(), st.sampled_from(ODD_CHARACTERS)), max_size=80)
LONG_TEXT = st.text(min_size=60, max_size=5000)
# For files: everything above except lone surrogates, which no UTF-8 file can hold.
FILE_CHARS = st.characters(codec="utf-8")
FILE_TEXT = st.text(
    alphabet=st.one_of(FILE_CHARS, st.sampled_from([c for c in ODD_CHARACTERS if not "\ud800" <= c <= "\udfff"]))
)


@st.composite
def mutated(draw: st.DrawFn) -> str:
    """A valid encoding with one hostile edit: a character inserted, replaced or deleted, or cut short."""
    data, _ = draw(ANY_ENCODED)
    how = draw(st.sampled_from(["insert", "replace", "delete", "truncate", "append", "prepend", "double"]))
    index = draw(st.integers(0, len(data)))
    char = draw(st.one_of(st.sampled_from(ODD_CHARACTERS + ODD_SEQUENCES), st.characters()))
    if how == "insert":
        return data[:index] + char + data[index:]
    if how == "replace":
        return data[:index] + char + data[index + 1 :]
    if how == "delete":
        return data[:index] + data[index + 1 :]
    if how == "truncate":
        return data[:index]
    if how == "append":
        return data + char
    if how == "prepend":
        return char + data
    return data + data


HOSTILE_TEXT = st.one_of(ODD_TEXT, LONG_TEXT, mutated(), st.text())
NON_STRINGS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.binary(max_size=80),
    st.lists(st.text(max_size=5), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=3),
    st.just(object()),
    st.just(b"a:abc:1:2"),
    st.just(bytearray(b"m:quick")),
)


@FAST
@given(data=st.one_of(HOSTILE_TEXT, NON_STRINGS))
def test_parse_never_raises_and_returns_none_or_an_action(data: object) -> None:
    parsed = cb.parse(data)
    assert parsed is None or isinstance(parsed, Action)
    if parsed is not None:
        assert isinstance(data, str)
        assert len(data.encode("utf-8", "surrogatepass")) <= cb.MAX_BYTES


# The three ways `parse` is laxer than `encode` (each has its own xfail test below). The canonical-form
# property is checked on everything else.
_NEWLINE_END = re.compile(r"\n\Z")
_LEADING_ZERO = re.compile(r"[:.]0[0-9a-f]")


def _known_lax(data: str) -> bool:
    non_ascii_digit = any(ch.isdecimal() and ch not in string.digits for ch in data)
    return bool(_NEWLINE_END.search(data) or _LEADING_ZERO.search(data)) or non_ascii_digit


@FAST
@given(data=HOSTILE_TEXT)
def test_whatever_parse_accepts_re_encodes_to_exactly_the_input(data: str) -> None:
    assume(not _known_lax(data))
    parsed = cb.parse(data)
    if parsed is not None:
        assert reencode(parsed) == data


@settings(max_examples=50, deadline=None)
@given(pair=ANY_ENCODED)
@example(pair=("m:quick", None))
def test_parse_rejects_a_trailing_newline(pair: tuple[str, Action | None]) -> None:
    data, _ = pair
    assert cb.parse(data + "\n") is None


@settings(max_examples=50, deadline=None)
@given(pair=st.one_of(ENCODED[Kind.ANSWER], ENCODED[Kind.NEXT], ENCODED[Kind.WIZARD]), digit=st.sampled_from("٣३৩۳٣"))
@example(pair=("a:abc:3:1", None), digit="\u0663")
def test_parse_rejects_non_ascii_digits(pair: tuple[str, Action | None], digit: str) -> None:
    data, _ = pair
    last = max(i for i, ch in enumerate(data) if ch.isdigit() and data[i - 1] in ":.")
    assert cb.parse(data[:last] + digit + data[last + 1 :]) is None


@settings(max_examples=50, deadline=None)
@given(pair=st.one_of(ENCODED[Kind.ANSWER], ENCODED[Kind.CONFIDENCE], ENCODED[Kind.NEXT]))
@example(pair=("a:abc:7:1", None))
def test_parse_rejects_leading_zeros(pair: tuple[str, Action | None]) -> None:
    data, _ = pair
    kind, session, rest = data.split(":", 2)
    padded = f"{kind}:{session}:0{rest}"  # the position, one zero in front
    assume(len(padded.encode()) <= cb.MAX_BYTES)
    assert cb.parse(padded) is None


# ---------------------------------------------------------------------------------------------- the loader

PROBLEM_LINE = re.compile(r"^(?P<file>[^\n]+):(?P<line>[0-9]+): (?P<id>.*): (?P<message>[^\n]+)\Z", re.DOTALL)
BANK_FILES = [
    "alpha.yaml",
    "beta.yml",
    "_retired.yaml",
    "_zh_hans_vocabulary.yaml",
    "_sources.yaml",
    "_regional_usage.yaml",
]
VALID_TOPIC = topic_yaml(
    "alpha",
    [
        question_yaml("alpha-one"),
        question_yaml("alpha-tf", qtype="true_false", options=("對", "錯"), answer=1),
    ],
)


@pytest.fixture(scope="module")
def article() -> Article:  # module-scoped: hypothesis re-runs the test body, not function fixtures
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "article.txt"
        path.write_text(ARTICLE_TEXT, encoding="utf-8")
        return Article.load(path)


def load(files: dict[str, str | bytes], article: Article | None) -> tuple[LoadReport, list[str]]:
    """Write `files` into a fresh folder and load it as a bank; returns the report and the file names."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for name, content in files.items():
            if isinstance(content, bytes):
                (folder / name).write_bytes(content)
            else:
                (folder / name).write_text(content, encoding="utf-8")
        report = load_bank([folder], article=article)
        return report, [str(folder / name) for name in files] + [str(folder)]


def check_report(report: LoadReport, names: list[str]) -> None:
    """The loader's contract: Problem objects in `file:line: id: message` form, and no bank when there are any."""
    assert isinstance(report, LoadReport)
    assert (report.bank is None) is bool(report.problems)
    for problem in report.problems:
        assert isinstance(problem, Problem)
        assert isinstance(problem.line, int) and problem.line >= 0
        assert isinstance(problem.question_id, str) and isinstance(problem.message, str)
        assert problem.file in names, problem.file
        text = str(problem)
        match = PROBLEM_LINE.match(text)
        assert match is not None, text
        assert text == f"{problem.file}:{problem.line}: {problem.question_id}: {problem.message}"
    report.render()  # renders without raising


YAML_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(FILE_CHARS, max_size=30),
    st.sampled_from(["yes", "No", "~", "null", ".nan", "1.0", "0x1F", "2001-12-14", "<<", "*a", "&a", ""]),
)
YAML_VALUES = st.recursive(
    YAML_SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(
            st.one_of(st.text(FILE_CHARS, max_size=10), st.integers(), st.booleans(), st.none()), children, max_size=4
        ),
    ),
    max_leaves=20,
)
KEY_WORDS = st.sampled_from(
    [
        *("topic", "questions", "id", "title", "zh-Hant", "zh-Hans", "en", "type", "difficulty", "prompt", "options"),
        *("answer", "explanation", "source", "paragraph", "quote", "refs", "shuffle", "retired", "reason"),
        *("skill", "sources", "name", "publisher", "link", "date"),
        "vocabulary",
    ]
)
# Structures shaped like a bank file, with arbitrary values where the loader expects particular ones.
BANKISH = st.recursive(
    YAML_SCALARS,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(KEY_WORDS, children, max_size=6)),
    max_leaves=30,
)


def dump(value: object) -> str:
    return yaml.safe_dump(value, allow_unicode=True, sort_keys=False)


@FAST
@given(name=st.sampled_from(BANK_FILES), text=st.one_of(st.text(FILE_CHARS), FILE_TEXT), with_article=st.booleans())
@example(name="alpha.yaml", text="[" * 3000 + "]" * 3000, with_article=True)
@example(name="alpha.yaml", text="a: &a [*a]\n", with_article=True)
@example(name="alpha.yaml", text="topic: !!python/object/apply:os.system ['true']\n", with_article=True)
@example(name="_retired.yaml", text="retired:\n  - id: x\n  - [1]\n  - {id: [1]}\n", with_article=True)
@example(name="_zh_hans_vocabulary.yaml", text="vocabulary: {a: [1], b: ''}\n", with_article=True)
@example(name="alpha.yaml", text="\ufefftopic: 1\n---\nb: 2\n", with_article=False)
def test_loader_survives_arbitrary_text(article: Article, name: str, text: str, with_article: bool) -> None:
    report, names = load({name: text}, article if with_article else None)
    check_report(report, names)


@FAST
@given(name=st.sampled_from(BANK_FILES), data=st.binary(max_size=200))
@example(name="alpha.yaml", data=b"\xff\xfe\x00t\x00o\x00p")
def test_loader_survives_arbitrary_bytes(article: Article, name: str, data: bytes) -> None:
    report, names = load({name: data}, article)
    check_report(report, names)


@FAST
@given(name=st.sampled_from(BANK_FILES), value=st.one_of(YAML_VALUES, BANKISH), with_article=st.booleans())
def test_loader_survives_arbitrary_structures(article: Article, name: str, value: object, with_article: bool) -> None:
    report, names = load({name: dump(value)}, article if with_article else None)
    check_report(report, names)


def _paths(node: object, prefix: tuple = ()) -> list[tuple]:
    """Every key/index path into a parsed YAML document."""
    found = []
    if isinstance(node, dict):
        for key, child in node.items():
            found.append((*prefix, key))
            found += _paths(child, (*prefix, key))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            found.append((*prefix, index))
            found += _paths(child, (*prefix, index))
    return found


VALID_DOC = yaml.safe_load(VALID_TOPIC)
VALID_PATHS = _paths(VALID_DOC)


@st.composite
def broken_topic_file(draw: st.DrawFn) -> str:
    """The valid topic file with one field (at any depth) deleted or replaced by an arbitrary value."""
    doc = yaml.safe_load(VALID_TOPIC)
    path = draw(st.sampled_from(VALID_PATHS))
    parent = doc
    for step in path[:-1]:
        parent = parent[step]
    if draw(st.booleans()):
        del parent[path[-1]]
    else:
        parent[path[-1]] = draw(st.one_of(YAML_VALUES, BANKISH))
    return dump(doc)


def test_the_unbroken_file_is_valid(article: Article) -> None:
    report, names = load({"alpha.yaml": dump(VALID_DOC)}, article)
    assert report.problems == () and report.bank is not None and len(report.bank) == 2
    check_report(report, names)


@FAST
@given(text=broken_topic_file(), with_article=st.booleans())
def test_loader_survives_a_valid_file_with_one_field_broken(article: Article, text: str, with_article: bool) -> None:
    report, names = load({"alpha.yaml": text}, article if with_article else None)
    check_report(report, names)


@FEW
@given(text=broken_topic_file(), retired=YAML_VALUES, vocabulary=YAML_VALUES)
def test_loader_survives_broken_files_side_by_side(
    article: Article, text: str, retired: object, vocabulary: object
) -> None:
    files: dict[str, str | bytes] = {
        "alpha.yaml": text,
        "beta.yaml": VALID_TOPIC.replace("alpha", "beta"),
        "_retired.yaml": dump({"retired": retired}),
        "_zh_hans_vocabulary.yaml": dump({"vocabulary": vocabulary}),
    }
    report, names = load(files, article)
    check_report(report, names)


def test_a_problem_stays_on_one_line_whatever_the_id(article: Article) -> None:
    forged = "x\nalpha.yaml:1: fake: looks like another problem"
    text = VALID_TOPIC.replace("- id: alpha-one", f"- id: {yaml.safe_dump(forged).strip()}", 1)
    assert yaml.safe_load(text)["questions"][0]["id"] == forged
    report, _ = load({"alpha.yaml": text}, article)
    assert report.problems
    for problem in report.problems:
        assert "\n" not in str(problem), str(problem)
    assert len(report.render().splitlines()) == len(report.problems) + 1  # + the summary line


def test_an_empty_vocabulary_word_is_reported_not_applied(article: Article) -> None:
    report, _ = load({"alpha.yaml": VALID_TOPIC, "_zh_hans_vocabulary.yaml": 'vocabulary:\n  "": X\n'}, article)
    if report.bank is not None:
        prompt = report.bank.get("alpha-one").prompt.zh_hans
        assert "X" not in prompt, prompt
    assert report.problems
