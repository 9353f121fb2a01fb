"""Alembic environment. ``store.db.migrate`` hands us a live connection; the ``alembic`` CLI
does not, so then we open one ourselves on a private event loop."""

import asyncio
from logging.config import fileConfig

from alembic import context
from sqlalchemy import Connection
from sqlmodel import SQLModel

import models.slack_tables
import models.tables
import models.webhook_tables  # noqa: F401
from processes import registry

config = context.config
# Every process's business table, a plugin's too (its revisions: store.db.alembic_config).
registry.definitions()
target_metadata = SQLModel.metadata


def _url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
        "sqlalchemy.url"
    )
    if url:
        return url
    from core.settings import get_settings

    return get_settings().effective_database_url


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        # SQLite cannot ALTER most things; batch mode rebuilds tables for later migrations.
        render_as_batch=connection.dialect.name == "sqlite",
        # One transaction for the whole upgrade on SQLite too (its DDL is transactional, and
        # store.db begins it IMMEDIATE): alembic would otherwise commit after each revision,
        # and a second migrator taking the lock between two of them would run the next one
        # again from the version it read.
        transactional_ddl=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async(url: str) -> None:
    from store.db import make_engine

    engine = make_engine(url, app_role=False)
    try:
        async with engine.connect() as conn:
            await conn.run_sync(_run)
            await conn.commit()
    finally:
        await engine.dispose()


def main() -> None:
    if context.is_offline_mode():
        context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    # Only the CLI gets here: configure logging without touching a host app's loggers.
    if config.config_file_name:
        fileConfig(config.config_file_name, disable_existing_loggers=False)
    asyncio.run(_run_async(_url()))


main()
