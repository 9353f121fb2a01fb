"""The outbox (SPEC §6): an event is written in the transaction of the step that raised it,
costs nothing for a tenant nobody subscribed to, reaches a subscription created just before
it, and is written once by a step that runs twice (a local activity whose workflow task was
discarded)."""

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio import workflow
from temporalio.client import Client
from temporalio.worker import (
    Interceptor,
    StartLocalActivityInput,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
    WorkflowOutboundInterceptor,
)

from activities.webhooks.legacy import WebhookDeliveryWorkflow, workflow_id_for
from activities.webhooks.outbox import Outbox
from activities.webhooks.parts import webhook_parts
from activities.webhooks.store import WebhookStore
from models.events import EventType
from models.webhook_tables import WebhookDeliveryRow
from models.webhooks import DeliveryState, WebhookDelivery
from services.webhooks import create_subscription
from store import rls
from store.db import sqlite_immediate
from tests.conftest import Database
from tests.support import parked, running_brain
from tests.webhooks.conftest import (
    FAST,
    Clock,
    Hooks,
    Publisher,
    make_event,
    new_tenant,
    worker_settings,
)
from tests.webhooks.receiver import Receiver


@contextmanager
def statements(engine: AsyncEngine) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        # Transaction control (SQLite's explicit BEGIN) is not a query, nor is the tenant
        # that PostgreSQL's row-level security reads, set at each BEGIN (store/db.py).
        if statement.split()[0].upper() in ("BEGIN", "COMMIT", "ROLLBACK"):
            return
        if f"set_config('{rls.SETTING}'" not in statement:
            seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


async def test_a_tenant_without_subscriptions_costs_one_read_then_nothing(
    database: Database,
) -> None:
    tenant = new_tenant()
    # A long TTL: what is measured is the cache, not how fast the test runs.
    outbox = Outbox(f"outbox-cost-{tenant}", ttl=60)
    with statements(database.engine) as first:
        async with database.sessions.begin() as session:
            assert await outbox.write(session, make_event(tenant)) == 0
    assert len(first) == 1 and first[0].lstrip().upper().startswith("SELECT")
    assert "webhook_subscriptions" in first[0]
    with statements(database.engine) as then:
        async with database.sessions.begin() as session:
            for kind in EventType:
                assert await outbox.write(session, make_event(tenant, kind)) == 0
    assert then == []


async def test_an_event_commits_with_its_step_or_not_at_all(
    hooks: Hooks, receiver: Receiver
) -> None:
    sub = await hooks.subscribe(receiver.url)
    outbox = hooks.publisher.outbox
    lost, kept = hooks.event(), hooks.event()
    # As a step does (outbox.write's rule): on SQLite the transaction takes the write lock
    # first, or the deliverer's claim can fail the read-then-insert with "database is locked".
    with pytest.raises(RuntimeError):
        async with hooks.db.sessions.begin() as session:
            await session.connection(execution_options=sqlite_immediate)
            assert await outbox.write(session, lost) == 1
            raise RuntimeError("the step fails after writing its event")
    async with hooks.db.sessions.begin() as session:
        await session.connection(execution_options=sqlite_immediate)
        assert await outbox.write(session, kept) == 1
    [request] = await receiver.wait_for(1)
    assert request.headers["webhook-id"] == kept.id
    await hooks.delivery(sub, "delivered")
    assert [r.event_id for r in await hooks.deliveries(sub)] == [kept.id]


async def test_a_subscription_hears_every_event_raised_after_it_was_created(
    hooks: Hooks, receiver: Receiver
) -> None:
    """The rule: ``create_subscription`` returns once no outbox can hold a list of the
    tenant's subscriptions read before it; this outbox has just read "none"."""
    outbox = hooks.publisher.outbox
    assert await hooks.publisher.publish(hooks.event()) == 0  # "none" is now cached
    sub = await create_subscription(
        hooks.store,
        hooks.tenant,
        url=receiver.url,
        events=[EventType.APPROVAL_REQUESTED.value],
        created_by="tester",
        allow_private=True,
    )
    after = hooks.event()
    assert await outbox.publish(hooks.db.sessions, after) == 1
    [request] = await receiver.wait_for(1)
    assert request.headers["webhook-id"] == after.id
    await hooks.delivery(sub, "delivered")


class _Plan:
    failures_left = 0
    failed = 0


PLAN = _Plan()


class _FailAfterOpenGate(WorkflowOutboundInterceptor):
    def start_local_activity(self, input: StartLocalActivityInput) -> Any:
        handle = super().start_local_activity(input)
        if input.activity != "park":
            return handle

        async def then_fail() -> Any:
            result = await handle
            if PLAN.failures_left > 0 and not workflow.unsafe.is_replaying():
                PLAN.failures_left -= 1
                PLAN.failed += 1
                # Not an ApplicationError: the whole workflow task fails and is discarded,
                # the local activity's marker with it; the retried task runs it again.
                raise RuntimeError("injected: the task that opened the gate fails")
            return result

        return asyncio.ensure_future(then_fail())


