"""Counting what an engine asks of its database, for the benchmark only: statements,
transactions, commits and rollbacks per process, written to a JSON file that the bench
reads before and after each scenario (``bench/dbcounts.py``).

Off unless ``BRAIN_SQL_COUNTS_DIR`` is set (the bench sets it for the processes it starts);
``BRAIN_SQL_COUNTS_ROLE`` names the process in the file's name. On PostgreSQL the round
trips of a transaction are its statements plus BEGIN and COMMIT (or ROLLBACK): asyncpg sends
each on its own, and a statement's prepare happens once per connection, not counted here.
Under AUTOCOMMIT no BEGIN or COMMIT goes out, so those transactions count as ``autocommit``.
"""

import json
import os
import threading
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, event
from sqlalchemy.ext.asyncio import AsyncEngine

DIR_ENV = "BRAIN_SQL_COUNTS_DIR"
ROLE_ENV = "BRAIN_SQL_COUNTS_ROLE"
_INTERVAL = 0.2

_counts: Counter[str] = Counter()
_lock = threading.Lock()
_writer: threading.Thread | None = None


def enabled() -> bool:
    return bool(os.environ.get(DIR_ENV))


def bump(name: str, n: int = 1) -> None:
    """Count something else the bench wants to read (a baseline run's AI step, say)."""
    with _lock:
        _counts[name] += n
    _ensure_writer()


def install(engine: AsyncEngine) -> None:
    """Count ``engine``'s statements and transactions while ``BRAIN_SQL_COUNTS_DIR`` is set."""
    if not enabled():
        return
    sync = engine.sync_engine

    def autocommit(conn: Connection) -> bool:
        return conn.get_execution_options().get("isolation_level") == "AUTOCOMMIT"

    @event.listens_for(sync, "before_cursor_execute")
    def _statement(conn: Connection, _c: Any, sql: str, *_a: Any) -> None:
        # SQLite's BEGIN goes through the cursor (store/db.py); counted as a transaction.
        if not sql.startswith("BEGIN"):
            bump("statements")

    @event.listens_for(sync, "begin")
    def _begin(conn: Connection) -> None:
        bump("autocommit" if autocommit(conn) else "transactions")

    @event.listens_for(sync, "commit")
    def _commit(conn: Connection) -> None:
        if not autocommit(conn):
            bump("commits")

    @event.listens_for(sync, "connect")
    def _connect(*_a: Any) -> None:
        bump("connects")  # a new connection to the database (a pool that churns shows here)

    @event.listens_for(sync, "rollback")
    def _rollback(conn: Connection) -> None:
        if not autocommit(conn):
            bump("rollbacks")


def snapshot() -> dict[str, int]:
    with _lock:
        return dict(_counts)


def _ensure_writer() -> None:
    global _writer
    if _writer is not None or not enabled():
        return
    with _lock:
        if _writer is not None:
            return
        _writer = threading.Thread(target=_write_forever, name="sql-counts", daemon=True)
        _writer.start()


def _write_forever() -> None:
    folder = Path(os.environ[DIR_ENV])
    folder.mkdir(parents=True, exist_ok=True)
    role = os.environ.get(ROLE_ENV, "process")
    path = folder / f"{role}-{os.getpid()}.json"
    last: dict[str, int] | None = None
    stop = threading.Event()
    while not stop.wait(_INTERVAL):
        now = snapshot()
        if now != last:
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(now))
            os.replace(tmp, path)
            last = now
