"""``policy.changed`` (SPEC §6), written in the policy write's own transaction
(``PolicyStore.set(..., then=PolicyEvents(...).write)``): a change is told if and only if it
was saved, even when the API dies right after. A tenant's change goes to that tenant; a
global one to every tenant subscribed to it, each with its own effective policy (finding
those tenants reads across tenants: the global write runs in the ``ALL_TENANTS`` scope).
The id (process, scope, version) makes a second write of the same change a no-op."""

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from activities.webhooks.events import EventSink
from activities.webhooks.store import subscribed_tenants
from models.events import Event, EventType, event_id
from models.hitl import GLOBAL_TENANT, Policy, PolicyChange
from models.processes import Process
from store.db import sqlite_immediate
from store.policies import PolicyStore
from store.tenancy import ALL_TENANTS, tenant_scope


def policy_changed(change: PolicyChange, tenant: str, policy: Policy) -> Event:
    # Versions count per process, whichever gate's row changed: the id needs no gate.
    about = f"policy:{change.process.value}:{change.tenant}:v{change.version}"
    gate = change.gate
    return Event(
        id=event_id(about, EventType.POLICY_CHANGED),
        type=EventType.POLICY_CHANGED,
        created_at=datetime.now(UTC),
        tenant=tenant,
        data={
            "process": change.process.value,
            "scope": change.tenant,
            "version": change.version,
            "changed_by": change.changed_by,
            **({"gate": gate} if gate else {}),
            "policy": policy.model_dump(mode="json"),
        },
    )


class PolicyEvents:
    def __init__(self, policies: PolicyStore, sink: EventSink | None) -> None:
        self._policies = policies
        self._sink = sink

    async def write(self, session: AsyncSession, change: PolicyChange) -> int:
        """Queue the change's events in ``session``'s transaction; how many rows it added."""
        if self._sink is None:
            return 0
        if change.tenant == GLOBAL_TENANT:
            tenants = await subscribed_tenants(session, EventType.POLICY_CHANGED.value)
        else:
            tenants = [change.tenant]
        process = Process(change.process)
        events = [
            policy_changed(
                change,
                tenant,
                await self._policies.effective_in(session, process, tenant, change.gate),
            )
            for tenant in tenants
        ]
        return await self._sink.write(session, *events) if events else 0


class PolicyEventActivities:
    """For policy broadcasts started before the outbox (0008), which publish the change
    themselves: the same rows, so a change both wrote is queued once. Retire with
    ``activities/webhooks/legacy.py``."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        policies: PolicyStore,
        sink: EventSink | None,
    ) -> None:
        self._sessions = sessions
        self._events = PolicyEvents(policies, sink)

    @activity.defn
    async def publish_policy_changed(self, change: PolicyChange) -> int:
        """How many deliveries it queued."""
        with tenant_scope(ALL_TENANTS):
            async with self._sessions.begin() as session:
                await session.connection(execution_options=sqlite_immediate)
                return await self._events.write(session, change)
