"""Throwaway PostgreSQL databases for the test suite and the benchmark: made with a unique
name, dropped (even with connections left open) when done."""

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"


@asynccontextmanager
async def scratch_postgres(prefix: str, admin_dsn: str = ADMIN_DSN) -> AsyncIterator[str]:
    """Yield the SQLAlchemy URL (asyncpg driver) of a new, empty database."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    await _admin(admin_dsn, f'CREATE DATABASE "{name}"')
    try:
        server = admin_dsn.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
        yield f"{server}/{name}"
    finally:
        await _admin(admin_dsn, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _admin(admin_dsn: str, sql: str) -> None:
    # CREATE/DROP DATABASE cannot run inside a transaction: a plain connection, no ORM.
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()
