"""UI strings in every served language.

Traditional Chinese and English are written by hand in `locales/*.yaml`; Simplified Chinese is converted from
Traditional with OpenCC once, at load, and `locales/zh-Hans.yaml` may override single strings the conversion
gets wrong.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from string import Formatter
from typing import Any

import opencc
import yaml

from ..core.lang import Lang

LOCALES = Path(__file__).parent / "locales"


class Translator:
    """Looks up `key` in a language and fills in its named fields."""

    def __init__(self, tables: dict[Lang, dict[str, str]]) -> None:
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
        hans = {key: overrides.get(key, t2s.convert(text)) for key, text in hant.items()}
        return cls({Lang.ZH_HANT: hant, Lang.ZH_HANS: hans, Lang.EN: english})

    def keys(self, lang: Lang) -> set[str]:
        return set(self._tables[lang])

    def fields(self, key: str, lang: Lang) -> set[str]:
        """The named fields a string expects, for the guard test that every language asks for the same ones."""
        return {name for _, name, _, _ in Formatter().parse(self._tables[lang][key]) if name}

    def __call__(self, key: str, lang: Lang, /, **values: Any) -> str:
        text = self._tables[lang].get(key)
        if text is None:
            # A missing string must never crash a conversation; the guard test keeps this path unused.
            text = self._tables[Lang.EN].get(key, key)
        return text.format(**values) if values else text


def _read(path: Path) -> dict[str, str]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise ValueError(f"{path}: a locale file is a flat mapping of keys to strings")
    return {str(k): v.strip("\n") for k, v in data.items()}


@cache
def translator() -> Translator:
    """The shared translator, loaded once."""
    return Translator.load()
