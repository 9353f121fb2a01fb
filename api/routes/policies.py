"""Policies (SPEC §2): read them; super admins change them at run time; admins read the
change log."""

from typing import Annotated

from fastapi import APIRouter, Query

from api import paging
from api.deps import Admin, StateDep, SuperAdmin, Viewer
from api.errors import responses
from api.paging import PageSize, PageToken
from api.policy_changes import change_policy, parse_process
from api.schemas import Page, PolicyBody, ProcessName, ThresholdBody, ToggleBody
from api.scopes import TenantFilter, change_log_tenants
from api.state import AppState
from models.hitl import Policy, PolicyFields
from models.policy_log import PolicyChangeEntry
from models.processes import Process
from models.roles import Role

router = APIRouter(tags=["policies"])

_WRITE_ERRORS = responses(401, 403, 404, 422, 429, 503)
# Which of the process's gates a change is for (SPEC §8); omitted: the first.
GateParam = Annotated[
    str | None,
    Query(
        max_length=32,
        description="The gate whose policy changes (e.g. `finance`); omitted: the first gate",
    ),
]


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
    process: str, body: ToggleBody, principal: SuperAdmin, state: StateDep, gate: GateParam = None
) -> Policy:
    """Turn HITL on or off for a tenant (no tenant: the global row `*`). Parked runs that no
    longer need a person proceed within seconds."""
    patch = PolicyFields(hitl_enabled=body.enabled)
    return await change_policy(state, principal, parse_process(process), body.tenant, patch, gate)


@router.put("/workflows/confidence/{process}", name="set_threshold", responses=_WRITE_ERRORS)
async def set_threshold(
    process: str,
    body: ThresholdBody,
    principal: SuperAdmin,
    state: StateDep,
    gate: GateParam = None,
) -> Policy:
    """Set the confidence threshold for a tenant (no tenant: the global row `*`)."""
    patch = PolicyFields(confidence_threshold=body.threshold)
    return await change_policy(state, principal, parse_process(process), body.tenant, patch, gate)


@router.put("/workflows/policies/{process}", name="set_policy", responses=_WRITE_ERRORS)
async def set_policy(
    process: str, body: PolicyBody, principal: SuperAdmin, state: StateDep, gate: GateParam = None
) -> Policy:
    """Change any policy fields of a gate (`?gate=`; omitted: the first) for a tenant (no
    tenant: the global row `*`): versioned, audited in the change log, and announced to
    runs parked at that gate like a toggle. Who may decide the gate: `approver_groups`,
    `approver_subjects` (empty: any approver), through `doors`."""
    return await change_policy(
        state, principal, parse_process(process), body.tenant, body.patch(), gate
    )


@router.get(
    "/workflows/policies/changes",
    name="list_policy_changes",
    responses=responses(401, 403, 422, 429),
)
async def list_policy_changes(
    principal: Admin,
    state: StateDep,
    process: Annotated[ProcessName | None, Query()] = None,
    tenant: TenantFilter = None,
    page_size: PageSize = 50,
    page_token: PageToken = None,
) -> Page[PolicyChangeEntry]:
    """The policy change log, newest first: who changed what, when, old and new values. An
    admin sees its tenant's changes and the global ones; a super admin every change, or
    one tenant's (`tenant=*`: the global rows')."""
    key = paging.decode(page_token, paging.integer)
    rows = await state.policies.changes(
        process,
        page_size + 1,  # one more tells whether another page exists
        tenant=change_log_tenants(principal, tenant),
        before_id=key[0] if key else None,
    )
    token = paging.encode([rows[page_size - 1].id]) if len(rows) > page_size else None
    items = [PolicyChangeEntry.from_row(r) for r in rows[:page_size]]
    return Page[PolicyChangeEntry](items=items, next_page_token=token)


async def _every_row(state: AppState) -> list[Policy]:
    rows = await state.policies.rows()
    return [await state.policies.effective(Process(r.process), r.tenant, gate=r.gate) for r in rows]
