"""The worker interceptor that runs each activity in its run's tenant scope."""

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from temporalio import worker

from models.activity_io import RecordOutcome, RunRef
from models.broadcast import SignalStaleRuns
from models.events import Event, EventType
from models.hitl import PolicyChange
from models.processes import Process, RunState
from models.webhooks import DeliveryAttempt, DeliverySchedule, MarkDead
from store.tenancy import ALL_TENANTS, current_tenant, tenant_scope
from temporal.tenant_scope import TenantScopeInterceptor, tenant_of

RUN = RunRef(
    workflow_id="lead_scoring:acme:k", run_id="r", tenant="acme", process=Process("lead_scoring")
)
EVENT = Event(id="e", type=EventType.RUN_COMPLETED, created_at=datetime.now(UTC), tenant="globex")
CHANGE = PolicyChange(process=Process("lead_scoring"), version=2, changed_by="root")


@pytest.mark.parametrize(
    ("arg", "tenant"),
    [
        (RecordOutcome(run=RUN, state=RunState.FAILED), "acme"),
        (EVENT, "globex"),
        (DeliveryAttempt(subscription_id="wh", event=EVENT, schedule=DeliverySchedule()), "globex"),
        (MarkDead(subscription_id="wh", event=EVENT, reason="gone"), "globex"),
        # Cross-tenant activities name no tenant: they open the bypass themselves.
        (SignalStaleRuns(change=CHANGE), ""),
        (CHANGE, ""),
        ({"lead": {}}, ""),
    ],
    ids=lambda v: type(v).__name__,
)
def test_the_tenant_comes_from_the_typed_input(arg: Any, tenant: str) -> None:
    assert tenant_of((arg,)) == tenant
    assert tenant_of(()) == ""


class _Next(worker.ActivityInboundInterceptor):
    def __init__(self) -> None:
        pass

    async def execute_activity(self, input: Any) -> str:
        return current_tenant()


async def test_an_activity_never_inherits_the_workers_scope() -> None:
    inbound = TenantScopeInterceptor().intercept_activity(_Next())
    # Whatever scope the worker was started in (here the bypass), the activity gets its own.
    with tenant_scope(ALL_TENANTS):
        run = SimpleNamespace(args=(RecordOutcome(run=RUN, state=RunState.FAILED),))
        assert await inbound.execute_activity(run) == "acme"  # type: ignore[arg-type]
        none = SimpleNamespace(args=(SignalStaleRuns(change=CHANGE),))
        assert await inbound.execute_activity(none) == ""  # type: ignore[arg-type]
        assert current_tenant() == ALL_TENANTS
