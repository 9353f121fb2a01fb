import asyncio
import sys

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, func, inspect, select, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel

import models.tables  # noqa: F401  (the tables the migration must reproduce)
from models.tables import PolicyRow
from store.db import alembic_config, make_engine, migrate, ping

EXPECTED_DEFAULTS = {
    "lead_scoring": (True, 0.85),
    "product_sourcing": (True, 0.90),
    "campaign_tuning": (False, 0.75),
    "content_generation": (False, 0.80),
}


def _diff(conn: Connection) -> list[object]:
    ctx = MigrationContext.configure(conn, opts={"compare_type": True})
    diffs: list[object] = compare_metadata(ctx, SQLModel.metadata)
    return diffs


async def test_migrated_schema_matches_models(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        assert await conn.run_sync(_diff) == []


async def test_migrate_twice_is_a_noop(engine: AsyncEngine, db_url: str) -> None:
    await migrate(db_url)
    async with engine.connect() as conn:
        versions = (await conn.execute(text("SELECT version_num FROM alembic_version"))).all()
        assert versions == [(ScriptDirectory.from_config(alembic_config()).get_current_head(),)]
        assert await conn.scalar(select(func.count()).select_from(PolicyRow)) == 4


async def test_concurrent_migrations_do_not_crash(db_url: str) -> None:
    # Separate processes, as the API, the worker and the CLI are: in one process migrate()
    # serializes itself, so only processes exercise the database-side locking.
    code = "import asyncio, sys; from store.db import migrate; asyncio.run(migrate(sys.argv[1]))"
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-c", code, db_url, stderr=asyncio.subprocess.PIPE
        )
        for _ in range(3)
    ]
    results = await asyncio.gather(*(p.communicate() for p in procs))
    for proc, (_, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0, err.decode()
    await asyncio.gather(migrate(db_url), migrate(db_url))
    engine = make_engine(db_url)
    try:
        async with engine.connect() as conn:
            assert await conn.scalar(select(func.count()).select_from(PolicyRow)) == 4
    finally:
        await engine.dispose()


async def test_default_global_policies_are_seeded(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        # The table itself (sqlmodel does not declare a model's __table__).
        rows = (await conn.execute(select(inspect(PolicyRow).local_table))).mappings().all()
    assert {r["process"]: (r["hitl_enabled"], r["confidence_threshold"]) for r in rows} == (
        EXPECTED_DEFAULTS
    )
    for r in rows:
        assert r["tenant"] == "*"
        assert r["version"] == 1
        assert r["updated_by"] == "system"
        assert r["approval_timeout_seconds"] == 86400
        assert r["on_timeout"] == "reject"


async def test_sqlite_pragmas(engine: AsyncEngine, backend: str) -> None:
    if backend != "sqlite":
        return
    async with engine.connect() as conn:
        assert await conn.scalar(text("PRAGMA journal_mode")) == "wal"
        assert await conn.scalar(text("PRAGMA busy_timeout")) == 30000
        assert await conn.scalar(text("PRAGMA synchronous")) == 1  # NORMAL


async def test_ping(engine: AsyncEngine) -> None:
    assert await ping(engine)
    dead = make_engine("postgresql+asyncpg://postgres@127.0.0.1:1/nope")
    try:
        assert not await ping(dead)
    finally:
        await dead.dispose()
