"""The loader on good and broken banks: every kind of problem, reported as file:line: id: message."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bot.core.article import Article
from bot.core.lang import Lang
from bot.core.loader import load_bank
from bot.core.model import QuestionType
from tests.conftest import question_yaml, topic_yaml

WriteBank = Callable[[dict[str, str]], Path]


def problems(folder: Path, article: Article | None) -> list[str]:
    report = load_bank([folder], article=article)
    assert report.bank is None
    return [str(p) for p in report.problems]


def test_good_bank_loads_with_simplified_derived(write_bank: WriteBank, article: Article) -> None:
    folder = write_bank({"alpha.yaml": topic_yaml("alpha", [question_yaml("alpha-one")])})
    report = load_bank([folder], article=article)
    assert report.ok and report.problems == ()
    question = report.bank.get("alpha-one")
    assert question.type is QuestionType.CHOICE
    assert question.prompt.zh_hant == "餅乾上出現了什麼？"
    assert question.prompt.zh_hans == "饼干上出现了什么？"  # OpenCC t2s
    assert question.source.quote.zh_hans == "有人咬了一口饼干"
    assert question.location.endswith("alpha.yaml:7")
    assert report.bank.topic("alpha").title.en == "Topic alpha"


def test_simplified_override_replaces_conversion(write_bank: WriteBank, article: Article) -> None:
    text = topic_yaml("alpha", [question_yaml("alpha-one")]).replace(
        "en: What appears", "zh-Hans: 饼干上出现了啥？\n      en: What appears"
    )
    report = load_bank([write_bank({"alpha.yaml": text})], article=article)
    assert report.ok, report.render()
    assert report.bank.get("alpha-one").prompt.zh_hans == "饼干上出现了啥？"


def test_yaml_syntax_error_names_file_and_line(write_bank: WriteBank, article: Article) -> None:
    text = topic_yaml("alpha", [question_yaml("alpha-one")]) + "  - id: [unclosed\n"
    found = problems(write_bank({"alpha.yaml": text}), article)
    assert len(found) == 1
    assert "alpha.yaml:" in found[0] and "YAML syntax error" in found[0]


def test_every_problem_is_reported_at_once(write_bank: WriteBank, article: Article) -> None:
    bad = [
        question_yaml("alpha-range", answer=7),
        question_yaml("alpha-dupe-options", options=("甲", "甲", "丙")),
        question_yaml("alpha-quote", quote="這句話不在文章裡"),
        question_yaml("alpha-wrong-paragraph", paragraph=3),
        question_yaml("alpha-no-paragraph", paragraph=99),
        question_yaml("alpha-hard", difficulty=4),
        question_yaml("alpha-kind", qtype="essay"),
        question_yaml("alpha-tf", qtype="true_false"),
        question_yaml("Bad_ID"),
        question_yaml("alpha-typo", extra="    explaination: oops\n"),
    ]
    folder = write_bank({"alpha.yaml": topic_yaml("alpha", bad)})
    found = "\n".join(problems(folder, article))
    expected = [
        ("alpha-range", "answer 7 is not among the 3 options"),
        ("alpha-dupe-options", "options 1 and 2 are the same in zh-Hant"),
        ("alpha-quote", "quote is not verbatim in the article"),
        ("alpha-wrong-paragraph", "quote is in paragraph 2, not 3"),
        ("alpha-no-paragraph", "source.paragraph 99 does not exist"),
        ("alpha-hard", "difficulty must be 1, 2 or 3"),
        ("alpha-kind", "type must be one of"),
        ("alpha-tf", "a true_false question has exactly 2 options"),
        ("'Bad_ID'", "id must be lower-kebab-case"),  # shown quoted: it breaks the id pattern
        ("alpha-typo", "unknown key 'explaination'"),
    ]
    for qid, message in expected:
        assert any(f": {qid}: " in line and message in line for line in found.splitlines()), (qid, found)


def test_problem_lines_point_at_the_field(write_bank: WriteBank, article: Article) -> None:
    text = topic_yaml("alpha", [question_yaml("alpha-ok"), question_yaml("alpha-range", answer=9)])
    folder = write_bank({"alpha.yaml": text})
    [line] = problems(folder, article)
    answer_line = next(n for n, row in enumerate(text.splitlines(), 1) if row.strip() == "answer: 9")
    assert line.startswith(f"{folder / 'alpha.yaml'}:{answer_line}: alpha-range: ")


def test_missing_language_and_yaml_boolean_text(write_bank: WriteBank, article: Article) -> None:
    missing_en = question_yaml("alpha-no-en").replace("      en: What appears on the cookie?\n", "")
    boolean = question_yaml("alpha-bool", qtype="true_false", options=("對", "錯")).replace("en: Option A", "en: True")
    found = "\n".join(problems(write_bank({"alpha.yaml": topic_yaml("alpha", [missing_en, boolean])}), article))
    assert "alpha-no-en: prompt: missing en text" in found
    assert "alpha-bool: option 1: en text True is read as a YAML value; quote it" in found


def test_duplicate_ids_across_files_name_the_first(write_bank: WriteBank, article: Article) -> None:
    folder = write_bank(
        {
            "alpha.yaml": topic_yaml("alpha", [question_yaml("same-id")]),
            "beta.yaml": topic_yaml("beta", [question_yaml("same-id")]),
        }
    )
    [line] = problems(folder, article)
    assert "beta.yaml" in line and "same-id: duplicate id (first defined at" in line and "alpha.yaml:7" in line


def test_duplicate_keys_and_topic_mismatch(write_bank: WriteBank, article: Article) -> None:
    text = topic_yaml("alpha", [question_yaml("alpha-one", extra="    difficulty: 2\n")])
    found = "\n".join(problems(write_bank({"other.yaml": text}), article))
    assert "alpha-one: question: key 'difficulty' appears twice" in found
    assert "topic id 'alpha' differs from the file name 'other'" in found


SOURCES = """sources:
  - id: fbi-psa
    name:
      zh-Hant: 美國聯邦調查局公共服務公告（2024 年 12 月）
      en: FBI public service announcement, Dec 2024
    title: Criminals Use Generative Artificial Intelligence to Facilitate Financial Fraud
    publisher: FBI
    date: 2024-12-03
    link: https://www.ic3.gov/PSA/2024/PSA241203
