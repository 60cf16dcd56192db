"""UI strings in every served language.

Traditional Chinese and English are written by hand in `locales/*.yaml`; Simplified Chinese is converted from
Traditional with OpenCC once, at load, and `locales/zh-Hans.yaml` may override single strings the conversion
gets wrong.

A string whose wording depends on a number is a plural key: in the YAML a mapping from CLDR plural category to
text instead of one text, e.g.

    result.review:
      one: "📌 The question you missed is in your review list…"
      other: "📌 The {count} you missed are in your review list…"

The category is chosen by the `count` value passed to the translator, with the language's cardinal rule
(`plural_category`). Each language writes exactly the categories it has (`PLURAL_CATEGORIES`): English `one` and
`other`; Chinese has a single form, so a plain string there (tests/i18n/test_plurals.py guards both).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from string import Formatter
from typing import Any

import opencc
import yaml

from ..core.lang import Lang

LOCALES = Path(__file__).parent / "locales"

# CLDR's cardinal plural categories (https://www.unicode.org/cldr/charts/latest/supplemental/language_plural_rules.html)
CLDR_CATEGORIES = ("zero", "one", "two", "few", "many", "other")
# The categories each served language distinguishes for whole numbers, per CLDR: Chinese has one form.
PLURAL_CATEGORIES: dict[Lang, tuple[str, ...]] = {
    Lang.ZH_HANT: ("other",),
    Lang.ZH_HANS: ("other",),
    Lang.EN: ("one", "other"),
}

Entry = str | Mapping[str, str]  # one text, or a text per plural category


def plural_category(lang: Lang, count: int) -> str:
    """CLDR's cardinal rule for a whole number: English `one` for exactly 1, `other` otherwise; Chinese `other`."""
    if lang is Lang.EN and count == 1:
        return "one"
    return "other"


class Translator:
    """Looks up `key` in a language and fills in its named fields; a plural key picks its form by `count`."""

    def __init__(self, tables: Mapping[Lang, Mapping[str, Entry]]) -> None:
        self._tables = tables

    @classmethod
    def load(cls, folder: Path = LOCALES) -> Translator:
        hant = _read(folder / "zh-Hant.yaml")
        english = _read(folder / "en.yaml")
        overrides_file = folder / "zh-Hans.yaml"
        overrides = _read(overrides_file) if overrides_file.exists() else {}
        unknown = set(overrides) - set(hant)
        if unknown:
            raise ValueError(f"{overrides_file}: overrides for keys that zh-Hant.yaml lacks: {sorted(unknown)}")
        t2s = opencc.OpenCC("t2s")

        def convert(entry: Entry) -> Entry:
            if isinstance(entry, str):
                return t2s.convert(entry)
            return {category: t2s.convert(text) for category, text in entry.items()}

        hans = {key: overrides.get(key, convert(entry)) for key, entry in hant.items()}
        return cls({Lang.ZH_HANT: hant, Lang.ZH_HANS: hans, Lang.EN: english})

    def keys(self, lang: Lang) -> set[str]:
        return set(self._tables[lang])

    def forms(self, key: str, lang: Lang) -> tuple[str, ...] | None:
        """The plural categories a plural key is written in, in CLDR order; None for a plain string."""
        entry = self._tables[lang][key]
        if isinstance(entry, str):
            return None
        return tuple(category for category in CLDR_CATEGORIES if category in entry)

    def fields(self, key: str, lang: Lang) -> set[str]:
        """The named fields a string expects (over all its plural forms), for the guard test that every language
        asks for the same ones."""
        entry = self._tables[lang][key]
        texts = [entry] if isinstance(entry, str) else list(entry.values())
        return {name for text in texts for _, name, _, _ in Formatter().parse(text) if name}

    def __call__(self, key: str, lang: Lang, /, **values: Any) -> str:
        entry = self._tables[lang].get(key)
        if entry is None:
            # A missing string must never crash a conversation; the guard test keeps this path unused.
            lang = Lang.EN
            entry = self._tables[Lang.EN].get(key, key)
        if not isinstance(entry, str):
            count = values.get("count")
            category = plural_category(lang, count) if isinstance(count, int) else "other"
            entry = entry.get(category, entry["other"])
        return entry.format(**values) if values else entry


def _read(path: Path) -> dict[str, Entry]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a locale file is a mapping of keys to strings")
    table: dict[str, Entry] = {}
    for key, value in data.items():
        if isinstance(value, str):
            table[str(key)] = value.strip("\n")
        elif (
            isinstance(value, dict)
            and "other" in value
            and set(value) <= set(CLDR_CATEGORIES)
            and all(isinstance(text, str) for text in value.values())
        ):
            table[str(key)] = {str(category): text.strip("\n") for category, text in value.items()}
        else:
            raise ValueError(
                f"{path}: {key}: a string, or a plural mapping of CLDR categories ({', '.join(CLDR_CATEGORIES)}) "
                "to strings, with `other` among them"
            )
    return table


@cache
def translator() -> Translator:
    """The shared translator, loaded once."""
    return Translator.load()
