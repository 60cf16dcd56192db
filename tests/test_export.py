"""`python -m bot export`: every format in every language is parsed back and compared with the bank.

No QTI schema check: the IMS XSDs can't be fetched here (no internet but package registries) and no copy ships with
the project, so the QTI tests check what a schema would catch that matters on import: the namespaces, unique
identifiers, every manifest resource present in the zip, the correct response naming one of the item's choices.
"""

from __future__ import annotations

import csv
import io
import os
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from bot.__main__ import main
from bot.config import load_settings
from bot.core.article import Article
from bot.core.lang import Lang
from bot.core.loader import load_bank
from bot.core.model import Question, QuestionBank
from bot.i18n.export import (
    CP_NS,
    QTI_NS,
    ExportFormat,
    csv_columns,
    export_bank,
    gift_escape,
    source_text,
)
from bot.services.bank import open_bank
from tests.conftest import question_yaml, topic_yaml

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
LANGS = list(Lang)


@pytest.fixture(scope="module")
def bank() -> QuestionBank:
    """The real bank (the article is only needed to check quotes: without it the bank still loads)."""
    settings = load_settings({k: v for k, v in os.environ.items() if k in ("ARTICLE_PATH", "QUESTIONS_PATH")})
    return open_bank([settings.questions_path], settings.article_path)


