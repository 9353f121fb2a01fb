"""Audit activities: each decision recorded once, with the run's new state."""

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from models.activity_io import RecordDecision, RecordOutcome
from store import audit, runs


class AuditActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    @activity.defn
    async def record_decision(self, req: RecordDecision) -> None:
        async with self._sessions.begin() as session:
            await audit.record(session, req.run, req.decision)
            await runs.set_fields(
                session,
                req.run.workflow_id,
                state=req.state.value,
                decision=req.decision.model_dump(mode="json"),
            )

    @activity.defn
    async def record_outcome(self, req: RecordOutcome) -> None:
        """The run ended without applying (canceled or failed); say so on its row."""
        async with self._sessions.begin() as session:
            await runs.set_fields(
                session, req.run.workflow_id, state=req.state.value, error=req.error
            )
