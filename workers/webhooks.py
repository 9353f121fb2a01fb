"""What a worker runs for webhooks (SPEC §6): the delivery workflow and its activities, and
the activity that publishes events. Added to a worker beside the process workflows::

    workflows, activities = webhook_worker_parts(sessions, client, settings)
    Worker(..., workflows=[*WORKFLOWS, *workflows], activities=[*others, *activities])

Deliveries run on the same task queue as the runs that emit them.
"""

from collections.abc import Callable, Sequence
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from activities.events import EventActivities
from activities.webhooks import WebhookActivities
from core.settings import Settings
from models.webhooks import DeliverySchedule
from services.events import EventPublisher, LinkBase
from services.webhook_targets import Resolver, system_resolver
from workflows.webhook_delivery_workflow import WebhookDeliveryWorkflow

WEBHOOK_WORKFLOWS: Sequence[type] = (WebhookDeliveryWorkflow,)


def event_publisher(
    sessions: async_sessionmaker[AsyncSession],
    client: Client,
    settings: Settings,
    *,
    schedule: DeliverySchedule | None = None,
) -> EventPublisher:
    """Where a worker's runs publish their events: deliveries start on its task queue."""
    return EventPublisher(
        client,
        sessions,
        settings.task_queue,
        links=LinkBase.from_settings(settings),
        schedule=schedule,
    )


def webhook_worker_parts(
    sessions: async_sessionmaker[AsyncSession],
    client: Client,
    settings: Settings,
    *,
    http: httpx.AsyncClient | None = None,
    schedule: DeliverySchedule | None = None,
    resolver: Resolver = system_resolver,
) -> tuple[Sequence[type], list[Callable[..., Any]]]:
    """``(workflows, activities)``. ``http``: the client deliveries post with (default: one
    made on first use, with the outbound timeouts of ``services.webhook_http``).
    ``schedule``: the retry schedule of deliveries started by ``publish_event`` (tests)."""
    deliveries = WebhookActivities(
        sessions, http, allow_private=settings.webhook_allow_private, resolver=resolver
    )
    publisher = event_publisher(sessions, client, settings, schedule=schedule)
    activities: list[Callable[..., Any]] = [
        deliveries.deliver_webhook,
        deliveries.mark_webhook_dead,
        EventActivities(publisher).publish_event,
    ]
    return WEBHOOK_WORKFLOWS, activities
