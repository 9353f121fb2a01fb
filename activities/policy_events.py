"""``policy.changed`` (SPEC §6), published by the policy broadcast: the broadcast runs once
per policy version as a workflow, so the event survives an API that crashed right after the
write, and its id (process, scope, version) makes a retried publish deliver nothing twice.
A tenant's change goes to that tenant; a global one to every tenant subscribed to it, each
with its own effective policy. Only finding those tenants reads across tenants (the explicit
``ALL_TENANTS`` scope); each tenant's event is published in that tenant's scope."""

from datetime import UTC, datetime
from typing import Protocol

from temporalio import activity

from models.events import Event, EventType, event_id
from models.hitl import GLOBAL_TENANT, PolicyChange
from models.processes import Process
from store.policies import PolicyStore
from store.tenancy import ALL_TENANTS, tenant_scope


class PolicyEventSink(Protocol):
    async def publish(self, event: Event) -> int: ...

    async def subscribed_tenants(self, event_type: EventType) -> list[str]: ...


class PolicyEventActivities:
    def __init__(self, policies: PolicyStore, events: PolicyEventSink | None) -> None:
        self._policies = policies
        self._events = events

    @activity.defn
    async def publish_policy_changed(self, change: PolicyChange) -> int:
        """How many deliveries it started."""
        if self._events is None:
            return 0
        if change.tenant == GLOBAL_TENANT:
            with tenant_scope(ALL_TENANTS):
                tenants = await self._events.subscribed_tenants(EventType.POLICY_CHANGED)
        else:
            tenants = [change.tenant]
        started = 0
        for tenant in tenants:
            with tenant_scope(tenant):
                started += await self._publish(change, tenant)
        return started

    async def _publish(self, change: PolicyChange, tenant: str) -> int:
        assert self._events is not None
        policy = await self._policies.effective(Process(change.process), tenant, gate=change.gate)
        event = Event(
            id=event_id(
                EventType.POLICY_CHANGED,
                "policy",
                change.process.value,
                change.tenant,
                f"v{change.version}",
            ),
            type=EventType.POLICY_CHANGED,
            created_at=datetime.now(UTC),
            tenant=tenant,
            data={
                "process": change.process.value,
                "scope": change.tenant,
                "version": change.version,
                "changed_by": change.changed_by,
                "policy": policy.model_dump(mode="json"),
            },
        )
        return await self._events.publish(event)
