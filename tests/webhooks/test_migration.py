"""The webhook tables as migrated are the tables the models declare, and the migration
goes down and up again."""

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, inspect
from sqlmodel import SQLModel

import models.webhook_tables  # noqa: F401  (the tables the migration must reproduce)
from store.db import alembic_config
from tests.conftest import Database

TABLES = {"webhook_subscriptions", "webhook_deliveries"}


def _ours(diff: object) -> bool:
    return any(name in repr(diff) for name in TABLES)


def _diff(conn: Connection) -> list[object]:
    ctx = MigrationContext.configure(conn, opts={"compare_type": True})
    return [d for d in compare_metadata(ctx, SQLModel.metadata) if _ours(d)]


async def test_migrated_webhook_tables_match_the_models(database: Database) -> None:
    async with database.engine.connect() as conn:
        assert await conn.run_sync(_diff) == []


def _down_and_up(conn: Connection, url: str) -> set[str]:
    cfg = alembic_config(url)
    cfg.attributes["connection"] = conn
    command.downgrade(cfg, "0005-1")
    without = set(inspect(conn).get_table_names())
    command.upgrade(cfg, "head")
    conn.commit()
    return without


async def test_downgrade_drops_the_tables_and_upgrade_restores_them(database: Database) -> None:
    if database.engine.dialect.name != "sqlite":
        return  # the session's PostgreSQL database is shared by concurrent tests
    async with database.engine.connect() as conn:
        without = await conn.run_sync(_down_and_up, database.url)
        after = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    assert not TABLES & without
    assert after >= TABLES
