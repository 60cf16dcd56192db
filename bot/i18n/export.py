"""The question bank as files a teacher can import elsewhere: GIFT and Moodle XML (Moodle), QTI 2.1 (Canvas and
other learning platforms) and CSV (a spreadsheet), in one language.

Every format carries the prompt, the options in authored order, the right answer, the explanation as general
feedback and, after it, the source: the article paragraph with its quote, and each named source by name and link.
The bank has no per-option feedback, so none is written; nothing is invented to fill it.

A question of every type (true/false and judge items too) is written as a single-answer multiple choice over its
own options, which keeps the bank's wording ("Genuine: trust it on this evidence") instead of a bare True/False.
No I/O here: each function returns the file's bytes; `python -m bot export` writes them.
"""

from __future__ import annotations

import csv
import html
import io
import re
import zipfile
from collections.abc import Sequence
from enum import StrEnum
from xml.etree import ElementTree as ET

from ..core.lang import Lang
from ..core.model import Question, QuestionBank, Topic
from . import translator


class ExportFormat(StrEnum):
    """A file format `python -m bot export` writes."""

    GIFT = "gift"
    MOODLE_XML = "moodle-xml"
    QTI = "qti"  # an IMS content package (.zip) of QTI 2.1 items
    CSV = "csv"


CATEGORY_ROOT = "Deepfake quiz"  # the Moodle question-bank category every topic goes under


def export_bank(bank: QuestionBank, fmt: ExportFormat, lang: Lang, *, topic: Topic | None = None) -> bytes:
    """The bank (or one topic of it) as a file in `fmt` and `lang`."""
    topics = (topic,) if topic is not None else bank.topics
    if fmt is ExportFormat.GIFT:
        return gift(bank, topics, lang).encode("utf-8")
    if fmt is ExportFormat.MOODLE_XML:
        return moodle_xml(bank, topics, lang)
    if fmt is ExportFormat.QTI:
        return qti_package(bank, topics, lang)
    questions = [q for t in topics for q in bank.in_topic(t.id)]
    return csv_text(questions, lang).encode("utf-8-sig")  # with a BOM, so spreadsheets read it as UTF-8


# --- the source, in words ------------------------------------------------------------------------------------------


def source_lines(question: Question, lang: Lang) -> list[tuple[str, str | None]]:
    """The source as lines of (text, link or None): the article paragraph with its quote, then each named source."""
    source = question.source
    t = translator()
    lines: list[tuple[str, str | None]] = []
    if source.paragraph is not None:
        text = t("export.source_article", lang, paragraph=source.paragraph)
        if source.quote is not None:
            text += t("export.source_quote", lang, quote=source.quote.get(lang))
        lines.append((text, None))
    lines += [
        (translator()("export.source_named", lang, name=ref.name.get(lang)), ref.link or None) for ref in source.refs
    ]
    return lines


def source_text(question: Question, lang: Lang) -> str:
    """The source as plain text, one line each, named sources followed by their link."""
    return "\n".join(text if link is None else f"{text} ({link})" for text, link in source_lines(question, lang))


def general_feedback(question: Question, lang: Lang) -> str:
    """The explanation, a blank line, then the source."""
    return f"{question.explanation.get(lang)}\n\n{source_text(question, lang)}".rstrip()


def _html_text(text: str) -> str:
    return html.escape(text, quote=False).replace("\n", "<br>")


def feedback_html(question: Question, lang: Lang) -> str:
    """The general feedback as HTML: the explanation, then one paragraph per source line, named sources linked."""
    parts = [f"<p>{_html_text(question.explanation.get(lang))}</p>"]
    for text, link in source_lines(question, lang):
        shown = _html_text(text)
        if link is not None:
            shown = f'<a href="{html.escape(link)}">{shown}</a>'
        parts.append(f"<p>{shown}</p>")
    return "".join(parts)


