"""Dialect-aware statements. SQLite and PostgreSQL both do ``ON CONFLICT``, but SQLAlchemy
builds it per dialect."""

from collections.abc import Callable, Hashable
from functools import cache
from typing import Any, TypeVar, cast

from sqlalchemy import CursorResult, Executable, Result, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

_S = TypeVar("_S", bound=Executable)


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


def dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def built_once(build: Callable[..., _S]) -> Callable[..., _S]:
    """Memoize a statement builder on its (hashable) arguments, e.g. the dialect and the
    columns a write sets: the statements on every run's path are built once per process and
    executed with their values as parameters, instead of being built (and their cache key
    worked out) again for each row. Keep the arguments few: each combination stays."""
    return cast(Callable[..., _S], cache(build))


def dialect_insert(name: str, table: type[SQLModel] | Table) -> postgresql.Insert | sqlite.Insert:
    return postgresql.insert(table) if name == "postgresql" else sqlite.insert(table)


Key = Hashable
