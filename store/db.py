"""Engines, sessions and schema migrations for app data (SQLite embedded, PostgreSQL in prod).

On PostgreSQL the app's engines act as the ``brain_app`` role under row-level security
(``store/rls.py``): each connection takes the role on at startup, and each transaction
tells the database whose rows it may touch, the tenant of the caller's ``tenant_scope``
(``store/tenancy.py``). Migrations run as the connecting user, the tables' owner.
"""

import asyncio
import logging
import os
import threading
from importlib import resources
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from store import rls, statement_counts
from store.tenancy import current_tenant
from store.tls import split_ssl

log = logging.getLogger(__name__)

_HERE = Path(__file__).parent
# Execution option naming the SQLite BEGIN mode for a transaction (see ``sqlite_immediate``).
SQLITE_BEGIN = "brain_sqlite_begin"
# A session's ``connection()`` options that make its SQLite transaction take the write lock at
# BEGIN: a deferred transaction that reads then writes can fail with SQLITE_BUSY regardless of
# busy_timeout, because SQLite cannot upgrade its snapshot once another writer committed.
sqlite_immediate: dict[str, Any] = {SQLITE_BEGIN: "IMMEDIATE"}
# Any fixed 64-bit number: all Brain processes serialize their migrations on it.
_MIGRATE_LOCK = 0x6272_6169_6E5F_6462  # "brain_db"
_migrate_lock = threading.Lock()


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def make_engine(url: str, *, app_role: bool = True, **kw: Any) -> AsyncEngine:
    """``app_role``: on PostgreSQL, act as ``brain_app`` under row-level security; only the
    migrations' engines (the tables' owner) turn it off."""
    engine = _make_engine(url, app_role=app_role, **kw)
    statement_counts.install(engine)  # the bench's counters; off unless it asks
    return engine


def _make_engine(url: str, *, app_role: bool, **kw: Any) -> AsyncEngine:
    if is_sqlite(url):
        return _sqlite_engine(url, **kw)
    # No pre-ping: on asyncpg it costs three round trips per checkout, on every transaction.
    # A connection whose socket is already closed (the server or a proxy hung up while it sat
    # in the pool) is dropped at checkout for free (``_drop_closed``); one the server dropped
    # silently fails its statement, SQLAlchemy invalidates the pool, and the caller's retry
    # (an activity's, a client's after 503) gets a fresh one.
    # The pool keeps up to 20 connections; past that, up to 10 more are opened for a burst
    # and closed on return, each a PostgreSQL backend started and ended: a worker running
    # dozens of activities at once bursts past 10 (the bench counts the connects).
    kw = {"pool_size": 20, "max_overflow": 10, "pool_recycle": 1800, **kw}
    parsed = make_url(url)
    connect_args = dict(kw.get("connect_args") or {})
    if parsed.get_driver_name() == "asyncpg":
        # asyncpg waits 60 s for an unreachable host by default; fail well before that.
        connect_args.setdefault("timeout", 10)
        # libpq's sslmode, sslrootcert, ... (BRAIN_DATABASE_SSL_*) as the driver's TLS context.
        parsed, ssl_arg = split_ssl(parsed)
        if ssl_arg is not None:
            connect_args.setdefault("ssl", ssl_arg)
    if app_role:
        connect_args = _as_app_role(parsed, connect_args)
    kw["connect_args"] = connect_args
    engine = create_async_engine(parsed, **kw)
    event.listen(engine.sync_engine, "checkout", _drop_closed)
    if app_role:
        event.listen(engine.sync_engine, "begin", _set_tenant)
    return engine


def _drop_closed(_dbapi_conn: Any, record: Any, _proxy: Any) -> None:
    # The driver knows, without a round trip, that the peer closed the socket; raising here
    # makes the pool discard this connection and check out (or open) another.
    is_closed = getattr(record.driver_connection, "is_closed", None)
    if is_closed is not None and is_closed():
        raise DisconnectionError("pooled connection closed by the peer")


def _as_app_role(url: URL, connect_args: dict[str, Any]) -> dict[str, Any]:
    # The role as a startup parameter is SET ROLE without a round trip, and RESET ROLE
    # returns to it, not to the login user.
    if url.get_driver_name() == "asyncpg":
        settings = {**connect_args.get("server_settings", {}), "role": rls.APP_ROLE}
        return {**connect_args, "server_settings": settings}
    options = f"{connect_args.get('options', '')} -c role={rls.APP_ROLE}".strip()
    return {**connect_args, "options": options}


_SET_TENANT = text(f"SELECT set_config('{rls.SETTING}', :tenant, :local)")


