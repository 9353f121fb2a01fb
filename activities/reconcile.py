"""The reconciliation pass: Brain runs that visibility lists as closed outside Brain, written
to their rows (``services.closed_runs``). Run by ``ReconcileRunsWorkflow`` on a schedule, so
no run is ever polled on its own."""

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.client import Client

from models.reconcile import SAMPLE, PassReport, ReconcilePass
from services import closed_runs
from store.tenancy import ALL_TENANTS, tenant_scope


class ReconcileActivities:
    def __init__(self, client: Client, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._client = client
        self._sessions = sessions

    @activity.defn
    async def reconcile_runs(self, req: ReconcilePass) -> PassReport:
        closed, truncated = await closed_runs.closed_since(self._client, req.since, req.limit)
        if truncated:
            activity.logger.warning(
                "more than %d runs closed outside Brain since %s; only the newest were "
                "checked (raise ReconcileRuns.limit)",
                req.limit,
                req.since.isoformat(),
            )
        # Closed runs of every tenant: the explicit bypass of row-level security.
        with tenant_scope(ALL_TENANTS):
            updated = await closed_runs.record_closed(self._sessions, closed)
        return PassReport(
            found=len(closed),
            updated=len(updated),
            sample=updated[:SAMPLE],
            truncated=truncated,
        )
