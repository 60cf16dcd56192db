"""Languages served, and text that exists in each of them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Lang(StrEnum):
    """A language the bot serves. Traditional Chinese is the source; Simplified is derived with OpenCC."""

    ZH_HANT = "zh-Hant"
    ZH_HANS = "zh-Hans"
    EN = "en"


AUTHORED_LANGS: tuple[Lang, ...] = (Lang.ZH_HANT, Lang.EN)

# Region subtags that mean Simplified script (Telegram sends e.g. "zh-hans", "zh-cn"; locales "zh_CN.UTF-8").
_SIMPLIFIED_TAGS = frozenset({"hans", "cn", "sg", "my"})


def lang_from_code(code: str | None, *, default: Lang = Lang.EN) -> Lang:
    """Map a Telegram `language_code` or a POSIX locale name to a served language.

    zh-hans/zh-cn/zh-sg -> Simplified; any other Chinese (zh-hant, zh-tw, zh-hk, plain zh) -> Traditional,
    because the article and the bank are authored in Traditional; English for `en*`; `default` otherwise.
    """
    if not code:
        return default
    tag = code.split(".")[0].split("@")[0].replace("_", "-").lower()
    primary, _, rest = tag.partition("-")
    if primary == "zh":
        subtags = set(rest.split("-")) if rest else set()
        return Lang.ZH_HANS if subtags & _SIMPLIFIED_TAGS else Lang.ZH_HANT
    if primary == "en":
        return Lang.EN
    return default


def parse_lang(value: str) -> Lang:
    """Parse a language name as written by people (`zh-Hant`, `zh-hans`, `en`); raises ValueError."""
    for lang in Lang:
        if lang.value.lower() == value.strip().lower():
            return lang
    raise ValueError(f"unknown language {value!r}; choose one of: {', '.join(Lang)}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Localized:
    """One piece of text in every served language."""

    zh_hant: str
    zh_hans: str
    en: str

    def get(self, lang: Lang) -> str:
        """The text in `lang`."""
        if lang is Lang.ZH_HANT:
            return self.zh_hant
        if lang is Lang.ZH_HANS:
            return self.zh_hans
        return self.en

    def items(self) -> tuple[tuple[Lang, str], ...]:
        """Every (language, text) pair, for validation."""
        return ((Lang.ZH_HANT, self.zh_hant), (Lang.ZH_HANS, self.zh_hans), (Lang.EN, self.en))