def _set_tenant(conn: Connection) -> None:
    """At BEGIN: the caller's tenant, for this transaction only, so a pooled connection never
    carries one caller's tenant to the next. One round trip per transaction, the statement
    prepared once per connection (tests/store/test_rls_cost.py counts them)."""
    # Under AUTOCOMMIT each statement is its own transaction: a transaction-local value would
    # be gone before the next one, so set it for the session (the next BEGIN overwrites it).
    local = conn.get_execution_options().get("isolation_level") != "AUTOCOMMIT"
    conn.execute(_SET_TENANT, {"tenant": current_tenant(), "local": local})


# A session's ``connection()`` options for one statement on its own: no BEGIN and no COMMIT
# (two round trips of four on PostgreSQL); the tenant is set for the connection's session.
_AUTOCOMMIT: dict[str, Any] = {"isolation_level": "AUTOCOMMIT"}


async def single_statement(session: AsyncSession) -> None:
    """Call first on a session that issues one statement (a read of one row or one page, an
    insert that stands alone): on PostgreSQL it then runs without BEGIN and COMMIT, atomic as
    any statement is. SQLite keeps its own transactions (``_sqlite_engine``)."""
    if session.get_bind().dialect.name == "postgresql":
        await session.connection(execution_options=_AUTOCOMMIT)


def _sqlite_engine(url: str, **kw: Any) -> AsyncEngine:
    database = make_url(url).database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, **kw)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Python's sqlite3 would otherwise issue BEGIN itself, lazily and always DEFERRED;
        # we take that over in ``_on_begin`` so a transaction can ask for IMMEDIATE.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        # WAL: readers never block the writer (API and worker share the file).
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        opts = conn.get_execution_options()
        if opts.get("isolation_level") == "AUTOCOMMIT":
            return
        mode = opts.get(SQLITE_BEGIN, "")
        conn.exec_driver_sql(f"BEGIN {mode}".strip())

    return engine


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def alembic_config(url: str | None = None) -> Config:
    """Brain's migrations, and each installed process's that brings its own (a plugin's
    business table: ``ProcessDefinition.migrations``), as branches of one history."""
    cfg = Config(str(_HERE / "alembic.ini"))
    cfg.set_main_option("script_location", str(_HERE / "migrations"))
    # ``path_separator = os`` in alembic.ini: the locations are joined with os.pathsep.
    cfg.set_main_option("version_locations", os.pathsep.join(version_locations()))
    if url:
        # ConfigParser interpolates '%', which URL-encoded passwords contain.
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def version_locations() -> list[str]:
    """Folders of Alembic revisions: Brain's, then each plugin's, once each."""
    from processes import registry  # loads every process: only when migrating

    found = [str(_HERE / "migrations" / "versions")]
    for definition in registry.definitions():
        if definition.migrations is not None:
            folder = str(resources.files(definition.migrations))
            if folder not in found:
                found.append(folder)
    return found


async def migrate(url: str) -> None:
    """Upgrade the schema to every head (Brain's and each plugin's); idempotent and safe for
    several processes at once."""
    # Alembic keeps its running context in module globals (alembic.context, alembic.op), so
    # two upgrades in one process must not interleave, not even on one event loop: serialize
    # them on a thread lock, each in a worker thread with its own loop.
    await asyncio.to_thread(_migrate_in_thread, url)


def _migrate_in_thread(url: str) -> None:
    with _migrate_lock:
        asyncio.run(_migrate(url))


async def _migrate(url: str) -> None:
    engine = make_engine(url, app_role=False)
    try:
        async with engine.connect() as conn:
            # SQLite: a second migrator waits at BEGIN (busy_timeout) instead of failing
            # half-way; it then finds the schema at head.
            await conn.execution_options(**sqlite_immediate)
            pg = conn.dialect.name == "postgresql"
            if pg:
                # Session-level lock: held across alembic's own transaction; a second process
                # waits here, then finds the schema at head and does nothing.
                await conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _MIGRATE_LOCK})
                await conn.commit()
            try:
                await conn.run_sync(_upgrade, url)
            finally:
                if pg:
                    await conn.rollback()
                    await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _MIGRATE_LOCK})
                    await conn.commit()
    finally:
        await engine.dispose()


def _upgrade(conn: Connection, url: str) -> None:
    cfg = alembic_config(url)
    # env.py uses this connection instead of opening its own (and its own event loop).
    cfg.attributes["connection"] = conn
    command.upgrade(cfg, "heads")
    # Again after every upgrade: a table a later migration added without protecting it
    # gets its policy here, in the same transaction (a no-op when nothing is missing).
    if conn.dialect.name == "postgresql" and (changed := rls.secure(conn)):
        log.warning("row-level security was missing on %s; applied", ", ".join(changed))
    conn.commit()


async def ping(engine: AsyncEngine, timeout_seconds: float = 5.0) -> bool:
    try:
        async with asyncio.timeout(timeout_seconds), engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as e:  # any failure means "not reachable" to a health check
        log.debug("database ping failed: %s", e)
        return False
    return True
