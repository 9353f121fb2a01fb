"""Events the gate raises from its own timers: reminders and the escalation of an approval
that still waits (SPEC §6). Ids are derived from the approval and the reminder's number, so
a retried activity or a replayed run sends nothing twice."""

from temporalio import activity

from activities import run_events
from activities.run_events import EventSink, RunEvents
from models.activity_io import GateEvent
from models.events import EventType


class GateEventActivities:
    def __init__(self, events: EventSink | None = None) -> None:
        self._events = RunEvents(events)

    @activity.defn
    async def publish_gate_event(self, req: GateEvent) -> None:
        kind = EventType(req.type)
        await self._events.publish(
            run_events.approval_waiting(kind, req.run, req.approval, req.sequence)
        )
