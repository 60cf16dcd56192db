"""The shared statements and the storage package's shape: each statement compiles in both dialects, only the storage
imports a database driver, and the storage, settings and logging modules import one another without a cycle."""

from __future__ import annotations

import re
import sqlite3
from dataclasses import fields
from pathlib import Path

import asyncpg
import grimp
import pytest

from bot.storage.sqlite import SQLiteStorage
from bot.storage.statements import Dialect, Statements, for_dialect

DRIVERS = ("sqlite3", "aiosqlite", "asyncpg")


def every_statement(statements: Statements) -> list[str]:
    found: list[str] = []
    for field in fields(Statements):
        value = getattr(statements, field.name)
        found += [value] if isinstance(value, str) else list(value)
    return found


def test_each_dialect_gets_its_own_placeholders_and_byte_order() -> None:
    sqlite, postgres = every_statement(for_dialect(Dialect.SQLITE)), every_statement(for_dialect(Dialect.POSTGRES))
    assert postgres == every_statement(Statements())  # written in PostgreSQL's spelling
    for text in sqlite:
        assert "$" not in text and 'COLLATE "C"' not in text
    assert [re.sub(r"\?(\d+)", r"$\1", s).replace("COLLATE BINARY", 'COLLATE "C"') for s in sqlite] == postgres


async def test_every_shared_statement_compiles_on_sqlite(tmp_path: Path) -> None:
    store = await SQLiteStorage.open(str(tmp_path / "q.db"))
    await store.close()
    db = sqlite3.connect(tmp_path / "q.db")
    try:
        for text in every_statement(for_dialect(Dialect.SQLITE)):
            count = max((int(n) for n in re.findall(r"\?(\d+)", text)), default=0)
            db.execute(f"EXPLAIN {text}", [None] * count)  # compiled, not run
    finally:
        db.close()


async def test_every_shared_statement_compiles_on_postgres(postgres_dsn: str) -> None:
    from bot.storage.postgres import PostgresStorage

    store = await PostgresStorage.open(postgres_dsn)
    await store.close()
    conn = await asyncpg.connect(postgres_dsn)
    try:
        for text in every_statement(for_dialect(Dialect.POSTGRES)):
            await conn.prepare(text)  # parsed, planned and typed by the server, not run
    finally:
        await conn.close()


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("bot", include_external_packages=True)


def test_only_the_storage_imports_a_database_driver(graph: grimp.ImportGraph) -> None:
    for driver in DRIVERS:
        importers = graph.find_modules_that_directly_import(driver) if driver in graph.modules else set()
        assert {m for m in importers if not m.startswith("bot.storage.")} == set(), driver


def test_storage_settings_and_logging_import_no_cycle(graph: grimp.ImportGraph) -> None:
    modules = {m for m in graph.modules if m.startswith("bot.storage.")} | {"bot.config", "bot.logs", "bot.redact"}
    for module in sorted(modules):
        for imported in graph.find_modules_directly_imported_by(module):
            if imported.startswith("bot."):
                assert not graph.chain_exists(importer=imported, imported=module), f"{module} <-> {imported}"
    # Settings and logging need nothing of the storage: they share only the stdlib-only redact module.
    for module in ("bot.config", "bot.logs", "bot.redact"):
        assert not graph.chain_exists(importer=module, imported="bot.storage"), module
