"""Open the storage a `DATABASE_URL` names."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from .base import StorageError
from .sql import SQLStorage

POSTGRES_SCHEMES = frozenset({"postgresql", "postgres"})


def sqlite_path(url: str, *, base: Path) -> str:
    """The file a `sqlite:///relative` or `sqlite:////absolute` URL names (`:memory:` stays as it is)."""
    rest = url[len("sqlite://") :]
    if not rest.startswith("/"):
        raise StorageError(f"bad SQLite URL {url!r}: write sqlite:///relative/path.db or sqlite:////abs/path.db")
    path = rest[1:]
    if path == ":memory:":
        return path
    if not path:
        raise StorageError(f"bad SQLite URL {url!r}: no file name")
    resolved = Path(path) if Path(path).is_absolute() else base / path
    return str(resolved)


async def open_storage(url: str, *, base: Path | None = None) -> SQLStorage:
    """Open (creating or upgrading the schema as needed) the database at `url`.

    Each back-end is imported only when asked for, so SQLite deployments need no asyncpg.
    """
    scheme = urlsplit(url).scheme
    if scheme == "sqlite":
        from .sqlite import SQLiteStorage

        return await SQLiteStorage.open(sqlite_path(url, base=base or Path.cwd()))
    if scheme in POSTGRES_SCHEMES:
        try:
            from .postgres import PostgresStorage
        except ImportError as error:
            raise StorageError(f"PostgreSQL storage needs asyncpg ({error}): pip install asyncpg") from error
        return await PostgresStorage.open(url)
    raise StorageError(
        f"unsupported DATABASE_URL scheme {scheme!r}: use sqlite:///path/to/file.db or postgresql://user@host/database"
    )
