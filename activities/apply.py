"""Apply steps: write the approved proposal as a business row, exactly once per workflow.

Each runs in one transaction with the audit row (written here if the decision needed no
person) and the run's final state, so a retry or a replay can never half-apply.
"""

from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import SQLModel
from temporalio import activity

from hitl.metrics import GateMetrics, default_metrics
from models.activity_io import ApplyRequest
from models.processes import RunState
from models.tables import CampaignChangeRow, ContentRow, LeadRow, PurchaseOrderDraftRow
from store import audit, business, runs

_ROUTES = {"hot": "sales", "warm": "nurture", "cold": "marketing"}

# Raises to refuse an apply (an integration being down, say); tests use it to make a
# run fail on a condition they control.
ApplyGuard = Callable[[ApplyRequest], None]


class ApplyActivities:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        guard: ApplyGuard | None = None,
        metrics: GateMetrics | None = None,
    ) -> None:
        self._sessions = sessions
        self._guard = guard
        self._metrics = metrics or default_metrics()

    @activity.defn
    async def apply_lead(self, req: ApplyRequest) -> dict[str, Any]:
        lead, proposal = req.run_input["lead"], self._proposal(req)
        return await self._write(
            req,
            LeadRow,
            name=lead["name"],
            email=lead["email"],
            company=lead["company"],
            score=proposal["score"],
            tier=proposal["tier"],
            route=_ROUTES[proposal["tier"]],
        )

    @activity.defn
    async def apply_sourcing(self, req: ApplyRequest) -> dict[str, Any]:
        proposal = self._proposal(req)
        return await self._write(
            req,
            PurchaseOrderDraftRow,
            product=req.run_input["product"],
            quantity=req.run_input["quantity"],
            supplier=proposal["supplier"],
            unit_price=proposal["unit_price"],
            total_cost=proposal["total_cost"],
        )

    @activity.defn
    async def apply_campaign(self, req: ApplyRequest) -> dict[str, Any]:
        return await self._write(
            req,
            CampaignChangeRow,
            campaign_id=req.run_input["campaign_id"],
            total_budget=req.run_input["total_budget"],
            budgets=self._proposal(req)["budgets"],
        )

    @activity.defn
    async def apply_content(self, req: ApplyRequest) -> dict[str, Any]:
        proposal = self._proposal(req)
        return await self._write(
            req,
            ContentRow,
            title=proposal["title"],
            body=proposal["body"],
            channel=req.run_input["brief"].get("channel"),
        )

    @staticmethod
    def _proposal(req: ApplyRequest) -> dict[str, Any]:
        if req.decision.final_proposal is None:
            raise ValueError("an approved decision must carry a final proposal")
        return req.decision.final_proposal

    async def _write(
        self, req: ApplyRequest, table: type[SQLModel], **values: Any
    ) -> dict[str, Any]:
        if self._guard is not None:
            self._guard(req)
        async with self._sessions.begin() as session:
            # Inserted here when no person decided (the auto path, a policy release); a
            # person's decision was recorded when it was made.
            inserted = await audit.record(session, req.run, req.decision)
            row = await business.write_once(
                session,
                table,
                req.run.workflow_id,
                {"tenant": req.run.tenant, "approval_id": req.decision.approval_id, **values},
            )
            await runs.set_fields(
                session,
                req.run.workflow_id,
                state=RunState.COMPLETED.value,
                decision=req.decision.model_dump(mode="json"),
                result=row,
                error=None,
            )
        if inserted:
            self._metrics.decided(req.run.process, req.decision, req.requested_at)
        return row
