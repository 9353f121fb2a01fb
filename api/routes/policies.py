"""Policies (SPEC §2): read them; super admins flip HITL and the threshold at run time."""

from fastapi import APIRouter

from api.auth import Role
from api.deps import StateDep, SuperAdmin, Viewer
from api.errors import responses
from api.policy_changes import change_policy, parse_process
from api.schemas import Page, ThresholdBody, ToggleBody
from api.state import AppState
from models.hitl import Policy
from models.processes import Process

router = APIRouter(tags=["policies"])

_WRITE_ERRORS = responses(401, 403, 404, 422, 429, 503)


@router.get("/workflows/policies", name="list_policies", responses=responses(401, 403, 429))
async def list_policies(principal: Viewer, state: StateDep) -> Page[Policy]:
    """Effective policies for the caller's tenant; a super admin sees every row's."""
    if principal.role is Role.super_admin:
        return Page[Policy](items=await _every_row(state))
    return Page[Policy](items=await state.policies.effective_all(principal.tenant))


@router.get("/workflows/autonomous", name="list_autonomous", responses=responses(401, 403, 429))
async def list_autonomous(principal: Viewer, state: StateDep) -> Page[Policy]:
    """Processes whose HITL is off for the caller's tenant."""
    policies = await state.policies.effective_all(principal.tenant)
    return Page[Policy](items=[p for p in policies if not p.hitl_enabled])


@router.post("/workflows/hitl/{process}/toggle", name="toggle_hitl", responses=_WRITE_ERRORS)
async def toggle_hitl(
    process: str, body: ToggleBody, principal: SuperAdmin, state: StateDep
) -> Policy:
    """Turn HITL on or off for a tenant (no tenant: the global row `*`). Parked runs that no
    longer need a person proceed within seconds."""
    return await change_policy(
        state, principal, parse_process(process), body.tenant, hitl_enabled=body.enabled
    )


@router.put("/workflows/confidence/{process}", name="set_threshold", responses=_WRITE_ERRORS)
async def set_threshold(
    process: str, body: ThresholdBody, principal: SuperAdmin, state: StateDep
) -> Policy:
    """Set the confidence threshold for a tenant (no tenant: the global row `*`)."""
    return await change_policy(
        state, principal, parse_process(process), body.tenant, confidence_threshold=body.threshold
    )


async def _every_row(state: AppState) -> list[Policy]:
    rows = await state.policies.rows()
    return [await state.policies.effective(Process(r.process), r.tenant) for r in rows]