def html_text(text: str) -> str:
    """How a bank text appears inside the HTML fields (escaped, line breaks as <br>)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\n", "<br>")


# --- a small GIFT reader, enough for what the exporter writes ------------------------------------------------------


@dataclass
class GiftQuestion:
    title: str
    prompt: str
    options: list[str]
    right: list[int]
    feedback: str
    category: str


def gift_split(text: str, separators: str) -> list[tuple[str, str]]:
    """Cut `text` before each unescaped separator character: [(separator or "", piece)], unescaping the pieces."""
    parts: list[tuple[str, str]] = []
    mark, piece, i = "", "", 0
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text):
            following = text[i + 1]
            piece += "\n" if following == "n" else following
            i += 2
            continue
        if char in separators:
            parts.append((mark, piece))
            mark, piece = char, ""
        else:
            piece += char
        i += 1
    parts.append((mark, piece))
    return parts


def unescaped_index(text: str, char: str) -> int:
    """Where `char` first occurs unescaped in GIFT text (-1 if nowhere)."""
    i = 0
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == char:
            return i
        i += 1
    return -1


def parse_gift(text: str) -> list[GiftQuestion]:
    questions: list[GiftQuestion] = []
    category = ""
    for block in re.split(r"\n\s*\n", text):
        lines = [line for line in block.splitlines() if not line.startswith("//")]
        body = "\n".join(lines).strip()
        if not body:
            continue
        if body.startswith("$CATEGORY:"):
            category = body.removeprefix("$CATEGORY:").strip()
            continue
        assert body.startswith("::"), body
        title_end = body.index("::", 2)
        while body[title_end - 1] == "\\":  # an escaped colon inside the title
            title_end = body.index("::", title_end + 1)
        title = gift_split(body[2:title_end], "")[0][1]
        rest = body[title_end + 2 :]
        open_at = unescaped_index(rest, "{")
        close_at = len(rest) - 1
        assert rest[close_at] == "}", rest
        prompt = gift_split(rest[:open_at].strip(), "")[0][1]
        answers = rest[open_at + 1 : close_at]
        feedback_at = answers.find("####")
        while feedback_at > 0 and answers[feedback_at - 1] == "\\":
            feedback_at = answers.find("####", feedback_at + 1)
        feedback = gift_split(answers[feedback_at + 4 :].strip(), "")[0][1] if feedback_at >= 0 else ""
        choices = [(mark, piece.strip()) for mark, piece in gift_split(answers[:feedback_at], "=~") if mark]
        questions.append(
            GiftQuestion(
                title=title,
                prompt=prompt,
                options=[piece for _, piece in choices],
                right=[n for n, (mark, _) in enumerate(choices) if mark == "="],
                feedback=feedback,
                category=category,
            )
        )
    return questions


# --- every format, every language, the real bank -------------------------------------------------------------------


def feedback_of(question: Question, lang: Lang) -> str:
    return f"{question.explanation.get(lang)}\n\n{source_text(question, lang)}".rstrip()


@pytest.mark.parametrize("lang", LANGS)
def test_gift_reads_back_as_the_bank(bank: QuestionBank, lang: Lang) -> None:
    text = export_bank(bank, ExportFormat.GIFT, lang).decode("utf-8")
    parsed = parse_gift(text)
    assert [g.title for g in parsed] == [q.id for t in bank.topics for q in bank.in_topic(t.id)]
    assert len(parsed) == len(bank)
    for read in parsed:
        question = bank.get(read.title)
        assert question is not None
        topic = bank.topic(question.topic)
        assert topic is not None
        assert read.category.endswith("/Deepfake quiz/" + topic.title.get(lang))
        assert read.prompt == question.prompt.get(lang)
        assert read.options == [o.get(lang) for o in question.options]
        assert read.right == [question.answer]
        assert read.feedback == feedback_of(question, lang)


@pytest.mark.parametrize("lang", LANGS)
def test_moodle_xml_is_well_formed_with_one_right_answer_each(bank: QuestionBank, lang: Lang) -> None:
    root = ET.fromstring(export_bank(bank, ExportFormat.MOODLE_XML, lang))
    assert root.tag == "quiz"
    categories = [q.findtext("category/text") for q in root.findall("question[@type='category']")]
    assert categories == [f"$course$/top/Deepfake quiz/{t.title.get(lang)}" for t in bank.topics]
    items = root.findall("question[@type='multichoice']")
    assert len(items) == len(bank)
    for item in items:
        question = bank.get(item.findtext("name/text") or "")
        assert question is not None
        assert item.findtext("questiontext/text") == f"<p>{html_text(question.prompt.get(lang))}</p>"
        assert item.findtext("single") == "true"
        assert item.findtext("shuffleanswers") == ("true" if question.shuffle else "false")
        answers = item.findall("answer")
        assert [a.findtext("text") for a in answers] == [html_text(o.get(lang)) for o in question.options]
        assert [a.get("fraction") for a in answers] == [
            "100" if n == question.answer else "0" for n in range(len(question.options))
        ]
        feedback = item.findtext("generalfeedback/text") or ""
        assert feedback.startswith(f"<p>{html_text(question.explanation.get(lang))}</p>")
        for ref in question.source.refs:
            assert f'href="{ref.link}"' in feedback and html_text(ref.name.get(lang)) in feedback
        if question.source.quote is not None:
            assert html_text(question.source.quote.get(lang)) in feedback


def q(tag: str) -> str:
    return f"{{{QTI_NS}}}{tag}"


@pytest.mark.parametrize("lang", LANGS)
def test_qti_package_has_a_valid_item_per_question(bank: QuestionBank, lang: Lang) -> None:
    package = zipfile.ZipFile(io.BytesIO(export_bank(bank, ExportFormat.QTI, lang)))
    manifest = ET.fromstring(package.read("imsmanifest.xml"))
    assert manifest.tag == f"{{{CP_NS}}}manifest"
    resources = manifest.findall(f"{{{CP_NS}}}resources/{{{CP_NS}}}resource")
    assert len(resources) == len(bank)
    assert len({r.get("identifier") for r in resources}) == len(resources)
    assert set(package.namelist()) == {"imsmanifest.xml", *(r.get("href") for r in resources)}
    seen: set[str] = set()
    for resource in resources:
        assert resource.get("type") == "imsqti_item_xmlv2p1"
        file = resource.find(f"{{{CP_NS}}}file")
        assert file is not None and file.get("href") == resource.get("href")
        item = ET.fromstring(package.read(str(resource.get("href"))))
        assert item.tag == q("assessmentItem") and item.get(XML_LANG) == lang.value
        identifier = str(item.get("identifier"))
        assert re.fullmatch(r"[A-Za-z_][\w.-]*", identifier) and identifier not in seen
        seen.add(identifier)
        question = bank.get(str(item.get("title")))
        assert question is not None
        declaration = item.find(q("responseDeclaration"))
        assert declaration is not None and declaration.get("cardinality") == "single"
        interaction = item.find(f"{q('itemBody')}/{q('choiceInteraction')}")
        assert interaction is not None
        assert interaction.get("responseIdentifier") == declaration.get("identifier")
        assert interaction.get("maxChoices") == "1"
        assert interaction.get("shuffle") == ("true" if question.shuffle else "false")
        prompt = interaction.find(q("prompt"))
        assert prompt is not None and "".join(prompt.itertext()) == question.prompt.get(lang)
        choices = interaction.findall(q("simpleChoice"))
        assert ["".join(c.itertext()) for c in choices] == [o.get(lang) for o in question.options]
        ids = [c.get("identifier") for c in choices]
        assert len(set(ids)) == len(ids)
        correct = declaration.findall(f"{q('correctResponse')}/{q('value')}")
        assert [v.text for v in correct] == [ids[question.answer]]
        declared = {o.get("identifier") for o in item.findall(q("outcomeDeclaration"))}
        assert {"SCORE", "FEEDBACK"} <= declared
        feedback = item.find(q("modalFeedback"))
        assert feedback is not None and feedback.get("outcomeIdentifier") in declared
        set_feedback = item.find(f"{q('responseProcessing')}/{q('setOutcomeValue')}[@identifier='FEEDBACK']")
        assert set_feedback is not None and "".join(set_feedback.itertext()).strip() == feedback.get("identifier")
        assert question.explanation.get(lang) in "".join(feedback.itertext())


def read_csv(data: bytes) -> list[dict[str, str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # a BOM, so spreadsheets read UTF-8
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


@pytest.mark.parametrize("lang", LANGS)
def test_csv_round_trip_recovers_every_question(bank: QuestionBank, lang: Lang) -> None:
    data = export_bank(bank, ExportFormat.CSV, lang)
    width = max(len(question.options) for question in bank.questions)
    header = next(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert tuple(header) == csv_columns(width)
    rows = read_csv(data)
    assert len(rows) == len(bank)
    for row in rows:
        question = bank.get(row["id"])
        assert question is not None
        options = [row[f"option_{n}"] for n in range(1, width + 1)]
        while options and not options[-1]:
            options.pop()
        rebuilt = (row["topic"], row["type"], int(row["difficulty"]), row["skill"], row["prompt"], options)
        expected = (
            question.topic,
            question.type.value,
            question.difficulty,
            question.skill.value,
            question.prompt.get(lang),
            [o.get(lang) for o in question.options],
        )
        assert rebuilt == expected
        assert int(row["answer"]) - 1 == question.answer
        assert row["explanation"] == question.explanation.get(lang)
        assert row["source"] == source_text(question, lang)


def test_sources_read_as_the_article_and_named_sources(bank: QuestionBank) -> None:
    quoted = next(q for q in bank.questions if q.source.quote is not None and q.source.refs)
    quote, ref = quoted.source.quote, quoted.source.refs[0]
    assert quote is not None
    en = source_text(quoted, Lang.EN)
    assert en.startswith(f"Global Times (環球時報), Feb 2024, paragraph {quoted.source.paragraph}: “{quote.en}”")
    assert f"Source: {ref.name.en} ({ref.link})" in en
    zh = source_text(quoted, Lang.ZH_HANT)
    assert zh.startswith(f"《環球時報》2024 年 2 月報導，第 {quoted.source.paragraph} 段：「{quote.zh_hant}」")


@pytest.mark.parametrize("fmt", list(ExportFormat))
def test_chinese_text_survives_unchanged(bank: QuestionBank, fmt: ExportFormat) -> None:
    question = bank.questions[0]
    for lang in (Lang.ZH_HANT, Lang.ZH_HANS):
        data = export_bank(bank, fmt, lang)
        if fmt is ExportFormat.QTI:
            package = zipfile.ZipFile(io.BytesIO(data))
            data = package.read(f"items/{question.id}.xml")
        text = data.decode("utf-8-sig")
        for part in (question.prompt.get(lang), question.options[question.answer].get(lang)):
            assert (gift_escape(part) if fmt is ExportFormat.GIFT else part) in text


# --- GIFT's special characters, in a crafted bank ------------------------------------------------------------------

TRICKY = r"甲 a~b=c#d{e}f:g\h <i> & 乙"  # every character GIFT gives a meaning to, and markup

ESCAPED = r"甲 a\~b\=c\#d\{e\}f\:g\\h <i> & 乙"


@pytest.fixture
def tricky_bank(write_bank: Callable[[dict[str, str]], Path], article: Article) -> QuestionBank:
    yaml_text = TRICKY.replace("\\", "\\\\")
    question = question_yaml(
        "tricky-marks",
        options=(f'"{yaml_text}"', '"a = b"', '"#1 {x}"'),
        answer=0,
        explanation=f'"說明：{yaml_text}"',
    )
    folder = write_bank({"tricky.yaml": topic_yaml("tricky", [question])})
    report = load_bank([folder], article=article)
    assert report.bank is not None, report.render()
    return report.bank


def test_gift_escapes_its_special_characters(tricky_bank: QuestionBank) -> None:
    question = tricky_bank.questions[0]
    assert question.options[0].zh_hant == TRICKY
    text = export_bank(tricky_bank, ExportFormat.GIFT, Lang.ZH_HANT).decode("utf-8")
    assert "\t=" + ESCAPED + "\n" in text
    assert r"####說明：" + ESCAPED + r"\n\n" in text
    assert "\t~a \\= b\n" in text
    [read] = parse_gift(text)
    assert read.title == "tricky-marks"
    assert read.options == [TRICKY, "a = b", "#1 {x}"]
    assert read.right == [0]
    assert read.feedback == feedback_of(question, Lang.ZH_HANT)
    assert read.feedback.startswith(f"說明：{TRICKY}")


def test_the_xml_formats_escape_markup(tricky_bank: QuestionBank) -> None:
    for lang in LANGS:
        root = ET.fromstring(export_bank(tricky_bank, ExportFormat.MOODLE_XML, lang))
        assert len(root.findall("question[@type='multichoice']")) == 1
        package = zipfile.ZipFile(io.BytesIO(export_bank(tricky_bank, ExportFormat.QTI, lang)))
        item = ET.fromstring(package.read("items/tricky-marks.xml"))
        choice = item.find(f"{q('itemBody')}/{q('choiceInteraction')}/{q('simpleChoice')}")
        assert choice is not None and choice.text == tricky_bank.questions[0].options[0].get(lang)
        answer = root.find("question/answer/text")
        assert answer is not None and answer.text == html_text(tricky_bank.questions[0].options[0].get(lang))


# --- the command ---------------------------------------------------------------------------------------------------


@pytest.fixture
def env(tmp_path: Path, small_bank: QuestionBank, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Settings naming the small bank's files, run from a folder with no .env."""
    monkeypatch.setenv("QUESTIONS_PATH", str(tmp_path / "bank"))
    monkeypatch.setenv("ARTICLE_PATH", str(tmp_path / "article.txt"))
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_command_writes_to_stdout_or_a_file(
    env: Path, small_bank: QuestionBank, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    assert main(["export", "--format", "csv", "--lang", "zh-Hant"]) == 0
    out, err = capsysbinary.readouterr()
    assert err == b""
    assert [row["id"] for row in read_csv(out)] == [q.id for q in small_bank.questions]
    assert main(["export", "--format", "gift", "--topic", "Topic beta", "--out", str(env / "beta.gift")]) == 0
    out, _ = capsysbinary.readouterr()
    assert out.decode() == f"wrote {env / 'beta.gift'} (2 questions, en, gift)\n"
    assert [g.title for g in parse_gift((env / "beta.gift").read_text(encoding="utf-8"))] == ["beta-0", "beta-1"]
    assert main(["export", "--format", "qti", "--lang", "zh-Hans", "--out", str(env / "bank.zip")]) == 0
    assert len(zipfile.ZipFile(env / "bank.zip").namelist()) == len(small_bank) + 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "qti"], "error: --format qti writes a zip package: give --out FILE.zip\n"),
        (["--format", "qti", "--out", "bank.xml"], "error: --format qti writes a zip package: give --out FILE.zip\n"),
        (["--format", "csv", "--topic", "nope"], "error: no topic 'nope': choose one of alpha, beta\n"),
    ],
)
def test_the_command_refuses_in_one_line(
    env: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert main(["export", *args]) == 2
    out, err = capsys.readouterr()
    assert (out, err) == ("", message)


@pytest.mark.parametrize("fmt", list(ExportFormat))
def test_the_command_offers_every_format(fmt: ExportFormat) -> None:
    from bot.__main__ import build_parser

    assert build_parser().parse_args(["export", "--format", fmt.value]).format == fmt.value
