"""Publishing events from a workflow (SPEC §6): the activity the gate calls.

Idempotent by the event's deterministic id, so Temporal may retry it, or a replayed run
repeat it, without a receiver seeing the event twice.
"""

from temporalio import activity

from models.events import Event
from services.events import EventPublisher


class EventActivities:
    def __init__(self, publisher: EventPublisher) -> None:
        self._publisher = publisher

    @activity.defn
    async def publish_event(self, event: Event) -> int:
        """How many deliveries this call started (0: no subscriber, or already published)."""
        return await self._publisher.publish(event)
