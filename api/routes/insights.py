"""Insights (SPEC §7): what the audit log says about each process, and the confidence
threshold its human decisions would support."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import Admin, StateDep
from api.errors import ValidationFailed, responses
from api.schemas import ProcessName
from api.scopes import TenantFilter, insight_tenant
from models.insights import DecisionInsights
from services.insights import decision_insights

router = APIRouter(tags=["insights"])

Since = Annotated[
    datetime | None,
    Query(description="Only decisions taken at or after this time (ISO 8601; no offset: UTC)"),
]


_ERRORS = responses(401, 403, 422, 429)


@router.get("/insights/decisions", name="decision_insights", responses=_ERRORS)
async def insights_decisions(
    principal: Admin,
    state: StateDep,
    process: Annotated[ProcessName | None, Query()] = None,
    since: Since = None,
    tenant: TenantFilter = None,
) -> DecisionInsights:
    """Per process: runs, auto rate, human decisions and their outcomes, time to decision,
    and a suggested threshold with the share of runs it would have let through."""
    return await decision_insights(
        state.sessions,
        state.policies,
        tenant=insight_tenant(principal, tenant),
        process=process,
        since=_utc(since),
    )


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    try:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError:  # e.g. year 1 at +01:00 is year 0 in UTC
        raise ValidationFailed(
            [{"loc": ["query", "since"], "msg": "out of range", "type": "value_error"}]
        ) from None
