"""Writes to the runs table: one row per workflow, kept current by the gate's steps.

The writes on every run's path are built once per dialect and set of columns
(``store.sql.built_once``) and executed with the row's values as parameters."""

from typing import Any, cast

from sqlalchemy import Table, bindparam, inspect, update
from sqlalchemy.ext.asyncio import AsyncSession

from models.activity_io import RunRef
from models.tables import RunRow, utcnow
from store.sql import built_once, dialect, dialect_insert, rowcount

# The Core table: an ORM-enabled statement answers without the count of rows written.
_RUNS = cast(Table, inspect(RunRow).local_table)


async def upsert(session: AsyncSession, run: RunRef, **values: Any) -> None:
    """Create the run's row or update it; the gate may be the first to write it (a run
    started from the Temporal CLI has no row yet)."""
    values = {**values, "run_id": run.run_id, "updated_at": utcnow()}
    stmt = _upsert(dialect(session), tuple(sorted(values)))
    key = {"workflow_id": run.workflow_id, "tenant": run.tenant, "process": run.process.value}
    await session.execute(stmt, {**values, **key})


@built_once
def _upsert(dialect_name: str, columns: tuple[str, ...]) -> Any:
    stmt = dialect_insert(dialect_name, _RUNS)
    updated = {c: getattr(stmt.excluded, c) for c in columns}
    return stmt.on_conflict_do_update(index_elements=[_RUNS.c.workflow_id], set_=updated)


async def create(
    session: AsyncSession,
    *,
    workflow_id: str,
    run_id: str,
    tenant: str,
    process: str,
    state: str,
    requested_by: str,
    idempotency_key: str | None = None,
    input_hash: str | None = None,
    subject: str | None = None,
) -> None:
    """Record a run at start; a row the workflow already wrote is left as it is."""
    now = utcnow()
    await session.execute(
        _create(dialect(session)),
        {
            "subject": subject,
            "workflow_id": workflow_id,
            "run_id": run_id,
            "tenant": tenant,
            "process": process,
            "state": state,
            "requested_by": requested_by,
            "idempotency_key": idempotency_key,
            "input_hash": input_hash,
            "created_at": now,
            "updated_at": now,
        },
    )


@built_once
def _create(dialect_name: str) -> Any:
    return dialect_insert(dialect_name, _RUNS).on_conflict_do_nothing(
        index_elements=[_RUNS.c.workflow_id]
    )


async def set_fields(
    session: AsyncSession, workflow_id: str, *, only_state: str | None = None, **values: Any
) -> int:
    """Update a run's row; with ``only_state``, only while it is in that state."""
    stmt = _set(tuple(sorted(values)), only_state is not None)
    params = {f"v_{c}": v for c, v in values.items()}
    params.update(v_updated_at=utcnow(), w_workflow_id=workflow_id)
    if only_state is not None:
        params["w_state"] = only_state
    return rowcount(await session.execute(stmt, params))


@built_once
def _set(columns: tuple[str, ...], by_state: bool) -> Any:
    # Parameters named apart from the columns: SQLAlchemy reserves a column's own name.
    stmt = update(_RUNS).where(_RUNS.c.workflow_id == bindparam("w_workflow_id"))
    if by_state:
        stmt = stmt.where(_RUNS.c.state == bindparam("w_state"))
    return stmt.values({c: bindparam(f"v_{c}") for c in (*columns, "updated_at")})