class _Inbound(WorkflowInboundInterceptor):
    def init(self, outbound: WorkflowOutboundInterceptor) -> None:
        super().init(_FailAfterOpenGate(outbound))


class FailAfterOpenGate(Interceptor):
    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[WorkflowInboundInterceptor]:
        return _Inbound


@pytest.mark.parametrize("database", ["postgres"], indirect=True)
async def test_a_discarded_task_that_opened_the_gate_queues_the_event_once(
    client: Client, database: Database, receiver: Receiver
) -> None:
    """``park`` is a local activity: its transaction (the run's row and the
    ``approval.requested`` row) commits even when its workflow task is then discarded, and
    the retried task runs it again. The event's id comes from the approval, so the second
    write adds nothing: one row, one delivery."""
    async with running_brain(
        client, database, webhooks=True, interceptors=[FailAfterOpenGate()]
    ) as brain:
        store = WebhookStore(database.sessions)
        sub = await create_subscription(
            store,
            brain.tenant,
            url=receiver.url,
            events=[EventType.APPROVAL_REQUESTED.value],
            created_by="tester",
            allow_private=True,
            settle_seconds=0,
        )
        PLAN.failures_left, PLAN.failed = 1, 0
        handle = await brain.start()
        await parked(handle)
        assert PLAN.failed == 1
        [request] = await receiver.wait_for(1)
        await asyncio.sleep(1)  # a second delivery would have had time to arrive
    assert len(receiver.requests) == 1
    assert request.headers["webhook-id"] == f"{handle.id}:1:approval.requested"
    rows = await store.deliveries(sub.tenant, sub.id)
    assert [(r.event_id, r.state) for r in rows] == [(request.headers["webhook-id"], "delivered")]


async def test_a_delivery_started_before_the_outbox_is_handed_over(
    hooks: Hooks, receiver: Receiver
) -> None:
    """A ``WebhookDeliveryWorkflow`` still open at the upgrade (its pending row has no event
    yet, as the old publisher wrote it) hands its event to the outbox at its next attempt;
    the deliverer sends it once, with its id."""
    sub = await hooks.subscribe(receiver.url)
    event = hooks.publisher.outbox.with_links(hooks.event())
    async with hooks.db.sessions.begin() as session:
        session.add(
            WebhookDeliveryRow(
                subscription_id=sub.id,
                tenant=event.tenant,
                event_id=event.id,
                event_type=event.type.value,
            )
        )
    outcome = await hooks.client.execute_workflow(
        WebhookDeliveryWorkflow.run,
        WebhookDelivery(subscription_id=sub.id, event=event, schedule=FAST),
        id=workflow_id_for(sub.id, event.id),
        task_queue=hooks.task_queue,
    )
    assert (outcome.state, outcome.reason) == (DeliveryState.PENDING, "handed over to the outbox")
    [request] = await receiver.wait_for(1)
    assert request.headers["webhook-id"] == event.id
    row = await hooks.delivery(sub, "delivered")
    assert (row.attempts, row.last_status) == (1, 200)


async def test_rows_handed_to_a_deliverer_that_died_are_claimed_when_their_lease_lapses(
    database: Database, receiver: Receiver
) -> None:
    """Written while this process's deliverer listens, rows are claimed by their insert
    and handed over at commit. Should that deliverer die before sending them, nothing is
    lost: their lease lapses and the next deliverer claims and sends them."""
    clock = Clock()
    queue = f"webhooks-handed-{new_tenant()}"
    parts = webhook_parts(database.sessions, worker_settings(queue), schedule=FAST, clock=clock)
    hooks = Hooks(None, database, queue, Publisher(parts.outbox, database))  # type: ignore[arg-type]
    sub = await hooks.subscribe(receiver.url)
    lost: list[Any] = []
    assert parts.outbox.doorbell is not None
    parts.outbox.doorbell.listen(lost.extend)  # a deliverer that takes them, then dies
    event = hooks.event()
    try:
        assert await hooks.publisher.publish(event) == 1
        assert [row.event_id for row in lost] == [event.id]
        parts.outbox.doorbell.unlisten(lost.extend)
        [row] = await hooks.deliveries(sub)
        assert (row.state, row.attempts) == ("pending", 1)  # claimed by its insert

        deliverer = parts.deliveries.deliverer(queue)
        await deliverer.deliver_due()
        assert receiver.requests == []  # the lease still runs
        clock.now += FAST.attempt_timeout * 2
        await deliverer.deliver_due()
    finally:
        await parts.aclose()
    [request] = receiver.requests
    assert request.headers["webhook-id"] == event.id
    [row] = await hooks.deliveries(sub)
    assert (row.state, row.attempts, row.last_status) == ("delivered", 2, 200)
