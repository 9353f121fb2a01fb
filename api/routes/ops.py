"""Ops (SPEC §4): failed and stuck runs, and replaying them from their last good point."""

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Query

from api.auth import Principal
from api.deps import Admin, StateDep
from api.errors import WorkflowNotFound, responses
from api.ops_schemas import FailedRunView, ReplayBody, ReplayItemView, ReplayResponse
from api.schemas import Page, ProcessName
from models.roles import Role
from processes import registry
from services import ops, replay

router = APIRouter(prefix="/ops", tags=["ops"])


def _scope(principal: Principal) -> str | None:
    """The tenant the caller may see; a super admin sees every tenant."""
    return None if principal.role >= Role.super_admin else principal.tenant


@router.get("/failed", name="list_failed_runs", responses=responses(401, 403, 422, 429))
async def list_failed(
    principal: Admin,
    state: StateDep,
    process: Annotated[ProcessName | None, Query()] = None,
) -> Page[FailedRunView]:
    """Current runs that failed, were terminated or timed out, and running runs that are
    stuck (their workflow task keeps failing), with the failure, the failing step and the
    last decision made."""
    runs = await ops.list_failed(
        state.client,
        tenant=_scope(principal),
        process=process,
        sessions=state.sessions,
    )
    return Page[FailedRunView](items=[FailedRunView(**asdict(r)) for r in runs])


@router.post("/replay", name="replay_runs", responses=responses(401, 403, 404, 422, 429))
async def replay_runs(principal: Admin, state: StateDep, body: ReplayBody) -> ReplayResponse:
    """Reset each matching failed run to its last good point: the workflow task that
    scheduled the step that failed, so the step runs again and decisions made before it are
    kept (a terminated or timed-out run: its last completed workflow task). Only a
    workflow's current run is replayed; a run that is not failed is refused with a reason."""
    try:
        items = await replay.replay(
            state.client,
            tenant=_scope(principal),
            workflow_id=body.workflow_id,
            process=registry.parse(body.process) if body.process else None,
            dry_run=body.dry_run,
            sessions=state.sessions,
            requested_by=principal.sub,
        )
    except ops.RunNotFound:
        raise WorkflowNotFound(f"no workflow {body.workflow_id!r} for this tenant") from None
    return ReplayResponse(items=[ReplayItemView(**asdict(i)) for i in items])
