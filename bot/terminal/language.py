"""The terminal quiz's language: `--lang`, else the locale, else the person picks from a list.

A locale that names neither Chinese nor English (`C.UTF-8`, usual in containers, or `fr_FR`, `de_DE`) says
nothing about which of the three languages someone reads, so an interactive terminal asks, once per run, and
says how to skip the question next time. Scripted input gets no picker (it would swallow the script's first
answer): it plays in English, the language most likely read by someone whose locale is neither, and a one-line
hint on stderr says how to choose.
"""

from __future__ import annotations

import locale
from collections.abc import Mapping
from typing import IO

from ..core.lang import Lang, lang_from_code
from ..i18n import Translator
from .screen import EndOfInput, Screen, number

LOCALE_VARIABLES = ("LC_ALL", "LC_MESSAGES", "LANG")  # gettext's order, most specific first
PICK_ORDER = (Lang.ZH_HANT, Lang.ZH_HANS, Lang.EN)
FALLBACK = Lang.EN
COMMAND = "python -m bot play"


def served_lang(code: str) -> Lang | None:
    """The served language a locale name or language tag names (`zh_TW.UTF-8`, `zh-Hans`, `en_GB`); None when it
    is neither Chinese nor English (`C.UTF-8`, `fr_FR`)."""
    tag = code.split(".")[0].split("@")[0].replace("_", "-").lower()
    if tag.partition("-")[0] in {"zh", "en"}:
        return lang_from_code(tag)
    return None


def locale_lang(environ: Mapping[str, str]) -> tuple[Lang | None, str]:
    """The language the locale names, if it names a served one, and the locale as the hint shows it."""
    for name in LOCALE_VARIABLES:
        value = environ.get(name)
        if value:
            return served_lang(value), f"{name}={value}"
    current = locale.getlocale()[0]
    if current:
        return served_lang(current), current
    return None, "LANG unset"


def choose_lang(
    t: Translator, *, environ: Mapping[str, str], screen: Screen, interactive: bool, errors: IO[str]
) -> Lang | None:
    """The language to play in when `--lang` was not given; None when the person quit at the picker."""
    found, where = locale_lang(environ)
    if found is not None:
        return found
    if not interactive:
        errors.write(t("terminal.lang_fallback", FALLBACK, locale=where, name=t("lang.name", FALLBACK)) + "\n")
        errors.flush()
        return FALLBACK
    try:
        lang = pick_lang(t, screen)
    except (EndOfInput, KeyboardInterrupt):
        screen.say()
        return None
    screen.say(t("terminal.lang_tip", lang, command=f"{COMMAND} --lang {lang.value}", name=t("lang.name", lang)))
    return lang


def pick_lang(t: Translator, screen: Screen) -> Lang:
    """Ask which language, in all three (the person reads at least one); Enter means English."""
    screen.say(" / ".join(t("terminal.lang_pick", lang) for lang in (Lang.EN, Lang.ZH_HANT, Lang.ZH_HANS)))
    for n, lang in enumerate(PICK_ORDER, 1):
        screen.say(f"  {n}) {t('lang.name', lang)}")
    default = PICK_ORDER.index(FALLBACK) + 1
    while True:
        answer = screen.ask(f"[1-{len(PICK_ORDER)}, Enter = {default}] ")
        if not answer:
            return FALLBACK
        chosen = number(answer)
        if chosen is not None and 1 <= chosen <= len(PICK_ORDER):
            return PICK_ORDER[chosen - 1]
        named = served_lang(answer)  # "en", "zh-Hant", "zh_TW" typed instead of a number
        if named is not None:
            return named
