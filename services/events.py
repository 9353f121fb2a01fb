"""Publishing an event (SPEC §6): one delivery workflow per matching subscription.

Called from activities (the gate's, the policy change path). A tenant without
subscriptions costs one indexed query. With some, each match gets a pending delivery row
and a ``WebhookDeliveryWorkflow`` whose id is derived from the subscription and the event
id, so publishing the same event again starts nothing and delivers nothing twice. The
publisher only starts workflows: a slow receiver never holds up the caller.
"""

import asyncio
import time
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from core.settings import Settings
from models.events import Event, EventType, run_links
from models.webhooks import DeliverySchedule, WebhookDelivery
from store.webhooks import WebhookStore
from workflows.webhook_delivery_workflow import WebhookDeliveryWorkflow, workflow_id_for

# How long a tenant found with no subscription is taken to have none.
QUIET_TTL = 1.0


@dataclass(frozen=True)
class LinkBase:
    """Where the links in an event point: the public REST API and the Temporal Web UI."""

    api_url: str
    web_ui_url: str
    namespace: str

    @classmethod
    def from_settings(cls, settings: Settings) -> "LinkBase":
        return cls(settings.public_api_url, settings.web_ui_url, settings.temporal_namespace)


class EventPublisher:
    def __init__(
        self,
        client: Client,
        sessions: async_sessionmaker[AsyncSession],
        task_queue: str,
        *,
        links: LinkBase | None = None,
        schedule: DeliverySchedule | None = None,
    ) -> None:
        """``links``: fills ``data.links`` of a run's event that has none (default: the
        settings' defaults, in the client's namespace). ``schedule``: the retry schedule of
        the deliveries it starts (tests shorten it; the default retries for over 24 h)."""
        self._client = client
        self._store = WebhookStore(sessions)
        self._task_queue = task_queue
        self._links = links or LinkBase(
            Settings.model_fields["public_api_url"].default,
            Settings.model_fields["web_ui_url"].default,
            client.namespace,
        )
        self._schedule = schedule or DeliverySchedule()
        # Tenants found with no subscription, until when (monotonic seconds).
        self._quiet: dict[str, float] = {}

    @classmethod
    def from_settings(
        cls, client: Client, sessions: async_sessionmaker[AsyncSession], settings: Settings
    ) -> "EventPublisher":
        return cls(client, sessions, settings.task_queue, links=LinkBase.from_settings(settings))

    async def publish(self, event: Event) -> int:
        """Start a delivery per matching subscription; return how many were started (0
        for a repeat of an event already published)."""
        process = event.process
        subscription_ids = [
            sub_id
            for sub_id, events, sub_process in await self._subscriptions(event.tenant)
            if event.type.value in events and (sub_process is None or sub_process == process)
        ]
        if not subscription_ids:
            return 0
        event = self.with_links(event)
        await self._store.add_pending(event, subscription_ids)
        started = await asyncio.gather(*(self._start(event, sid) for sid in subscription_ids))
        return sum(started)

    async def _subscriptions(self, tenant: str) -> list[tuple[str, list[str], str | None]]:
        """The tenant's enabled subscriptions; a tenant found with none is remembered so for
        ``QUIET_TTL``: every run publishes events, most tenants subscribe to nothing, and a
        query per event for nothing is a good part of the auto path's database work. The
        price: a new subscription hears of events from at most that long after it exists."""
        now = time.monotonic()
        if self._quiet.get(tenant, 0.0) > now:
            return []
        found = await self._store.enabled(tenant)
        if found:
            self._quiet.pop(tenant, None)
        else:
            self._quiet[tenant] = now + QUIET_TTL
        return found

    async def subscribed_tenants(self, event_type: EventType) -> list[str]:
        return await self._store.subscribed_tenants(event_type.value)

    def with_links(self, event: Event) -> Event:
        workflow_id = event.workflow_id
        if workflow_id is None or "links" in event.data:
            return event
        links = run_links(
            workflow_id,
            api_url=self._links.api_url,
            web_ui_url=self._links.web_ui_url,
            namespace=self._links.namespace,
        )
        return event.model_copy(update={"data": {**event.data, "links": links.model_dump()}})

    async def _start(self, event: Event, subscription_id: str) -> bool:
        try:
            await self._client.start_workflow(
                WebhookDeliveryWorkflow.run,
                WebhookDelivery(
                    subscription_id=subscription_id, event=event, schedule=self._schedule
                ),
                id=workflow_id_for(subscription_id, event.id),
                task_queue=self._task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                # Published from a worker polling this queue: the start's answer carries the
                # delivery's first workflow task to it, with no trip through the task queue.
                request_eager_start=True,
            )
        except WorkflowAlreadyStartedError:
            return False
        return True
