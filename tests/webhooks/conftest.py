"""Webhooks end to end: the session's dev server and databases, a real HTTP receiver, and a
worker running only the webhook parts on a task queue of its own."""

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest_asyncio
from temporalio.client import Client
from temporalio.worker import Worker

from core.settings import Settings
from models.events import Event, EventType, event_id
from models.webhook_tables import WebhookDeliveryRow, WebhookSubscriptionRow
from models.webhooks import DeliverySchedule
from services.events import EventPublisher
from services.webhooks import create_subscription
from store.webhooks import WebhookStore
from temporal.sandbox import WORKFLOW_RUNNER
from tests.conftest import Database
from tests.webhooks.receiver import Receiver
from workers.webhooks import webhook_worker_parts

# Seconds instead of hours, the same shape as production's.
FAST = DeliverySchedule(
    initial_interval=timedelta(milliseconds=200),
    backoff=2.0,
    maximum_interval=timedelta(seconds=1),
    maximum_retry_after=timedelta(seconds=2),
    give_up_after=timedelta(minutes=3),
    attempt_timeout=timedelta(seconds=3),
)


def new_tenant() -> str:
    return f"t-{uuid.uuid4().hex[:8]}"


@dataclass
class Hooks:
    client: Client
    db: Database
    task_queue: str
    publisher: EventPublisher
    tenant: str = field(default_factory=new_tenant)

    @property
    def store(self) -> WebhookStore:
        return WebhookStore(self.db.sessions)

    async def subscribe(
        self, url: str, events: list[str] | None = None, tenant: str | None = None, **kw: Any
    ) -> WebhookSubscriptionRow:
        return await create_subscription(
            self.store,
            tenant or self.tenant,
            url=url,
            events=events or [EventType.APPROVAL_REQUESTED.value],
            created_by="tester",
            allow_private=True,
            **kw,
        )

    def event(
        self,
        event_type: EventType = EventType.APPROVAL_REQUESTED,
        tenant: str | None = None,
        process: str = "lead_scoring",
        **data: Any,
    ) -> Event:
        workflow_id = f"{process}:{tenant or self.tenant}:{uuid.uuid4().hex[:12]}"
        return Event(
            id=event_id(event_type, workflow_id, "a1"),
            type=event_type,
            created_at=datetime.now(UTC),
            tenant=tenant or self.tenant,
            data={"workflow_id": workflow_id, "process": process, "state": "running", **data},
        )

    async def deliveries(self, sub: WebhookSubscriptionRow) -> list[WebhookDeliveryRow]:
        return await self.store.deliveries(sub.tenant, sub.id)

    async def delivery(self, sub: WebhookSubscriptionRow, *states: str) -> WebhookDeliveryRow:
        """The subscription's one delivery, once it is in one of ``states``."""
        from tests.polling import eventually

        async def check() -> WebhookDeliveryRow | None:
            rows = await self.deliveries(sub)
            return rows[0] if rows and rows[0].state in states else None

        return await eventually(check, within=30)


def worker_settings(task_queue: str, **kw: Any) -> Settings:
    return Settings(_env_file=None, task_queue=task_queue, webhook_allow_private=True, **kw)  # type: ignore[call-arg]


@pytest_asyncio.fixture
async def receiver() -> AsyncIterator[Receiver]:
    r = Receiver()
    await r.start()
    try:
        yield r
    finally:
        await r.stop()


def publisher(client: Client, db: Database, task_queue: str) -> EventPublisher:
    return EventPublisher(client, db.sessions, task_queue, schedule=FAST)


@pytest_asyncio.fixture
async def hooks(client: Client, database: Database) -> AsyncIterator[Hooks]:
    task_queue = f"webhooks-{uuid.uuid4().hex[:8]}"
    workflows, activities = webhook_worker_parts(
        database.sessions, client, worker_settings(task_queue), schedule=FAST
    )
    async with Worker(
        client,
        task_queue=task_queue,
        workflows=workflows,
        activities=activities,
        workflow_runner=WORKFLOW_RUNNER,
    ):
        yield Hooks(client, database, task_queue, publisher(client, database, task_queue))
