"""Guards that keep the project's promises as it grows: locales, poll limits, layering, no import cycles, and
adapters that reach the data only through the services."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import grimp
import telegram.constants

from bot.config import PROJECT_ROOT
from bot.core.lang import Lang
from bot.core.limits import POLL_LIMITS
from bot.i18n import Translator

PURE_PACKAGES = ("core", "storage", "services", "i18n", "terminal")


def test_every_locale_has_the_same_keys_and_fields() -> None:
    t = Translator.load()
    reference = t.keys(Lang.ZH_HANT)
    for lang in Lang:
        assert t.keys(lang) == reference, lang
        for key in reference:
            assert t.fields(key, lang) == t.fields(key, Lang.ZH_HANT), (lang, key)


def test_core_poll_limits_equal_telegrams() -> None:
    limit = telegram.constants.PollLimit
    assert POLL_LIMITS.max_question_chars == limit.MAX_QUESTION_LENGTH
    assert POLL_LIMITS.max_option_chars == limit.MAX_OPTION_LENGTH
    assert POLL_LIMITS.max_options == limit.MAX_OPTION_NUMBER
    assert POLL_LIMITS.max_explanation_chars == limit.MAX_EXPLANATION_LENGTH
    assert POLL_LIMITS.max_explanation_line_feeds == limit.MAX_EXPLANATION_LINE_FEEDS
    # Bot API 9.1 allows a single option; a quiz needs a right and a wrong one, so the bank keeps 2.
    assert POLL_LIMITS.min_options >= limit.MIN_OPTION_NUMBER


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_nothing_under_core_storage_or_services_imports_telegram() -> None:
    offenders = []
    for package in PURE_PACKAGES:
        for path in (PROJECT_ROOT / "bot" / package).rglob("*.py"):
            if any(name == "telegram" or name.startswith("telegram.") for name in imported_modules(path)):
                offenders.append(str(path.relative_to(PROJECT_ROOT)))
    assert offenders == []


def test_import_contracts_hold() -> None:
    """import-linter also catches indirect imports and the adapters -> services -> core direction."""
    lint_imports = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run(
        [str(lint_imports), "--config", str(PROJECT_ROOT / "pyproject.toml")],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        check=False,
    )
    assert "Contracts: 4 kept, 0 broken" in result.stdout, result.stdout + result.stderr
    assert result.returncode == 0, result.stdout + result.stderr


STORAGE_ATTRIBUTES = frozenset({"storage", "_storage"})


def test_no_adapter_reaches_into_storage() -> None:
    """Handlers call the services; `svc.quiz.storage.get_user(...)` would bypass them where the import contracts
    cannot see (it imports nothing). Any attribute so named, on anything, counts."""
    offenders = []
    for package in ("telegram", "terminal"):
        for path in sorted((PROJECT_ROOT / "bot" / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            offenders += [
                f"{path.relative_to(PROJECT_ROOT)}:{node.lineno}: .{node.attr}"
                for node in ast.walk(tree)
                if isinstance(node, ast.Attribute) and node.attr in STORAGE_ATTRIBUTES
            ]
    assert offenders == []


def test_the_package_has_no_import_cycles() -> None:
    """Every import of `bot` (imports under TYPE_CHECKING and inside functions too) points one way, so no module
    needs another to be half-loaded. A cycle is named by its shortest loop."""
    graph = grimp.build_graph("bot")
    cycles = set()
    for module in graph.modules:
        for imported in graph.find_modules_directly_imported_by(module):
            back = graph.find_shortest_chain(importer=imported, imported=module)
            if back is not None:
                cycles.add(" -> ".join((module, *back)))
    assert sorted(cycles) == []
