"""Storage behind the services' narrow interfaces: SQLite by default (PostgreSQL for larger deployments)."""

from .base import ReviewUpdate, StorageError
from .factory import open_storage
from .sql import SQLStorage

__all__ = ["ReviewUpdate", "SQLStorage", "StorageError", "open_storage"]
