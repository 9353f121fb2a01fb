"""Dialect-aware statements. SQLite and PostgreSQL both do ``ON CONFLICT``, but SQLAlchemy
builds it per dialect."""

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def insert(session: AsyncSession, table: Any) -> Any:
    """An ``INSERT`` for ``table`` that supports ``on_conflict_do_nothing/update``."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)
