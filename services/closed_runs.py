"""Runs closed outside Brain: terminated or timed out from the Temporal Web UI or CLI, or
failed or canceled without the gate recording it. Nothing in the run is left to write its
row, so the row would keep saying ``running`` or ``awaiting_approval`` (and the inbox keep
offering it) for ever. Found here from Temporal and written to the runs table by the
reconciliation schedule (all runs, ``activities/reconcile.py``, every 20 s by default): reads
(``GET /workflows/{id}``, lists, the inbox) serve the table and never ask Temporal, so a
close from outside shows in them within one pass.

A row is only moved while it still says open and names the very execution that closed: a
replayed run has a new run id, and its old execution's close must not overwrite it.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col
from temporalio.client import Client, WorkflowExecutionStatus

from models.processes import RunState
from models.tables import RunRow, utcnow
from store.db import sqlite_immediate
from store.sql import rowcount
from temporal.search_attributes import BRAIN_PROCESS

log = logging.getLogger(__name__)

Sessions = async_sessionmaker[AsyncSession]

# How an execution closed, as the run's state. Completed is not here: the gate writes
# ``completed`` or ``rejected`` before the run returns, and only it knows which.
CLOSED_STATES: dict[WorkflowExecutionStatus, RunState] = {
    WorkflowExecutionStatus.TERMINATED: RunState.TERMINATED,
    WorkflowExecutionStatus.TIMED_OUT: RunState.TIMED_OUT,
    WorkflowExecutionStatus.FAILED: RunState.FAILED,
    WorkflowExecutionStatus.CANCELED: RunState.CANCELED,
}
# The row's error: what happened and where to see why (``brain ops failed`` reads the
# history; a read of one run must not fetch it).
_ERRORS = {
    RunState.TERMINATED: "terminated outside Brain (Temporal Web UI, CLI or another client)",
    RunState.TIMED_OUT: "timed out: the workflow execution timeout passed",
    RunState.FAILED: "failed before Brain could record it",
    RunState.CANCELED: "canceled outside Brain (Temporal Web UI, CLI or another client)",
}
_OPEN = (RunState.RUNNING.value, RunState.AWAITING_APPROVAL.value)
# Ids per statement: well under any database's bound-parameter limit.
_CHUNK = 500


@dataclass(frozen=True)
class ClosedRun:
    workflow_id: str
    run_id: str
    state: RunState


def visibility_status(status: WorkflowExecutionStatus) -> str:
    """The name visibility queries use (``TIMED_OUT`` is ``TimedOut``)."""
    return "".join(part.capitalize() for part in status.name.split("_"))


def closed_query(since: datetime) -> str:
    """Brain runs (``BrainProcess`` set) closed outside Brain since ``since``; built from
    enums and a timestamp only, never from anyone's input."""
    statuses = ", ".join(f"'{visibility_status(s)}'" for s in CLOSED_STATES)
    stamp = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return (
        f"{BRAIN_PROCESS.name} IS NOT NULL AND ExecutionStatus IN ({statuses}) "
        f"AND CloseTime >= '{stamp}'"
    )


async def closed_since(client: Client, since: datetime, limit: int) -> tuple[list[ClosedRun], bool]:
    """The runs visibility lists as closed outside Brain since ``since`` (at most ``limit``;
    the flag says whether there were more)."""
    found: list[ClosedRun] = []
    async for execution in client.list_workflows(closed_query(since), page_size=1000):
        if len(found) >= limit:
            return found, True
        state = CLOSED_STATES.get(execution.status) if execution.status else None
        if state is not None:
            found.append(ClosedRun(execution.id, execution.run_id, state))
    return found, False


async def record_closed(sessions: Sessions, closed: Sequence[ClosedRun]) -> list[str]:
    """Write each run's closed state to its row where the row still says open and names that
    execution; return the workflow ids written."""
    written: list[str] = []
    for start in range(0, len(closed), _CHUNK):
        chunk = {c.workflow_id: c for c in closed[start : start + _CHUNK]}
        async with sessions.begin() as session:
            # Read, then write: on SQLite take the write lock first (``sqlite_immediate``).
            await session.connection(execution_options=sqlite_immediate)
            stale = await _open_rows(session, list(chunk))
            for workflow_id, run_id in stale:
                run = chunk[workflow_id]
                if run_id == run.run_id and await _close_row(session, run):
                    written.append(workflow_id)
    if written:
        log.info("recorded %d run(s) closed outside Brain", len(written))
    return written


async def _open_rows(
    session: AsyncSession, workflow_ids: list[str]
) -> list[tuple[str, str | None]]:
    stmt = select(col(RunRow.workflow_id), col(RunRow.run_id)).where(
        col(RunRow.workflow_id).in_(workflow_ids),
        col(RunRow.state).in_(_OPEN),
    )
    return [(wid, rid) for wid, rid in await session.execute(stmt)]


async def _close_row(session: AsyncSession, run: ClosedRun) -> bool:
    # Re-checked in the statement: the gate or a replay may have moved the row meanwhile.
    stmt = (
        update(RunRow)
        .where(
            col(RunRow.workflow_id) == run.workflow_id,
            col(RunRow.run_id) == run.run_id,
            col(RunRow.state).in_(_OPEN),
        )
        .values(state=run.state.value, error=_ERRORS[run.state], updated_at=utcnow())
    )
    return bool(rowcount(await session.execute(stmt)))
