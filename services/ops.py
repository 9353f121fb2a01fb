"""Ops (SPEC §4): find the runs that failed or are stuck, and replay them from their last
good point. Shared by the REST API and the CLI.

Only a workflow's current run is ever listed or reset: resetting an older run would
terminate the run that replaced it.
"""

import asyncio
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.api.workflow.v1 import WorkflowExecutionInfo
from temporalio.client import Client, WorkflowExecutionStatus

from models.processes import Process, RunState
from models.tables import RunRow
from processes import registry
from services import history
from temporal.search_attributes import BRAIN_PROCESS, BRAIN_TENANT

Sessions = async_sessionmaker[AsyncSession]

MAX_BATCH = 100
CONCURRENCY = 8
REPORTED_PROBLEMS = "TemporalReportedProblems"
# The values the server sets while a run's workflow task keeps failing or timing out (it
# needs ``system.numConsecutiveWorkflowTaskProblemsToTriggerSearchAttribute`` on a
# self-hosted server; `brain up` sets it).
STUCK_PROBLEMS = ("category=WorkflowTaskFailed", "category=WorkflowTaskTimedOut")
STUCK = "stuck"
CLOSED_FAILED = {
    WorkflowExecutionStatus.FAILED: RunState.FAILED.value,
    WorkflowExecutionStatus.TERMINATED: RunState.TERMINATED.value,
    WorkflowExecutionStatus.TIMED_OUT: RunState.TIMED_OUT.value,
}
_VISIBILITY_STATUS = {
    WorkflowExecutionStatus.FAILED: "Failed",
    WorkflowExecutionStatus.TERMINATED: "Terminated",
    WorkflowExecutionStatus.TIMED_OUT: "TimedOut",
}
# A tenant goes into a visibility query only when it is this plain; any other tenant is
# matched on the results instead, so no caller-controlled text is ever parsed as a query.
_PLAIN = re.compile(r"^[A-Za-z0-9_.:@*-]{1,128}$")


class RunNotFound(LookupError):
    """No such workflow, or it belongs to another tenant."""


@dataclass(frozen=True)
class FailedRun:
    workflow_id: str
    run_id: str
    process: str | None
    tenant: str | None
    status: str
    failure: str | None
    failure_type: str | None
    step: str | None
    last_decision: dict[str, Any] | None
    since: datetime | None


@dataclass(frozen=True)
class ReplayItem:
    workflow_id: str
    old_run_id: str
    new_run_id: str | None
    outcome: str
    reset_event_id: int | None = None


def _quoted(value: str) -> str:
    return f"'{value}'"


def _query(tenant: str | None, process: Process | None, status: str) -> str:
    # Built from enum values and checked tenants only; see _PLAIN.
    types = ", ".join(_quoted(d.workflow_type) for d in registry.definitions())
    parts = [f"WorkflowType IN ({types})", status]
    if tenant is not None and _PLAIN.match(tenant):
        parts.append(f"{BRAIN_TENANT.name} = {_quoted(tenant)}")
    if process is not None:
        parts.append(f"{BRAIN_PROCESS.name} = {_quoted(process.value)}")
    return " AND ".join(parts)


def reported_problems(info: WorkflowExecutionInfo) -> list[str]:
    payload = info.search_attributes.indexed_fields.get(REPORTED_PROBLEMS)
    if payload is None or not payload.data:
        return []
    value = json.loads(payload.data)
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def keyword(info: WorkflowExecutionInfo, name: str) -> str | None:
    payload = info.search_attributes.indexed_fields.get(name)
    return json.loads(payload.data) if payload is not None and payload.data else None


def is_stuck(info: WorkflowExecutionInfo) -> bool:
    return any(p in STUCK_PROBLEMS for p in reported_problems(info))


async def list_failed(
    client: Client,
    *,
    tenant: str | None,
    process: Process | None = None,
    sessions: Sessions | None = None,
    limit: int = MAX_BATCH,
) -> list[FailedRun]:
    """Current runs of ``tenant`` (None: every tenant) that failed, were terminated or timed
    out, and running runs that are stuck; newest first, at most ``limit``."""
    closed = " OR ".join(f"ExecutionStatus = '{s}'" for s in _VISIBILITY_STATUS.values())
    stuck = " OR ".join(f"{REPORTED_PROBLEMS} = {_quoted(p)}" for p in STUCK_PROBLEMS)
    queries = (
        _query(tenant, process, f"({closed})"),
        _query(tenant, process, f"ExecutionStatus = 'Running' AND ({stuck})"),
    )
    found: list[WorkflowExecutionInfo] = []
    for query in queries:
        async for execution in client.list_workflows(query, limit=limit):
            info = execution.raw_info
            if tenant is None or keyword(info, BRAIN_TENANT.name) == tenant:
                found.append(info)
    found.sort(key=lambda i: i.start_time.ToDatetime(), reverse=True)
    limiter = asyncio.Semaphore(CONCURRENCY)

    async def one(info: WorkflowExecutionInfo) -> FailedRun | None:
        async with limiter:
            return await _failed_run(client, info, sessions)

    listed = await asyncio.gather(*(one(i) for i in found[:limit]))
    return [run for run in listed if run is not None]


async def _failed_run(
    client: Client, info: WorkflowExecutionInfo, sessions: Sessions | None
) -> FailedRun | None:
    wid, run_id = info.execution.workflow_id, info.execution.run_id
    current = await client.get_workflow_handle(wid).describe()
    if current.run_id != run_id:
        return None  # replaced by a newer run (a replay, say): only the current run counts
    status = WorkflowExecutionStatus(info.status)
    events = (await client.get_workflow_handle(wid, run_id=run_id).fetch_history()).events
    summary = history.describe_failure(events)
    since = info.close_time if info.HasField("close_time") else info.execution_time
    return FailedRun(
        workflow_id=wid,
        run_id=run_id,
        process=keyword(info, BRAIN_PROCESS.name),
        tenant=keyword(info, BRAIN_TENANT.name),
        status=CLOSED_FAILED.get(status, STUCK),
        failure=summary.message,
        failure_type=summary.failure_type,
        step=summary.step,
        last_decision=await _last_decision(sessions, wid),
        since=since.ToDatetime(tzinfo=UTC) if since.seconds else None,
    )


async def _last_decision(sessions: Sessions | None, workflow_id: str) -> dict[str, Any] | None:
    if sessions is None:
        return None
    async with sessions() as session:
        row = await session.get(RunRow, workflow_id)
    if row is None or not row.decision:
        return None
    keys = ("approval_id", "action", "actor", "channel", "comment", "decided_at")
    return {k: row.decision.get(k) for k in keys}