"""


def refs_only(qid: str, refs: str) -> str:
    return question_yaml(qid).split("    source:")[0] + f"    source:\n      refs: {refs}\n"


def test_source_needs_a_quote_or_named_sources(write_bank: WriteBank, article: Article) -> None:
    no_source = question_yaml("alpha-none").split("    source:")[0]
    refs = refs_only("alpha-refs", "[fbi-psa]")
    unknown = refs_only("alpha-unknown", "[fbi-2099]")
    old_codes = question_yaml("alpha-facts").split("    source:")[0] + "    source:\n      facts: [B4]\n"
    folder = write_bank(
        {"alpha.yaml": topic_yaml("alpha", [no_source, refs, unknown, old_codes]), "_sources.yaml": SOURCES}
    )
    found = "\n".join(problems(folder, article))
    assert "alpha-none: source: expected a mapping" in found
    assert "alpha-refs" not in found
    assert "alpha.yaml:" in found and "alpha-unknown: unknown source 'fbi-2099': define it in _sources.yaml" in found
    assert "alpha-facts: source.facts is gone: cite named sources with `refs`" in found


def test_named_sources_resolve_to_their_names(write_bank: WriteBank, article: Article) -> None:
    folder = write_bank(
        {"alpha.yaml": topic_yaml("alpha", [refs_only("alpha-refs", "[fbi-psa]")]), "_sources.yaml": SOURCES}
    )
    report = load_bank([folder], article=article)
    assert report.ok, report.render()
    (ref,) = report.bank.get("alpha-refs").source.refs
    assert ref.name.en == "FBI public service announcement, Dec 2024"
    assert ref.name.zh_hans == "美国联邦调查局公共服务公告（2024 年 12 月）"
    assert ref.date == "2024-12-03" and ref.link.startswith("https://")
    # Checking one topic file alone still finds the sources file beside it.
    assert load_bank([folder / "alpha.yaml"], article=article).ok


def test_broken_and_unused_sources_are_problems(write_bank: WriteBank, article: Article) -> None:
    broken = (
        SOURCES.replace("https://www.ic3.gov", "http://www.ic3.gov")
        + "  - id: never-cited\n"
        + "\n".join(SOURCES.splitlines()[2:]).replace(
            "    link: https://www.ic3.gov/PSA/2024/PSA241203", "    date: 2020"
        )
    )
    folder = write_bank(
        {"alpha.yaml": topic_yaml("alpha", [refs_only("alpha-refs", "[fbi-psa]")]), "_sources.yaml": broken}
    )
    found = "\n".join(problems(folder, article))
    assert "_sources.yaml:9: fbi-psa: source: `link` must be an https:// address" in found
    assert "never-cited: source: key 'date' appears twice" in found
    assert "never-cited: source: missing `link`" in found


def test_skill_is_required(write_bank: WriteBank, article: Article) -> None:
    text = topic_yaml("alpha", [question_yaml("alpha-one", skill="memory")])
    found = "\n".join(problems(write_bank({"alpha.yaml": text}), article))
    assert "alpha.yaml:9: alpha-one: skill must be one of: recall, concept, judgment" in found


def test_simplified_follows_mainland_usage(write_bank: WriteBank, article: Article) -> None:
    text = topic_yaml("alpha", [question_yaml("alpha-one")]).replace(
        "zh-Hant: 餅乾上出現了什麼？", "zh-Hant: 這段「影片」在網路上的資訊是什麼？"
    )
    report = load_bank([write_bank({"alpha.yaml": text})], article=article)
    assert report.ok, report.render()
    # OpenCC tw2sp rewords Taiwan words; mainland quotation marks replace 「」.
    assert report.bank.get("alpha-one").prompt.zh_hans == "这段“视频”在网络上的信息是什么？"


USAGE = "zh-Hant:\n  視頻: 影片\n  短視頻: 短影音\nzh-Hans:\n  浮水印: 水印\n"


def test_other_region_words_and_half_width_punctuation_are_problems(write_bank: WriteBank, article: Article) -> None:
    mainland = question_yaml("alpha-mainland", explanation="這段視頻是假的。")
    watermark = question_yaml("alpha-watermark", options=("浮水印", "乙", "丙"))
    half_width = question_yaml("alpha-comma", explanation="先停下來,再查證。")
    quoted = question_yaml("alpha-quoted", paragraph=2, quote="有人咬了一口餅乾,但餅乾上並未出現咬痕")
    folder = write_bank(
        {
            "alpha.yaml": topic_yaml("alpha", [mainland, watermark, half_width, quoted]),
            "_regional_usage.yaml": USAGE,
        }
    )
    found = problems(folder, article)
    assert any(
        p.endswith("alpha-mainland: explanation (zh-Hant): '視頻' is not Taiwan usage: write '影片'") for p in found
    )
    assert any(
        p.endswith("alpha-watermark: option 1 (zh-Hans): '浮水印' is not mainland usage: write '水印'") for p in found
    )
    assert any("alpha-comma: explanation (zh-Hant): half-width ',' beside Chinese text: write '，'" in p for p in found)
    assert not any("alpha-quoted" in p for p in found)  # a verbatim quote keeps the article's own commas
    assert all(p.split(":")[0].endswith("alpha.yaml") for p in found)


def test_one_quote_has_one_english_rendering(write_bank: WriteBank, article: Article) -> None:
    first = question_yaml("alpha-one")
    second = question_yaml("alpha-two").replace("en: Someone bit a cookie", "en: A person bit into a biscuit")
    found = "\n".join(problems(write_bank({"alpha.yaml": topic_yaml("alpha", [first, second])}), article))
    assert "alpha-two: source.quote: the same quote reads 'A person bit into a biscuit' here" in found
    assert "in alpha-one: use one English rendering" in found


def test_retired_ids_are_never_reused(write_bank: WriteBank, article: Article) -> None:
    folder = write_bank(
        {
            "alpha.yaml": topic_yaml("alpha", [question_yaml("alpha-old")]),
            "_retired.yaml": "retired:\n  - id: alpha-old\n    reason: replaced by alpha-new\n",
        }
    )
    [line] = problems(folder, article)
    assert "alpha-old: id is listed as retired" in line


def test_retired_ids_are_known_to_the_bank(write_bank: WriteBank, article: Article) -> None:
    folder = write_bank(
        {
            "alpha.yaml": topic_yaml("alpha", [question_yaml("alpha-new")]),
            "_retired.yaml": "retired:\n  - id: alpha-old\n    reason: replaced by alpha-new\n",
        }
    )
    report = load_bank([folder], article=article)
    assert report.ok and "alpha-old" in report.bank.retired and report.bank.get("alpha-old") is None


def test_question_too_long_for_a_poll_is_buttons_only_not_cut(write_bank: WriteBank, article: Article) -> None:
    long_explanation = "因" * 150  # fits in Chinese...
    text = topic_yaml("alpha", [question_yaml("alpha-long", explanation=long_explanation)])
    text = text.replace("en: Cause and effect is a weak spot.", "en: " + "why " * 60)  # ...not in English (240)
    report = load_bank([write_bank({"alpha.yaml": text})], article=article)
    question = report.bank.get("alpha-long")
    assert question.fits_poll(Lang.ZH_HANT) and question.fits_poll(Lang.ZH_HANS)
    assert not question.fits_poll(Lang.EN)
    assert question.explanation.en == ("why " * 60).strip()  # kept whole


def test_explanation_with_three_line_breaks_does_not_fit_a_poll(write_bank: WriteBank, article: Article) -> None:
    text = topic_yaml("alpha", [question_yaml("alpha-lines", explanation='"一\\n二\\n三\\n四"')])
    report = load_bank([write_bank({"alpha.yaml": text})], article=article)
    assert report.bank.get("alpha-lines").poll_langs == frozenset({Lang.EN})  # only the Chinese has 3 breaks


def test_without_the_article_quotes_are_not_checked_and_it_says_so(write_bank: WriteBank) -> None:
    folder = write_bank({"alpha.yaml": topic_yaml("alpha", [question_yaml("alpha-one", quote="任何文字")])})
    report = load_bank([folder], article=None)
    assert report.ok
    assert any("article not available" in note for note in report.notes)


def test_missing_paths_and_empty_folders_are_problems(tmp_path: Path, article: Article) -> None:
    report = load_bank([tmp_path / "nope"], article=article)
    assert not report.ok and "no such file or folder" in report.render()
    (tmp_path / "empty").mkdir()
    report = load_bank([tmp_path / "empty"], article=article)
    assert not report.ok and "no question files found" in report.render()


def test_non_utf8_and_non_mapping_files(write_bank: WriteBank, article: Article) -> None:
    folder = write_bank({"alpha.yaml": "- just\n- a list\n"})
    (folder / "beta.yaml").write_bytes(b"topic: \xff\xfe\n")
    found = "\n".join(problems(folder, article))
    assert "alpha.yaml:1: -: expected a mapping" in found
    assert "beta.yaml:1: -: not UTF-8 text" in found


def test_the_vocabulary_file_rewords_simplified_text_but_never_quotes(write_bank: WriteBank, article: Article) -> None:
    text = topic_yaml("alpha", [question_yaml("alpha-one", quote="有人咬了一口餅乾")]).replace(
        "zh-Hant: 餅乾上出現了什麼？", "zh-Hant: 影片裡的餅乾上出現了什麼？"
    )
    folder = write_bank({"alpha.yaml": text, "_zh_hans_vocabulary.yaml": "vocabulary:\n  饼干: 曲奇饼干\n"})
    report = load_bank([folder], article=article)
    question = report.bank.get("alpha-one")
    assert question.prompt.zh_hans == "视频里的曲奇饼干上出现了什么？"
    assert question.prompt.zh_hant == "影片裡的餅乾上出現了什麼？"
    assert question.source.quote.zh_hans == "有人咬了一口饼干"  # a quote is never reworded


def test_a_broken_vocabulary_file_is_a_problem(write_bank: WriteBank, article: Article) -> None:
    folder = write_bank(
        {"alpha.yaml": topic_yaml("alpha", [question_yaml("alpha-one")]), "_zh_hans_vocabulary.yaml": "- no\n"}
    )
    assert "_zh_hans_vocabulary.yaml:1: -: expected `vocabulary:`" in "\n".join(problems(folder, article))


def test_a_vocabulary_word_that_never_fires_is_linted(write_bank: WriteBank, article: Article) -> None:
    vocabulary = "vocabulary:\n  饼干: 曲奇饼干\n  不存在的词: 甲\n  饼干盒: 饼干盒\n"
    folder = write_bank(
        {"alpha.yaml": topic_yaml("alpha", [question_yaml("alpha-one")]), "_zh_hans_vocabulary.yaml": vocabulary}
    )
    report = load_bank([folder], article=article)
    assert report.ok, report.render()
    # The bank is served; `check` fails on the dead word. A guard (mapped to itself) is not dead weight.
    assert [str(p).split("/")[-1] for p in report.lint] == [
        "_zh_hans_vocabulary.yaml:3: 不存在的词: vocabulary word never fires in the bank: remove it"
    ]
