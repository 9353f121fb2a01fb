"""Audit activities: each decision recorded once, with the run's new state."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from hitl.metrics import GateMetrics, default_metrics
from models.activity_io import RecordDecision, RecordOutcome
from models.tables import RunRow
from store import audit, runs


class AuditActivities:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], metrics: GateMetrics | None = None
    ) -> None:
        self._sessions = sessions
        self._metrics = metrics or default_metrics()

    @activity.defn
    async def record_decision(self, req: RecordDecision) -> None:
        async with self._sessions.begin() as session:
            inserted = await audit.record(session, req.run, req.decision)
            requested_at = await session.scalar(
                select(RunRow.requested_at).where(RunRow.workflow_id == req.run.workflow_id)  # type: ignore[arg-type]
            )
            await runs.set_fields(
                session,
                req.run.workflow_id,
                state=req.state.value,
                decision=req.decision.model_dump(mode="json"),
            )
        if inserted:  # committed, and the first time: count it once
            self._metrics.decided(req.run.process, req.decision, requested_at)
            decision = req.decision
            activity.logger.info(
                "decision %s by %s via %s", decision.action, decision.actor, decision.channel
            )

    @activity.defn
    async def record_outcome(self, req: RecordOutcome) -> None:
        """The run ended without applying (canceled or failed); say so on its row. A
        decision no one recorded yet (the apply step writes those of the auto path and of
        policy releases) is audited here: every decision is written once, applied or not."""
        inserted = False
        async with self._sessions.begin() as session:
            if req.decision is not None:
                inserted = await audit.record(session, req.run, req.decision)
            await runs.set_fields(
                session, req.run.workflow_id, state=req.state.value, error=req.error
            )
        if inserted:
            assert req.decision is not None
            self._metrics.decided(req.run.process, req.decision)
