"""Webhooks end to end: the session's dev server and databases, a real HTTP receiver, and a
worker running only the webhook parts (its outbox's deliverer) on a task queue of its own."""

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest_asyncio
from temporalio.client import Client
from temporalio.worker import Worker

from activities.webhooks.delivery_workflow import ensure_deliverer
from activities.webhooks.outbox import Outbox
from activities.webhooks.parts import WEBHOOK_WORKFLOWS, WebhookParts, webhook_parts
from activities.webhooks.store import WebhookStore
from core.settings import Settings
from models.events import Event, EventType, event_id
from models.webhook_tables import WebhookDeliveryRow, WebhookSubscriptionRow
from models.webhooks import DeliverySchedule
from services.webhooks import create_subscription
from temporal.sandbox import WORKFLOW_RUNNER
from tests.conftest import Database
from tests.webhooks.receiver import Receiver

# Seconds instead of hours, the same shape as production's.
FAST = DeliverySchedule(
    initial_interval=timedelta(milliseconds=200),
    backoff=2.0,
    maximum_interval=timedelta(seconds=1),
    maximum_retry_after=timedelta(seconds=2),
    give_up_after=timedelta(minutes=3),
    attempt_timeout=timedelta(seconds=3),
)


class Clock:
    """A clock the test moves: the deliverer's and the outbox's, in place of the wall's."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


def new_tenant() -> str:
    return f"t-{uuid.uuid4().hex[:8]}"


@dataclass
class Publisher:
    """Raises events as a step does, each in a transaction of its own."""

    outbox: Outbox
    db: Database

    async def publish(self, event: Event) -> int:
        """How many deliveries it queued (0: no subscriber, or queued before)."""
        return await self.outbox.publish(self.db.sessions, event)


@dataclass
class Hooks:
    client: Client
    db: Database
    task_queue: str
    publisher: Publisher
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
            # A new tenant: no outbox has a list of its subscriptions to wait out.
            settle_seconds=0,
            **kw,
        )

    def event(
        self,
        event_type: EventType = EventType.APPROVAL_REQUESTED,
        tenant: str | None = None,
        process: str = "lead_scoring",
        **data: Any,
    ) -> Event:
        return make_event(tenant or self.tenant, event_type, process, **data)

    async def deliveries(self, sub: WebhookSubscriptionRow) -> list[WebhookDeliveryRow]:
        return await self.store.deliveries(sub.tenant, sub.id)

    async def delivery(self, sub: WebhookSubscriptionRow, *states: str) -> WebhookDeliveryRow:
        """The subscription's one delivery, once it is in one of ``states``."""
        from tests.polling import eventually

        async def check() -> WebhookDeliveryRow | None:
            rows = await self.deliveries(sub)
            return rows[0] if rows and rows[0].state in states else None

        return await eventually(check, within=30)


def make_event(
    tenant: str,
    event_type: EventType = EventType.APPROVAL_REQUESTED,
    process: str = "lead_scoring",
    **data: Any,
) -> Event:
    """An event of a new run's first approval (its id as the gate's would be)."""
    workflow_id = f"{process}:{tenant}:{uuid.uuid4().hex[:12]}"
    return Event(
        id=event_id(f"{workflow_id}:1", event_type),
        type=event_type,
        created_at=datetime.now(UTC),
        tenant=tenant,
        data={"workflow_id": workflow_id, "process": process, "state": "running", **data},
    )


def worker_settings(task_queue: str, **kw: Any) -> Settings:
    return Settings(_env_file=None, task_queue=task_queue, webhook_allow_private=True, **kw)


@pytest_asyncio.fixture
async def receiver() -> AsyncIterator[Receiver]:
    r = Receiver()
    await r.start()
    try:
        yield r
    finally:
        await r.stop()


def publisher(db: Database, task_queue: str) -> Publisher:
    """An outbox of its own for ``task_queue``, as another process's (the deliverer hears of
    its rows at its next poll)."""
    return Publisher(Outbox(task_queue), db)


@asynccontextmanager
async def delivering(
    client: Client, db: Database, settings: Settings, **kw: Any
) -> AsyncIterator[WebhookParts]:
    """A worker running the webhook parts on ``settings.task_queue``, and its deliverer."""
    parts = webhook_parts(db.sessions, settings, **{"schedule": FAST, **kw})
    wid = None
    try:
        async with Worker(
            client,
            task_queue=settings.task_queue,
            workflows=WEBHOOK_WORKFLOWS,
            activities=parts.activities,
            workflow_runner=WORKFLOW_RUNNER,
        ):
            wid = await ensure_deliverer(client, settings.task_queue)
            assert wid is not None
            yield parts
        # The worker stopped first: its delivery session saw the shutdown and returned.
    finally:
        if wid is not None:
            await client.get_workflow_handle(wid).terminate("test over")
        await parts.aclose()


@pytest_asyncio.fixture
async def hooks(client: Client, database: Database) -> AsyncIterator[Hooks]:
    task_queue = f"webhooks-{uuid.uuid4().hex[:8]}"
    async with delivering(client, database, worker_settings(task_queue)) as parts:
        # The worker's own outbox: its doorbell wakes the deliverer at once.
        yield Hooks(client, database, task_queue, Publisher(parts.outbox, database))
