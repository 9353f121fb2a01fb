"""Delivery end to end: outbox → the queue's deliverer → a real HTTP receiver (SPEC §6)."""

import asyncio
import time
import uuid
from datetime import timedelta

import pytest
from standardwebhooks import Webhook
from temporalio.client import Client

from models.events import EventType
from models.tables import utcnow
from models.webhook_tables import WebhookDeliveryRow
from tests.conftest import Database
from tests.polling import eventually
from tests.webhooks.conftest import FAST, Hooks, Publisher, delivering, worker_settings
from tests.webhooks.receiver import HANG, Receiver


async def test_an_event_arrives_signed_within_two_seconds(hooks: Hooks, receiver: Receiver) -> None:
    sub = await hooks.subscribe(receiver.url)
    event = hooks.event(subject="Ada Lovelace")
    started = time.monotonic()
    assert await hooks.publisher.publish(event) == 1
    [request] = await receiver.wait_for(1, within=2)
    assert time.monotonic() - started < 2

    # Verified with the Standard Webhooks library, as a receiver would.
    payload = Webhook(sub.secret).verify(request.body, request.headers)
    assert payload["id"] == event.id == request.headers["webhook-id"]
    assert payload["type"] == "approval.requested"
    assert payload["tenant"] == hooks.tenant
    data = payload["data"]
    assert data["workflow_id"] == event.workflow_id
    assert data["links"]["web_ui"].endswith(f"/namespaces/default/workflows/{event.workflow_id}")
    assert data["links"]["api"].endswith(f"/api/brain/workflows/{event.workflow_id}")
    assert request.headers["content-type"] == "application/json"

    row = await hooks.delivery(sub, "delivered")
    assert (row.attempts, row.last_status, row.next_attempt_at) == (1, 200, None)


async def test_a_wrong_secret_does_not_verify(hooks: Hooks, receiver: Receiver) -> None:
    await hooks.subscribe(receiver.url)
    await hooks.publisher.publish(hooks.event())
    [request] = await receiver.wait_for(1)
    other = "whsec_" + "A" * 32
    with pytest.raises(Exception, match="signature"):
        Webhook(other).verify(request.body, request.headers)


async def test_two_failures_then_delivered_with_one_webhook_id(
    hooks: Hooks, receiver: Receiver
) -> None:
    receiver.script = [500, 500]
    sub = await hooks.subscribe(receiver.url)
    event = hooks.event()
    await hooks.publisher.publish(event)
    requests = await receiver.wait_for(3, within=15)
    assert [r.headers["webhook-id"] for r in requests] == [event.id] * 3
    row = await hooks.delivery(sub, "delivered")
    assert (row.attempts, row.last_status) == (3, 200)


async def test_retry_after_is_honoured(hooks: Hooks, receiver: Receiver) -> None:
    receiver.script = [(429, {"Retry-After": "2"})]
    sub = await hooks.subscribe(receiver.url)
    await hooks.publisher.publish(hooks.event())
    await receiver.wait_for(1)
    first = time.monotonic()

    async def first_attempt_recorded() -> WebhookDeliveryRow | None:
        # An attempt counts from its claim; its answer is on the row once recorded.
        [row] = await hooks.deliveries(sub)
        return row if row.attempts == 1 and row.last_error is not None else None

    pending = await eventually(first_attempt_recorded)
    assert (pending.state, pending.last_status) == ("pending", 429)
    assert pending.next_attempt_at is not None
    await receiver.wait_for(2, within=10)
    # The schedule alone would have waited 0.2 s at most.
    assert time.monotonic() - first >= 1.8
    row = await hooks.delivery(sub, "delivered")
    assert row.attempts == 2


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
async def test_a_receiver_down_for_30_seconds_gets_the_event_when_back(
    hooks: Hooks, receiver: Receiver
) -> None:
    sub = await hooks.subscribe(receiver.url)
    await receiver.stop()
    await hooks.publisher.publish(hooks.event())
    await asyncio.sleep(30)
    down = await hooks.delivery(sub, "pending")
    assert down.attempts >= 5 and down.last_status is None
    assert down.last_error is not None and "connection" in down.last_error
    assert down.next_attempt_at is not None
    await receiver.start()  # the same port
    await receiver.wait_for(1, within=5)
    row = await hooks.delivery(sub, "delivered")
    assert row.attempts > down.attempts


async def test_410_disables_the_subscription(hooks: Hooks, receiver: Receiver) -> None:
    receiver.default = 410
    sub = await hooks.subscribe(receiver.url)
    await hooks.publisher.publish(hooks.event())
    row = await hooks.delivery(sub, "dead")
    assert (row.attempts, row.last_status, row.next_attempt_at) == (1, 410, None)
    stored = await hooks.store.get(hooks.tenant, sub.id)
    assert stored is not None and not stored.enabled and "410" in (stored.disabled_reason or "")
    # A disabled subscription matches nothing any more.
    assert await hooks.publisher.publish(hooks.event()) == 0
    assert len(receiver.requests) == 1


async def test_400_is_dead_at_once_with_its_status(hooks: Hooks, receiver: Receiver) -> None:
    receiver.default = 400
    sub = await hooks.subscribe(receiver.url)
    await hooks.publisher.publish(hooks.event())
    row = await hooks.delivery(sub, "dead")
    assert (row.attempts, row.last_status, row.last_error) == (1, 400, "HTTP 400")
    await asyncio.sleep(1)
    assert len(receiver.requests) == 1
    stored = await hooks.store.get(hooks.tenant, sub.id)
    assert stored is not None and stored.enabled


