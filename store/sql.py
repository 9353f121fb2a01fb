"""Dialect-aware statements. SQLite and PostgreSQL both do ``ON CONFLICT``, but SQLAlchemy
builds it per dialect."""

from typing import Any, cast

from sqlalchemy import CursorResult, Result, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel


def insert(
    session: AsyncSession, table: type[SQLModel] | Table
) -> postgresql.Insert | sqlite.Insert:
    """An ``INSERT`` for ``table`` (a model, or its Core table) that supports
    ``on_conflict_do_nothing/update``."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def rowcount(result: Result[Any]) -> int:
    """The rows an ``UPDATE`` or ``DELETE`` matched. The ORM session types every result as a
    ``Result``; one from a DML statement is a ``CursorResult``, which has the count."""
    return cast(CursorResult[Any], result).rowcount
