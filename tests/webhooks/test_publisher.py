"""The publisher's cost and the activity the gate calls from its workflows."""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio import workflow
from temporalio.client import Client
from temporalio.worker import Worker

from activities.events import EventActivities
from models.events import Event
from store import rls
from tests.conftest import Database
from tests.webhooks.conftest import FAST, Hooks, worker_settings
from tests.webhooks.receiver import Receiver
from workers.webhooks import webhook_worker_parts


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


async def test_a_tenant_without_subscriptions_costs_one_query(hooks: Hooks) -> None:
    with statements(hooks.db.engine) as seen:
        assert await hooks.publisher.publish(hooks.event()) == 0
    assert len(seen) == 1 and seen[0].lstrip().upper().startswith("SELECT")
    assert "webhook_subscriptions" in seen[0]


@workflow.defn(sandboxed=False)
class EmitterWorkflow:
    """Stands in for the gate: emits one event through the activity."""

    @workflow.run
    async def run(self, event: Event) -> int:
        return await workflow.execute_activity_method(
            EventActivities.publish_event, event, start_to_close_timeout=timedelta(seconds=30)
        )


async def test_a_workflow_publishes_through_the_activity(
    client: Client, database: Database, receiver: Receiver
) -> None:
    task_queue = f"webhooks-emit-{uuid.uuid4().hex[:8]}"
    workflows, activities = webhook_worker_parts(
        database.sessions, client, worker_settings(task_queue), schedule=FAST
    )
    hooks = Hooks(client, database, task_queue, publisher=None)  # type: ignore[arg-type]
    sub = await hooks.subscribe(receiver.url)
    event = hooks.event()
    async with Worker(
        client,
        task_queue=task_queue,
        workflows=[*workflows, EmitterWorkflow],
        activities=activities,
    ):
        run = {"id": f"emit-{uuid.uuid4().hex}", "task_queue": task_queue}
        assert await client.execute_workflow(EmitterWorkflow.run, event, **run) == 1
        # A replayed or retried emitter publishes the same event again: nothing new.
        run["id"] = f"emit-{uuid.uuid4().hex}"
        assert await client.execute_workflow(EmitterWorkflow.run, event, **run) == 0
        [request] = await receiver.wait_for(1)
        await hooks.delivery(sub, "delivered")
    assert request.json()["id"] == event.id
    assert request.json()["data"]["links"]["web_ui"].startswith("http://127.0.0.1:8233/")
