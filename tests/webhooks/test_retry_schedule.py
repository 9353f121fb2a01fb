"""The production retry schedule, on the time-skipping test server: a receiver that keeps
answering 503 is retried with growing waits for more than 24 hours, then the delivery is
dead, with its attempts and last status recorded."""

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest_asyncio
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from models.webhooks import DeliveryOutcome, DeliverySchedule, DeliveryState
from services.events import EventPublisher
from temporal.sandbox import WORKFLOW_RUNNER
from tests.conftest import Database
from tests.webhooks.conftest import Hooks, worker_settings
from tests.webhooks.receiver import Receiver
from workers.webhooks import webhook_worker_parts
from workflows.webhook_delivery_workflow import WebhookDeliveryWorkflow, workflow_id_for


@pytest_asyncio.fixture
async def slow_hooks(skipping_env: WorkflowEnvironment, database: Database) -> AsyncIterator[Hooks]:
    client = skipping_env.client
    task_queue = f"webhooks-slow-{uuid.uuid4().hex[:8]}"
    workflows, activities = webhook_worker_parts(
        database.sessions, client, worker_settings(task_queue)
    )
    async with Worker(
        client,
        task_queue=task_queue,
        workflows=workflows,
        activities=activities,
        workflow_runner=WORKFLOW_RUNNER,
    ):
        # The production schedule: no ``schedule`` given.
        yield Hooks(
            client, database, task_queue, EventPublisher(client, database.sessions, task_queue)
        )


async def test_a_receiver_failing_for_a_day_ends_dead(
    skipping_env: WorkflowEnvironment, slow_hooks: Hooks, receiver: Receiver
) -> None:
    production = DeliverySchedule()
    assert production.give_up_after >= timedelta(hours=24)
    receiver.default = 503
    sub = await slow_hooks.subscribe(receiver.url)
    event = slow_hooks.event()
    assert await slow_hooks.publisher.publish(event) == 1

    handle = slow_hooks.client.get_workflow_handle_for(
        WebhookDeliveryWorkflow.run, workflow_id_for(sub.id, event.id)
    )
    # Only handles the test environment started itself skip time while awaited; this
    # one was started by the publisher, so skip the day explicitly.
    await skipping_env.sleep(production.give_up_after + timedelta(hours=1))
    outcome = await handle.result()
    assert isinstance(outcome, DeliveryOutcome)
    assert outcome.state is DeliveryState.DEAD and "gave up" in (outcome.reason or "")

    described = await handle.describe()
    assert described.close_time is not None
    lasted = described.close_time - described.start_time
    assert timedelta(hours=24) <= lasted <= production.give_up_after + timedelta(hours=1)

    # Backoff: a handful of quick attempts, then about one an hour; each one sent.
    attempts = len(receiver.requests)
    assert 20 <= attempts <= 45, attempts
    assert {r.headers["webhook-id"] for r in receiver.requests} == {event.id}
    [row] = await slow_hooks.deliveries(sub)
    assert (row.state, row.attempts, row.last_status) == ("dead", attempts, 503)
    assert row.next_attempt_at is None and "gave up" in (row.last_error or "")
