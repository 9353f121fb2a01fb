"""Tell parked runs about a policy change: find the runs parked at the changed gate still
holding an older version in the runs table and signal each ``brain_policy_changed``,
carrying the effective policy of its tenant (read once per tenant here, not once per run
there) and Brain's signature over the run, the change and its version (``temporal.door``):
a run acts on nothing else. Signals are idempotent on the gate (it ignores a version it has
already seen), so repeating a pass is harmless.

A delivered signal is in the run's history, so the run will act on it: its row is marked
with the version right away. The next pass then looks only for runs that parked late (read
the older policy just before the change), not for the ones still working through the
signal, which would otherwise be signalled again every pass until they had.

A global change reaches the parked runs of every tenant: the one place the broadcast reads
across tenants, in the explicit ``ALL_TENANTS`` scope (row-level security, store/rls.py).
A tenant's change stays in that tenant's scope.
"""

import asyncio
import logging

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col
from temporalio import activity
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from models.broadcast import SignalReport, SignalStaleRuns
from models.hitl import GLOBAL_TENANT, Policy, PolicyChange
from models.processes import Process, RunState
from models.tables import RunRow, utcnow
from processes import registry
from store.policies import PolicyStore
from store.tenancy import ALL_TENANTS, tenant_scope
from temporal import door
from temporal.handlers import POLICY_CHANGED_SIGNAL

log = logging.getLogger(__name__)

# Bounded fan-out: a change reaching thousands of parked runs must not flood the frontend.
_PARALLEL_SIGNALS = 64
# Rows marked per statement: well under any database's bound-parameter limit.
_MARK_CHUNK = 500


class BroadcastActivities:
    def __init__(
        self, client: Client, sessions: async_sessionmaker[AsyncSession], policies: PolicyStore
    ) -> None:
        self._client = client
        self._sessions = sessions
        self._policies = policies

    @activity.defn
    async def signal_stale_runs(self, req: SignalStaleRuns) -> SignalReport:
        scope = ALL_TENANTS if req.change.tenant == GLOBAL_TENANT else req.change.tenant
        with tenant_scope(scope):
            return await self._signal_stale_runs(req)

    async def _signal_stale_runs(self, req: SignalStaleRuns) -> SignalReport:
        change = req.change
        stale = await self._stale(change, req.limit)
        if not stale:
            return SignalReport(stale=0)
        effective = await self._effective(change, {tenant for _, tenant in stale})
        key = door.configured()
        if key is None:
            raise RuntimeError("this worker holds no door key: it cannot sign policy changes")
        limit = asyncio.Semaphore(_PARALLEL_SIGNALS)

        async def tell(workflow_id: str, tenant: str) -> bool:
            told = change.model_copy(update={"policy": effective.get(tenant)})
            payload = told.model_dump(mode="json")
            # Signed over exactly what is sent: the run checks the payload as it arrives.
            payload["signature"] = door.sign(key, workflow_id, payload, door.POLICY_CHANGED)
            async with limit:
                try:
                    await self._client.get_workflow_handle(workflow_id).signal(
                        POLICY_CHANGED_SIGNAL, payload
                    )
                except RPCError as e:
                    if e.status is RPCStatusCode.NOT_FOUND:
                        return False  # closed since its row was written
                    raise
                return True

        delivered = await asyncio.gather(*(tell(wid, tenant) for wid, tenant in stale))
        reached = [wid for (wid, _), ok in zip(stale, delivered, strict=True) if ok]
        await self._mark_told(change, reached)
        closed = delivered.count(False)
        return SignalReport(stale=len(stale) - closed, closed=closed)

    async def _stale(self, change: PolicyChange, limit: int) -> list[tuple[str, str]]:
        stmt = select(col(RunRow.workflow_id), col(RunRow.tenant)).where(
            col(RunRow.process) == Process(change.process).value,
            col(RunRow.state) == RunState.AWAITING_APPROVAL.value,
            _at_gate(change),
            _older_policy(change),
        )
        if change.tenant != GLOBAL_TENANT:
            stmt = stmt.where(col(RunRow.tenant) == change.tenant)
        stmt = stmt.order_by(col(RunRow.requested_at)).limit(limit)
        async with self._sessions() as session:
            return [(wid, tenant) for wid, tenant in await session.execute(stmt)]

    async def _effective(self, change: PolicyChange, tenants: set[str]) -> dict[str, Policy]:
        """Each tenant's effective policy, when it is at least the changed version (a
        replica or cache behind the write gives none: those runs re-read their own)."""
        out = {}
        for tenant in tenants:
            policy = await self._policies.effective(
                Process(change.process), tenant, gate=change.gate, min_version=change.version
            )
            if policy.version >= change.version:
                out[tenant] = policy
        return out

    async def _mark_told(self, change: PolicyChange, workflow_ids: list[str]) -> None:
        # Never lowers a version a run has already recorded (a newer change reached it).
        for chunk in range(0, len(workflow_ids), _MARK_CHUNK):
            stmt = (
                update(RunRow)
                .where(
                    col(RunRow.workflow_id).in_(workflow_ids[chunk : chunk + _MARK_CHUNK]),
                    col(RunRow.state) == RunState.AWAITING_APPROVAL.value,
                    _at_gate(change),
                    _older_policy(change),
                )
                .values(policy_version=change.version, updated_at=utcnow())
            )
            async with self._sessions.begin() as session:
                await session.execute(stmt)


def _at_gate(change: PolicyChange) -> ColumnElement[bool]:
    """Runs parked at the changed gate; a row with no gate (a run from before gates had
    names) is at its process's first gate."""
    first = registry.definition(change.process).gates[0].name
    gate = change.gate or first
    if gate == first:
        return or_(col(RunRow.gate) == gate, col(RunRow.gate).is_(None))
    return col(RunRow.gate) == gate


def _older_policy(change: PolicyChange) -> ColumnElement[bool]:
    """A run whose row holds no policy version yet, or one older than the change."""
    version = col(RunRow.policy_version)
    return or_(version.is_(None), version < change.version)
