"""Every activity runs in the tenant scope of the run it works for (``store/tenancy.py``), so
PostgreSQL's row-level security shows it that tenant's rows only.

One worker interceptor instead of a line in every activity: the tenant is read from the
activity's typed input: a ``RunRef`` at ``.run`` (the gate's and the apply steps'), an
``Event`` as the input or at ``.event`` (webhook deliveries started before the outbox: the
event's tenant is its subscription's). Anything else runs with no tenant, and sees no
tenant's rows: the activities that are cross-tenant by design (the policy broadcast,
reconciliation, the webhook deliverer) open the ``ALL_TENANTS`` scope themselves, around
exactly what needs it. The scope is set
explicitly either way, never inherited from whatever started the worker.

It is a client interceptor too, so ``temporal.client.connect`` installs it on every client
and each worker built from that client gets it (the Temporal SDK passes a client's worker
interceptors on to its workers).
"""

from collections.abc import Sequence
from typing import Any

from temporalio import client, worker

from store.tenancy import NO_TENANT, tenant_scope


def tenant_of(args: Sequence[Any]) -> str:
    """The tenant an activity's arguments belong to; ``NO_TENANT`` when they name none."""
    # Imported here: every client installs this interceptor, and a CLI command that only
    # reads a run must not load every process's models to build one (brain status).
    from models.activity_io import RunRef
    from models.events import Event

    arg = args[0] if args else None
    run = getattr(arg, "run", None)
    if isinstance(run, RunRef):
        return run.tenant
    event = arg if isinstance(arg, Event) else getattr(arg, "event", None)
    if isinstance(event, Event):
        return event.tenant
    return NO_TENANT


class TenantScopeInterceptor(client.Interceptor, worker.Interceptor):
    def intercept_activity(
        self, next: worker.ActivityInboundInterceptor
    ) -> worker.ActivityInboundInterceptor:
        return _ActivityInbound(next)


class _ActivityInbound(worker.ActivityInboundInterceptor):
    async def execute_activity(self, input: worker.ExecuteActivityInput) -> Any:
        with tenant_scope(tenant_of(input.args)):
            return await super().execute_activity(input)
