"""Storage behind one small interface: SQLite by default (PostgreSQL for larger deployments)."""

from .base import FullStorage, GroupStorage, ReviewUpdate, Storage, StorageError
from .factory import open_storage

__all__ = ["FullStorage", "GroupStorage", "ReviewUpdate", "Storage", "StorageError", "open_storage"]