def category_path(topic: Topic, lang: Lang) -> str:
    """The Moodle category of a topic; a `/` in a title is doubled, as Moodle reads one as a sub-category."""
    return f"$course$/top/{CATEGORY_ROOT}/{topic.title.get(lang).replace('/', '//')}"


# --- GIFT ----------------------------------------------------------------------------------------------------------

_GIFT_SPECIAL = re.compile(r"([\\~=#{}:])")


def gift_escape(text: str) -> str:
    """Text safe inside GIFT: `\\ ~ = # { } :` get a backslash, a line break becomes `\\n` (Moodle's GIFT format)."""
    return _GIFT_SPECIAL.sub(r"\\\1", text).replace("\r\n", "\n").replace("\n", r"\n")


def gift(bank: QuestionBank, topics: Sequence[Topic], lang: Lang) -> str:
    """GIFT for Moodle: a `$CATEGORY` line per topic, then one block per question titled with its id:
    `::id::prompt{ =right ~wrong ####general feedback }`. GIFT has no per-question shuffle setting (the quiz decides),
    so authored order is all it keeps."""
    blocks = [f"// Deepfake quiz question bank, {lang.value}"]
    for topic in topics:
        blocks.append(f"$CATEGORY: {category_path(topic, lang)}")
        for question in bank.in_topic(topic.id):
            lines = [f"// {question.type.value}, difficulty {question.difficulty}, {question.skill.value}"]
            lines.append(f"::{gift_escape(question.id)}::{gift_escape(question.prompt.get(lang))} {{")
            for index, option in enumerate(question.options):
                mark = "=" if index == question.answer else "~"
                lines.append(f"\t{mark}{gift_escape(option.get(lang))}")
            lines.append(f"\t####{gift_escape(general_feedback(question, lang))}")
            lines.append("}")
            blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


# --- Moodle XML ----------------------------------------------------------------------------------------------------


def _text_element(parent: ET.Element, tag: str, text: str, *, html_format: bool = False) -> ET.Element:
    element = ET.SubElement(parent, tag, {"format": "html"} if html_format else {})
    ET.SubElement(element, "text").text = text
    return element


def moodle_xml(bank: QuestionBank, topics: Sequence[Topic], lang: Lang) -> bytes:
    """Moodle XML: a category per topic, then a single-answer `multichoice` per question (right answer 100%, others
    0%), `shuffleanswers` following the question's own `shuffle`. Texts are HTML, escaped by the XML writer."""
    quiz = ET.Element("quiz")
    for topic in topics:
        category = ET.SubElement(quiz, "question", {"type": "category"})
        _text_element(category, "category", category_path(topic, lang))
        for question in bank.in_topic(topic.id):
            item = ET.SubElement(quiz, "question", {"type": "multichoice"})
            _text_element(item, "name", question.id)
            _text_element(item, "questiontext", f"<p>{_html_text(question.prompt.get(lang))}</p>", html_format=True)
            _text_element(item, "generalfeedback", feedback_html(question, lang), html_format=True)
            for tag, value in (
                ("defaultgrade", "1"),
                ("penalty", "0"),
                ("hidden", "0"),
                ("idnumber", question.id),
                ("single", "true"),
                ("shuffleanswers", "true" if question.shuffle else "false"),
                ("answernumbering", "abc"),
            ):
                ET.SubElement(item, tag).text = value
            for index, option in enumerate(question.options):
                answer = ET.SubElement(
                    item, "answer", {"fraction": "100" if index == question.answer else "0", "format": "html"}
                )
                ET.SubElement(answer, "text").text = _html_text(option.get(lang))
                _text_element(answer, "feedback", "", html_format=True)  # the bank has no per-option feedback
    ET.indent(quiz)
    return ET.tostring(quiz, encoding="utf-8", xml_declaration=True) + b"\n"


# --- QTI 2.1 -------------------------------------------------------------------------------------------------------

