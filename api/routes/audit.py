"""The audit log (SPEC §3): every decision, human or automatic, newest first."""

from typing import Annotated

from fastapi import APIRouter, Query

from api import queries
from api.deps import StateDep, Viewer
from api.errors import responses
from api.paging import PageSize, PageToken
from api.params import WorkflowIdFilter
from api.schemas import AuditEntry, Page, ProcessName
from api.scopes import TenantFilter, list_tenant
from api.views import audit_view

router = APIRouter(tags=["audit"])


@router.get("/audit", name="list_audit", responses=responses(401, 403, 422, 429))
async def list_audit(
    principal: Viewer,
    state: StateDep,
    workflow_id: WorkflowIdFilter = None,
    process: Annotated[ProcessName | None, Query()] = None,
    page_size: PageSize = 50,
    page_token: PageToken = None,
    tenant: TenantFilter = None,
) -> Page[AuditEntry]:
    rows, token = await queries.list_audit(
        state.sessions,
        list_tenant(principal, tenant),
        workflow_id=workflow_id,
        process=process,
        page_size=page_size,
        page_token=page_token,
    )
    return Page[AuditEntry](items=[audit_view(r) for r in rows], next_page_token=token)
