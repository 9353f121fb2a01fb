"""Writes to the runs table: one row per workflow, kept current by the gate's steps."""

from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.activity_io import RunRef
from models.tables import RunRow, utcnow
from store.sql import insert, rowcount


async def upsert(session: AsyncSession, run: RunRef, **values: Any) -> None:
    """Create the run's row or update it; the gate may be the first to write it (a run
    started from the Temporal CLI has no row yet)."""
    values = {**values, "run_id": run.run_id, "updated_at": utcnow()}
    stmt = insert(session, RunRow).values(
        workflow_id=run.workflow_id, tenant=run.tenant, process=run.process.value, **values
    )
    await session.execute(
        stmt.on_conflict_do_update(index_elements=[RunRow.workflow_id], set_=values)
    )


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
    stmt = insert(session, RunRow).values(
        subject=subject,
        workflow_id=workflow_id,
        run_id=run_id,
        tenant=tenant,
        process=process,
        state=state,
        requested_by=requested_by,
        idempotency_key=idempotency_key,
        input_hash=input_hash,
    )
    await session.execute(stmt.on_conflict_do_nothing(index_elements=[RunRow.workflow_id]))


async def set_fields(
    session: AsyncSession, workflow_id: str, *, only_state: str | None = None, **values: Any
) -> int:
    """Update a run's row; with ``only_state``, only while it is in that state."""
    stmt = update(RunRow).where(col(RunRow.workflow_id) == workflow_id)
    if only_state is not None:
        stmt = stmt.where(col(RunRow.state) == only_state)
    return rowcount(await session.execute(stmt.values(**values, updated_at=utcnow())))