QTI_NS = "http://www.imsglobal.org/xsd/imsqti_v2p1"
QTI_XSD = "http://www.imsglobal.org/xsd/qti/qtiv2p1/imsqti_v2p1.xsd"
CP_NS = "http://www.imsglobal.org/xsd/imscp_v1p1"
CP_XSD = "http://www.imsglobal.org/xsd/imscp_v1p1.xsd"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
XML_NS = "http://www.w3.org/XML/1998/namespace"
_NCNAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")


def qti_identifier(question: Question) -> str:
    """The item's identifier: the question id where it is a valid XML name (every bank id is), else prefixed."""
    return question.id if _NCNAME.fullmatch(question.id) else "q-" + re.sub(r"[^A-Za-z0-9_.-]", "-", question.id)


def choice_identifier(index: int) -> str:
    """The identifier of option `index` (0-based in the bank): choice_1, choice_2..."""
    return f"choice_{index + 1}"


def _qti(tag: str) -> str:
    return f"{{{QTI_NS}}}{tag}"


def _rich(parent: ET.Element, tag: str, markup: str, attrs: dict[str, str] | None = None) -> ET.Element:
    """An element holding `markup` (our own well-formed HTML) as XHTML children in the QTI namespace."""
    fragment = ET.fromstring(f'<{tag} xmlns="{QTI_NS}">{markup.replace("<br>", "<br/>")}</{tag}>')
    fragment.attrib.update(attrs or {})
    parent.append(fragment)
    return fragment


def _serialize(root: ET.Element, namespace: str) -> bytes:
    """The document, with `namespace` as its default (ElementTree keeps the prefix map globally: set it each time)."""
    ET.register_namespace("", namespace)
    ET.register_namespace("xsi", XSI_NS)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def qti_item(question: Question, lang: Lang) -> bytes:
    """One QTI 2.1 assessmentItem: a single-choice choiceInteraction, its correctResponse, and the explanation with
    the source as modal feedback. Response processing is match_correct's rules written out, with one more line that
    sets FEEDBACK so the feedback shows: the template on its own never sets it."""
    item = ET.Element(
        _qti("assessmentItem"),
        {
            f"{{{XSI_NS}}}schemaLocation": f"{QTI_NS} {QTI_XSD}",
            "identifier": qti_identifier(question),
            "title": question.id,
            "adaptive": "false",
            "timeDependent": "false",
            f"{{{XML_NS}}}lang": lang.value,
        },
    )
    response = ET.SubElement(
        item, _qti("responseDeclaration"), {"identifier": "RESPONSE", "cardinality": "single", "baseType": "identifier"}
    )
    correct = ET.SubElement(response, _qti("correctResponse"))
    ET.SubElement(correct, _qti("value")).text = choice_identifier(question.answer)
    score = ET.SubElement(
        item, _qti("outcomeDeclaration"), {"identifier": "SCORE", "cardinality": "single", "baseType": "float"}
    )
    ET.SubElement(ET.SubElement(score, _qti("defaultValue")), _qti("value")).text = "0"
    ET.SubElement(
        item, _qti("outcomeDeclaration"), {"identifier": "FEEDBACK", "cardinality": "single", "baseType": "identifier"}
    )
    body = ET.SubElement(item, _qti("itemBody"))
    interaction = ET.SubElement(
        body,
        _qti("choiceInteraction"),
        {"responseIdentifier": "RESPONSE", "shuffle": "true" if question.shuffle else "false", "maxChoices": "1"},
    )
    _rich(interaction, "prompt", _html_text(question.prompt.get(lang)))
    for index, option in enumerate(question.options):
        _rich(interaction, "simpleChoice", _html_text(option.get(lang)), {"identifier": choice_identifier(index)})
    processing = ET.SubElement(item, _qti("responseProcessing"))
    condition = ET.SubElement(processing, _qti("responseCondition"))
    when = ET.SubElement(condition, _qti("responseIf"))
    match = ET.SubElement(when, _qti("match"))
    ET.SubElement(match, _qti("variable"), {"identifier": "RESPONSE"})
    ET.SubElement(match, _qti("correct"), {"identifier": "RESPONSE"})
    _set_outcome(when, "SCORE", "float", "1")
    otherwise = ET.SubElement(condition, _qti("responseElse"))
    _set_outcome(otherwise, "SCORE", "float", "0")
    _set_outcome(processing, "FEEDBACK", "identifier", "GENERAL")
    _rich(
        item,
        "modalFeedback",
        feedback_html(question, lang),
        {"outcomeIdentifier": "FEEDBACK", "identifier": "GENERAL", "showHide": "show"},
    )
    return _serialize(item, QTI_NS)