async def test_publishing_the_same_event_twice_delivers_once(
    hooks: Hooks, receiver: Receiver
) -> None:
    sub = await hooks.subscribe(receiver.url)
    event = hooks.event()
    assert await hooks.publisher.publish(event) == 1
    await hooks.delivery(sub, "delivered")
    assert await hooks.publisher.publish(event) == 0
    assert await hooks.publisher.publish(event.model_copy()) == 0
    await asyncio.sleep(1)
    assert len(receiver.requests) == 1
    assert len(await hooks.deliveries(sub)) == 1


async def test_another_tenants_subscription_never_sees_the_event(
    hooks: Hooks, receiver: Receiver
) -> None:
    other = await hooks.subscribe(receiver.url + "/other", tenant="someone-else-" + hooks.tenant)
    mine = await hooks.subscribe(receiver.url + "/mine")
    assert await hooks.publisher.publish(hooks.event()) == 1
    [request] = await receiver.wait_for(1)
    assert request.path == "/hook/mine"
    await asyncio.sleep(1)
    assert len(receiver.requests) == 1
    assert await hooks.deliveries(other) == []
    assert len(await hooks.deliveries(mine)) == 1


async def test_filters_by_event_type_and_process(hooks: Hooks, receiver: Receiver) -> None:
    sub = await hooks.subscribe(
        receiver.url, events=["run.completed", "run.failed"], process="lead_processing"
    )
    assert sub.process == "lead_scoring"  # the alias is stored as the API name
    assert await hooks.publisher.publish(hooks.event(EventType.APPROVAL_REQUESTED)) == 0
    assert await hooks.publisher.publish(hooks.event(process="campaign_tuning")) == 0
    completed = hooks.event(EventType.RUN_COMPLETED, result={"score": 82})
    assert await hooks.publisher.publish(completed) == 1
    [request] = await receiver.wait_for(1)
    assert request.json()["type"] == "run.completed"


async def test_slack_format_posts_text_and_blocks(hooks: Hooks, receiver: Receiver) -> None:
    sub = await hooks.subscribe(receiver.url, fmt="slack")
    approval = {"proposal": {"tier": "hot", "score": 82}, "confidence": 0.64, "threshold": 0.85}
    await hooks.publisher.publish(hooks.event(subject="Ada Lovelace", approval=approval))
    [request] = await receiver.wait_for(1)
    Webhook(sub.secret).verify(request.body, request.headers)  # signed all the same
    message = request.json()
    assert "Lead scoring" in message["text"] and "Ada Lovelace" in message["text"]
    assert "0.64" in message["text"] and "0.85" in message["text"]
    blocks = str(message["blocks"])
    assert '"tier": "hot"' in blocks and "Temporal Web UI" in blocks and "REST API" in blocks


async def test_a_deleted_subscription_stops_its_retries(hooks: Hooks, receiver: Receiver) -> None:
    receiver.default = 503
    sub = await hooks.subscribe(receiver.url)
    await hooks.publisher.publish(hooks.event())
    await receiver.wait_for(2)
    assert await hooks.store.remove(hooks.tenant, sub.id)
    await asyncio.sleep(2.5)  # longer than the fast schedule's longest wait
    seen = len(receiver.requests)
    await asyncio.sleep(1.5)
    assert len(receiver.requests) == seen


async def test_a_hanging_receiver_holds_up_no_other_subscription(
    client: Client, database: Database, receiver: Receiver
) -> None:
    """Two subscribers of one tenant; one never answers, and its attempts may wait a minute.
    The other gets every event meanwhile: each subscription has its own lane."""
    patient = FAST.model_copy(update={"attempt_timeout": timedelta(minutes=1)})
    task_queue = f"webhooks-lanes-{uuid.uuid4().hex[:8]}"
    hanging = Receiver(default=HANG)  # type: ignore[arg-type]
    await hanging.start()
    try:
        settings = worker_settings(task_queue)
        async with delivering(client, database, settings, schedule=patient) as parts:
            hooks = Hooks(client, database, task_queue, Publisher(parts.outbox, database))
            stuck = await hooks.subscribe(hanging.url)
            fine = await hooks.subscribe(receiver.url)
            events = [hooks.event() for _ in range(3)]
            for event in events:
                assert await hooks.publisher.publish(event) == 2
            await hanging.wait_for(1, within=10)
            requests = await receiver.wait_for(3, within=30)
            assert {r.headers["webhook-id"] for r in requests} == {e.id for e in events}

            async def all_delivered() -> bool:
                rows = await hooks.deliveries(fine)
                return len(rows) == 3 and all(r.state == "delivered" for r in rows)

            await eventually(all_delivered)
            # Still hanging: attempts in flight, nothing answered.
            assert {(r.state, r.last_status) for r in await hooks.deliveries(stuck)} == {
                ("pending", None)
            }
    finally:
        await hanging.stop()


async def test_a_row_it_cannot_read_is_dead_and_stops_nothing(
    hooks: Hooks, receiver: Receiver
) -> None:
    sub = await hooks.subscribe(receiver.url)
    async with hooks.db.sessions.begin() as session:
        session.add(
            WebhookDeliveryRow(
                subscription_id=sub.id,
                tenant=hooks.tenant,
                event_id="garbled:approval.requested",
                event_type="approval.requested",
                payload={"not": "an event"},
                queue=hooks.task_queue,
                next_attempt_at=utcnow(),
            )
        )
    event = hooks.event()
    await hooks.publisher.publish(event)
    [request] = await receiver.wait_for(1)
    assert request.headers["webhook-id"] == event.id

    async def garbled() -> WebhookDeliveryRow | None:
        rows = [r for r in await hooks.deliveries(sub) if r.event_id.startswith("garbled")]
        return rows[0] if rows and rows[0].state == "dead" else None

    dead = await eventually(garbled)
    assert (dead.last_error or "").startswith("unreadable event")
