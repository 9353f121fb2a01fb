"""What a worker runs for webhooks (SPEC §6), built from its settings: the outbox its runs
write their events to, the deliverer that sends them (a workflow and its activity), and the
hand-over of deliveries from before the outbox. Added to a worker beside the processes::

    hooks = webhook_parts(sessions, settings)
    Worker(..., workflows=[*WORKFLOWS], activities=[*build_activities(..., events=hooks.outbox),
                                                    *hooks.activities])
    await ensure_deliverer(client, settings.task_queue)

Deliveries go out from the task queue of the runs that raised them.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from activities.webhooks.attempt import Attempts
from activities.webhooks.claims import Claims
from activities.webhooks.deliverer import Pace
from activities.webhooks.delivery import WebhookActivities
from activities.webhooks.delivery_workflow import WebhookOutboxWorkflow
from activities.webhooks.legacy import LegacyWebhookActivities, WebhookDeliveryWorkflow
from activities.webhooks.outbox import Doorbell, LinkBase, Outbox
from activities.webhooks.targets import Resolver, system_resolver
from core.settings import Settings
from models.tables import utcnow
from models.webhooks import DeliverySchedule

WEBHOOK_WORKFLOWS: Sequence[type] = (WebhookOutboxWorkflow, WebhookDeliveryWorkflow)


@dataclass
class WebhookParts:
    outbox: Outbox
    deliveries: WebhookActivities
    activities: list[Callable[..., Any]]
    _attempts: Attempts

    async def aclose(self) -> None:
        await self._attempts.aclose()


def webhook_parts(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    *,
    http: httpx.AsyncClient | None = None,
    schedule: DeliverySchedule | None = None,
    resolver: Resolver = system_resolver,
    clock: Callable[[], datetime] = utcnow,
    pace: Pace | None = None,
) -> WebhookParts:
    """``http``: the client deliveries post with (default: one made on first use, with the
    outbound timeouts of ``sender.py``). ``schedule``: when to retry (tests shorten it; the
    default retries for over 24 h). ``clock``, ``pace``: tests drive them."""
    schedule = schedule or DeliverySchedule()
    # A claim outlives its attempt (the whole exchange is bounded by the attempt timeout):
    # only a dead deliverer's claims ever lapse.
    lease = schedule.attempt_timeout * 2
    doorbell = Doorbell()
    outbox = Outbox(
        settings.task_queue,
        links=LinkBase.from_settings(settings),
        doorbell=doorbell,
        lease=lease,
        clock=clock,
    )
    attempts = Attempts(
        schedule,
        clock,
        http,
        allow_private=settings.webhook_allow_private,
        resolver=resolver,
    )

    def claims(queue: str) -> Claims:
        return Claims(sessions, queue, lease=lease, clock=clock)

    deliveries = WebhookActivities(
        claims, attempts, clock=clock, doorbell=doorbell, pace=pace, on_disabled=outbox.forget
    )
    legacy = LegacyWebhookActivities(sessions, settings.task_queue)
    activities: list[Callable[..., Any]] = [
        deliveries.deliver_webhooks,
        legacy.deliver_webhook,
        legacy.mark_webhook_dead,
    ]
    return WebhookParts(outbox, deliveries, activities, attempts)
