"""Tell parked runs about a policy change: find the runs still holding an older version in
the runs table and signal each ``policy_changed``. Signals are idempotent on the gate (it
ignores a version it has already seen), so repeating a pass is harmless."""

import asyncio
import logging

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from models.broadcast import SignalReport, SignalStaleRuns
from models.hitl import GLOBAL_TENANT, PolicyChange
from models.processes import Process, RunState
from models.tables import RunRow
from workflows import PROCESS_WORKFLOWS

log = logging.getLogger(__name__)

# Bounded fan-out: a change reaching thousands of parked runs must not flood the frontend.
_PARALLEL_SIGNALS = 20
_WORKFLOW_BY_PROCESS = {wf.process: wf for wf in PROCESS_WORKFLOWS}


class BroadcastActivities:
    def __init__(self, client: Client, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._client = client
        self._sessions = sessions

    @activity.defn
    async def signal_stale_runs(self, req: SignalStaleRuns) -> SignalReport:
        stale = await self._stale(req.change, req.limit)
        if not stale:
            return SignalReport(stale=0)
        gate = asyncio.Semaphore(_PARALLEL_SIGNALS)
        signal = _WORKFLOW_BY_PROCESS[Process(req.change.process)].policy_changed

        async def tell(workflow_id: str) -> bool:
            async with gate:
                try:
                    await self._client.get_workflow_handle(workflow_id).signal(signal, req.change)
                except RPCError as e:
                    if e.status is RPCStatusCode.NOT_FOUND:
                        return False  # closed since its row was written
                    raise
                return True

        delivered = await asyncio.gather(*(tell(wid) for wid in stale))
        closed = delivered.count(False)
        return SignalReport(stale=len(stale) - closed, closed=closed)

    async def _stale(self, change: PolicyChange, limit: int) -> list[str]:
        stmt = select(RunRow.workflow_id).where(
            RunRow.process == Process(change.process).value,
            RunRow.state == RunState.AWAITING_APPROVAL.value,
            or_(RunRow.policy_version.is_(None), RunRow.policy_version < change.version),  # type: ignore[union-attr,operator]
        )
        if change.tenant != GLOBAL_TENANT:
            stmt = stmt.where(RunRow.tenant == change.tenant)
        stmt = stmt.order_by(RunRow.requested_at).limit(limit)
        async with self._sessions() as session:
            return list((await session.execute(stmt)).scalars())
