"""Open the storage a `DATABASE_URL` names."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit, urlunsplit

from .base import FullStorage, StorageError

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


def url_secrets(url: str) -> list[str]:
    """The passwords a database URL carries (in its user part or a `password=` parameter), as written and decoded."""
    parts = urlsplit(url)
    found: list[str] = []
    userinfo, at, _ = parts.netloc.rpartition("@")
    if at and ":" in userinfo:
        found.append(userinfo.split(":", 1)[1])
    found += [value for key, value in parse_qsl(parts.query, keep_blank_values=True) if key == "password"]
    found += [unquote(secret) for secret in found]
    return sorted({s for s in found if s}, key=len, reverse=True)


def redact_url(url: str) -> str:
    """`url` with any password replaced by ***, fit for messages and logs."""
    parts = urlsplit(url)
    netloc = parts.netloc
    userinfo, at, hosts = netloc.rpartition("@")
    if at and ":" in userinfo:
        netloc = f"{userinfo.split(':', 1)[0]}:***@{hosts}"
    query = "&".join(
        f"{key}=***" if key == "password" else item
        for item in parts.query.split("&")
        if item
        for key in [unquote(item.split("=", 1)[0])]
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


async def open_storage(url: str, *, base: Path | None = None) -> FullStorage:
    """Open (creating or upgrading the schema as needed) the database at `url`."""
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
