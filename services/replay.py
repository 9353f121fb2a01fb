"""Replay (SPEC §4): reset failed or stuck runs to their last good point, one workflow or a
bounded batch, and report each run's outcome. Shared by the REST API and the CLI."""

import asyncio
import uuid

from temporalio.api.common.v1 import WorkflowExecution as ExecutionRef
from temporalio.api.enums.v1 import ResetReapplyType
from temporalio.api.workflowservice.v1 import ResetWorkflowExecutionRequest
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from models.processes import Process, RunState
from models.tables import RunRow
from services import history
from services.ops import (
    CLOSED_FAILED,
    CONCURRENCY,
    MAX_BATCH,
    ReplayItem,
    RunNotFound,
    Sessions,
    is_stuck,
    keyword,
    list_failed,
)
from store import runs
from store.db import sqlite_immediate
from temporal.search_attributes import BRAIN_PROCESS, BRAIN_STATE, BRAIN_TENANT

_REQUEST_IDS = uuid.UUID("3f0c8d55-5a3e-4b8e-9d2a-6f1f4f0b7a11")


def _refusal(status: WorkflowExecutionStatus | None, stuck: bool) -> str | None:
    if status in CLOSED_FAILED or (status is WorkflowExecutionStatus.RUNNING and stuck):
        return None
    if status is WorkflowExecutionStatus.RUNNING:
        what = "running and not stuck"
    else:
        what = status.name if status is not None else "of unknown status"
    return (
        f"refused: the run is {what.lower()}; only failed, terminated, timed-out or stuck "
        "runs are replayed"
    )


async def replay(
    client: Client,
    *,
    tenant: str | None,
    workflow_id: str | None = None,
    process: Process | None = None,
    dry_run: bool = False,
    sessions: Sessions | None = None,
    requested_by: str = "ops",
    limit: int = MAX_BATCH,
) -> list[ReplayItem]:
    """Reset each matching current run to its last good point (``history.find_reset_point``).

    With ``workflow_id``: that workflow's current run (``RunNotFound`` when it is not the
    tenant's); otherwise every failed or stuck run of the tenant (and process), at most
    ``limit``. A dry run only reports what would be reset.
    """
    if workflow_id is not None:
        targets = [workflow_id]
        await _check_owner(client, workflow_id, tenant, process)
    else:
        failed = await list_failed(client, tenant=tenant, process=process, limit=limit)
        targets = [run.workflow_id for run in failed]
    limiter = asyncio.Semaphore(CONCURRENCY)

    async def one(wid: str) -> ReplayItem:
        async with limiter:
            return await _replay_one(client, wid, dry_run, sessions, requested_by)

    return list(await asyncio.gather(*(one(wid) for wid in targets[:limit])))


async def _check_owner(
    client: Client, workflow_id: str, tenant: str | None, process: Process | None
) -> None:
    try:
        info = (await client.get_workflow_handle(workflow_id).describe()).raw_description
    except RPCError as err:
        if err.status is RPCStatusCode.NOT_FOUND:
            raise RunNotFound(workflow_id) from None
        raise
    attrs = info.workflow_execution_info
    owner, kind = keyword(attrs, BRAIN_TENANT.name), keyword(attrs, BRAIN_PROCESS.name)
    if kind is None or (tenant is not None and owner != tenant):
        raise RunNotFound(workflow_id)
    if process is not None and kind != process.value:
        raise RunNotFound(workflow_id)


async def _replay_one(
    client: Client, workflow_id: str, dry_run: bool, sessions: Sessions | None, by: str
) -> ReplayItem:
    description = await client.get_workflow_handle(workflow_id).describe()
    info = description.raw_description.workflow_execution_info
    run_id = description.run_id
    refused = _refusal(description.status, is_stuck(info))
    if refused is not None:
        return ReplayItem(workflow_id, run_id, None, refused)
    events = (await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()).events
    try:
        point = history.find_reset_point(events)
    except history.NoResetPoint as err:
        return ReplayItem(workflow_id, run_id, None, f"refused: {err}")
    if dry_run:
        return ReplayItem(
            workflow_id, run_id, None, f"dry run: would reset to event {point}", point
        )
    request = ResetWorkflowExecutionRequest(
        namespace=client.namespace,
        workflow_execution=ExecutionRef(workflow_id=workflow_id, run_id=run_id),
        reason=f"brain ops replay by {by}: resume at event {point}",
        workflow_task_finish_event_id=point,
        # The same run reset at the same point is one reset, however often it is asked for.
        request_id=str(uuid.uuid5(_REQUEST_IDS, f"{workflow_id}/{run_id}/{point}")),
        # Signals and updates after the point come back: decisions are never lost.
        reset_reapply_type=ResetReapplyType.RESET_REAPPLY_TYPE_ALL_ELIGIBLE,
        identity=f"brain-ops:{by}"[:200],
    )
    try:
        response = await client.workflow_service.reset_workflow_execution(request)
    except RPCError as err:
        return ReplayItem(workflow_id, run_id, None, f"error: {err.message}", point)
    if sessions is not None:
        await _resume_row(
            sessions,
            workflow_id,
            response.run_id,
            history.state_at(events, point, BRAIN_STATE.name),
        )
    return ReplayItem(workflow_id, run_id, response.run_id, "replayed", point)


async def _resume_row(sessions: Sessions, workflow_id: str, run_id: str, state: str | None) -> None:
    """Point the run's row at the new run, in the state it resumes in, unless the new run
    already moved it on (it may have finished before this line runs)."""
    async with sessions.begin() as session:
        # Read, then write: on SQLite take the write lock first (``sqlite_immediate``).
        await session.connection(execution_options=sqlite_immediate)
        row = await session.get(RunRow, workflow_id)
        if row is None:
            return
        await runs.set_fields(session, workflow_id, run_id=run_id)
        if row.state in _ENDED_BADLY:
            await runs.set_fields(
                session,
                workflow_id,
                only_state=row.state,
                state=state or RunState.RUNNING.value,
                error=None,
            )


_ENDED_BADLY = frozenset(
    {RunState.FAILED.value, RunState.TERMINATED.value, RunState.TIMED_OUT.value}
)
