"""Migration 0010: the Slack tables and the subscriptions' ``interactive`` column as the
models declare them, and the revision goes down and up again."""

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, inspect
from sqlmodel import SQLModel

import models.slack_tables
import models.webhook_tables  # noqa: F401
from store.db import alembic_config, make_engine, migrate
from tests.conftest import Database

TABLES = {"slack_workspaces", "slack_users", "slack_seen_requests"}


def _ours(diff: object) -> bool:
    return any(name in repr(diff) for name in (*TABLES, "interactive"))


def _diff(conn: Connection) -> list[object]:
    ctx = MigrationContext.configure(conn, opts={"compare_type": True})
    return [d for d in compare_metadata(ctx, SQLModel.metadata) if _ours(d)]


async def test_migrated_slack_tables_match_the_models(database: Database) -> None:
    async with database.engine.connect() as conn:
        assert await conn.run_sync(_diff) == []


def _down_and_up(conn: Connection, url: str) -> tuple[set[str], list[str]]:
    cfg = alembic_config(url)
    cfg.attributes["connection"] = conn
    command.downgrade(cfg, "0009")
    without = set(inspect(conn).get_table_names())
    columns = [c["name"] for c in inspect(conn).get_columns("webhook_subscriptions")]
    command.upgrade(cfg, "head")
    conn.commit()
    return without, columns


async def test_downgrade_drops_them_and_upgrade_restores_them(tmp_path: Path) -> None:
    # A database of its own: the session's is in use by this module's neighbours.
    url = f"sqlite+aiosqlite:///{tmp_path / 'brain.db'}"
    await migrate(url)
    engine = make_engine(url, app_role=False)
    try:
        async with engine.connect() as conn:
            without, columns = await conn.run_sync(_down_and_up, url)
            after = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
            diff = await conn.run_sync(_diff)
    finally:
        await engine.dispose()
    assert not TABLES & without and "interactive" not in columns
    assert after >= TABLES and diff == []
