"""The inbox and the REST door for decisions (SPEC §3)."""

from typing import Annotated

from fastapi import APIRouter, Query, Response

from api import decisions, queries
from api.deps import Approver, SettingsDep, StateDep, Viewer
from api.errors import responses
from api.paging import PageSize, PageToken
from api.params import WorkflowId
from api.responses import model_response
from api.schemas import ApprovalView, ApproveBody, Page, ProcessName, RejectBody, VoteRecorded
from api.scopes import TenantFilter, list_tenant
from api.views import approval_view
from hitl.eligibility import may_decide
from models.hitl import Decision, PendingApproval
from models.processes import Action, Door
from models.roles import Role
from models.tables import RunRow

router = APIRouter(tags=["approvals"])

_DECIDE_ERRORS = responses(401, 403, 404, 409, 422, 429, 503)


@router.get(
    "/approvals",
    name="list_approvals",
    response_model=Page[ApprovalView],
    responses=responses(401, 403, 422, 429),
)
async def list_approvals(
    principal: Viewer,
    state: StateDep,
    settings: SettingsDep,
    process: Annotated[ProcessName | None, Query()] = None,
    mine: Annotated[
        bool,
        Query(description="Only what the caller may decide over REST (groups and people)"),
    ] = False,
    page_size: PageSize = 50,
    page_token: PageToken = None,
    tenant: TenantFilter = None,
) -> Response:
    """Pending approvals of the caller's tenant, oldest first. Each names the gate it waits
    at and who may decide it (`approver_groups`, `approver_subjects`: both empty means any
    approver); `mine=true` keeps those the caller may decide."""

    def decidable(row: RunRow) -> bool:
        if principal.role < Role.approver:
            return False  # a role below approver decides nothing over REST
        approval = PendingApproval.model_validate(row.approval)
        return Door.API in approval.doors and may_decide(
            approval,
            principal.sub,
            principal.groups,
            case_sensitive=settings.subjects_case_sensitive,
        )

    rows, token = await queries.list_approvals(
        state.sessions,
        list_tenant(principal, tenant),
        process=process,
        page_size=page_size,
        page_token=page_token,
        keep=decidable if mine else None,
    )
    items = [approval_view(r) for r in rows if isinstance(r.approval, dict)]
    return model_response(Page[ApprovalView](items=items, next_page_token=token))


@router.post("/workflows/{workflow_id}/approve", name="approve", responses=_DECIDE_ERRORS)
async def approve(
    workflow_id: WorkflowId, principal: Approver, state: StateDep, body: ApproveBody | None = None
) -> Decision | VoteRecorded:
    """Approve the pending proposal, optionally with edits. Retrying the same request is
    safe: it is answered with the first outcome and never decides twice. Under a quorum,
    an approval that needs more answers with the votes so far; four-eyes refuses the run's
    requester (403 `FourEyes`)."""
    return await decisions.decide(
        state, principal, workflow_id, Action.APPROVE, body or ApproveBody()
    )


@router.post("/workflows/{workflow_id}/reject", name="reject", responses=_DECIDE_ERRORS)
async def reject(
    workflow_id: WorkflowId, principal: Approver, state: StateDep, body: RejectBody | None = None
) -> Decision | VoteRecorded:
    """Reject the pending proposal; the run completes with state `rejected`."""
    return await decisions.decide(
        state, principal, workflow_id, Action.REJECT, body or RejectBody()
    )
