"""Language codes from Telegram and from POSIX locales."""

from __future__ import annotations

import pytest

from bot.core.lang import Lang, lang_from_code, parse_lang


@pytest.mark.parametrize(
    ("code", "lang"),
    [
        ("zh-hans", Lang.ZH_HANS),
        ("zh-cn", Lang.ZH_HANS),
        ("zh-sg", Lang.ZH_HANS),
        ("zh_CN.UTF-8", Lang.ZH_HANS),
        ("zh-hant", Lang.ZH_HANT),
        ("zh-tw", Lang.ZH_HANT),
        ("zh-hk", Lang.ZH_HANT),
        ("zh-mo", Lang.ZH_HANT),
        ("zh_TW.UTF-8", Lang.ZH_HANT),
        ("zh", Lang.ZH_HANT),
        ("en", Lang.EN),
        ("en-GB", Lang.EN),
        ("en_US.UTF-8", Lang.EN),
        ("fr", Lang.EN),
        ("", Lang.EN),
        (None, Lang.EN),
    ],
)
def test_language_codes_map_to_served_languages(code: str | None, lang: Lang) -> None:
    assert lang_from_code(code) is lang


def test_the_default_applies_to_languages_not_served() -> None:
    assert lang_from_code("C.UTF-8", default=Lang.ZH_HANT) is Lang.ZH_HANT


def test_parse_lang_accepts_any_case_and_refuses_unknown() -> None:
    assert parse_lang("ZH-hans") is Lang.ZH_HANS
    with pytest.raises(ValueError, match="unknown language"):
        parse_lang("de")
