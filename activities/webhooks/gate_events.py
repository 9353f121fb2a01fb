"""Events the gate raises from its own timers: reminders and the escalation of an approval
that still waits (SPEC §6). Nothing else is written then, so the outbox write is a
transaction of its own; its ids (the approval, the reminder's number) make a retried
activity or a replayed run write nothing twice."""

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from activities.db_errors import database_step
from activities.webhooks import events
from activities.webhooks.events import EventSink
from models.activity_io import GateEvent
from models.events import EventType
from store.db import sqlite_immediate


class GateEventActivities:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], sink: EventSink | None = None
    ) -> None:
        self._sessions = sessions
        self._sink = sink

    @activity.defn
    async def publish_gate_event(self, req: GateEvent) -> None:
        if self._sink is None:
            return
        event = events.approval_waiting(EventType(req.type), req.run, req.approval, req.sequence)
        async with database_step(), self._sessions.begin() as session:
            await session.connection(execution_options=sqlite_immediate)
            await self._sink.write(session, event)