def _set_outcome(parent: ET.Element, identifier: str, base_type: str, value: str) -> None:
    setter = ET.SubElement(parent, _qti("setOutcomeValue"), {"identifier": identifier})
    ET.SubElement(setter, _qti("baseValue"), {"baseType": base_type}).text = value


def qti_manifest(questions: Sequence[Question]) -> bytes:
    """The IMS content package manifest: one `imsqti_item_xmlv2p1` resource per item file."""
    manifest = ET.Element(
        f"{{{CP_NS}}}manifest",
        {"identifier": "deepfake-quiz-bank", f"{{{XSI_NS}}}schemaLocation": f"{CP_NS} {CP_XSD} {QTI_NS} {QTI_XSD}"},
    )
    metadata = ET.SubElement(manifest, f"{{{CP_NS}}}metadata")
    ET.SubElement(metadata, f"{{{CP_NS}}}schema").text = "QTIv2.1 Package"
    ET.SubElement(metadata, f"{{{CP_NS}}}schemaversion").text = "1.0.0"
    ET.SubElement(manifest, f"{{{CP_NS}}}organizations")
    resources = ET.SubElement(manifest, f"{{{CP_NS}}}resources")
    for question in questions:
        identifier = qti_identifier(question)
        href = qti_item_path(question)
        resource = ET.SubElement(
            resources,
            f"{{{CP_NS}}}resource",
            {"identifier": f"res-{identifier}", "type": "imsqti_item_xmlv2p1", "href": href},
        )
        ET.SubElement(resource, f"{{{CP_NS}}}file", {"href": href})
    return _serialize(manifest, CP_NS)


def qti_item_path(question: Question) -> str:
    """Where an item sits in the package."""
    return f"items/{qti_identifier(question)}.xml"


def qti_package(bank: QuestionBank, topics: Sequence[Topic], lang: Lang) -> bytes:
    """A zip with imsmanifest.xml and one QTI 2.1 item file per question, for Canvas and other platforms."""
    questions = [q for t in topics for q in bank.in_topic(t.id)]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("imsmanifest.xml", qti_manifest(questions))
        for question in questions:
            package.writestr(qti_item_path(question), qti_item(question, lang))
    return out.getvalue()


# --- CSV -----------------------------------------------------------------------------------------------------------


def csv_columns(width: int) -> tuple[str, ...]:
    """The header for questions of up to `width` options."""
    options = tuple(f"option_{n}" for n in range(1, width + 1))
    return ("id", "topic", "type", "difficulty", "skill", "prompt", *options, "answer", "explanation", "source")


def csv_text(questions: Sequence[Question], lang: Lang) -> str:
    """One row per question: its options in authored order (empty cells past its last), the right one numbered from
    1, the explanation and the source as plain text."""
    width = max((len(q.options) for q in questions), default=0)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(csv_columns(width))
    for q in questions:
        options = [o.get(lang) for o in q.options] + [""] * (width - len(q.options))
        writer.writerow(
            (
                q.id,
                q.topic,
                q.type.value,
                q.difficulty,
                q.skill.value,
                q.prompt.get(lang),
                *options,
                q.answer + 1,
                q.explanation.get(lang),
                source_text(q, lang),
            )
        )
    return out.getvalue()
