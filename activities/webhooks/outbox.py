"""The outbox (SPEC §6): a step that raises an event writes it, pending, in its own
transaction, beside the rows it writes anyway (the run's row, the audit row, the business
row, the policy). It commits with them or not at all, and nothing is sent from here: the
deliverer of the queue sends the rows in batches (``deliverer.py``), so no step waits for a
receiver and no event costs a workflow of its own. Rows written in the process where that
deliverer runs are claimed by their insert and handed to it at commit (``Doorbell``); the
others it claims from the table.

One row per matching subscription, keyed by (subscription, event id): event ids are
derived from what happened, so a step that runs again (a retried activity, a local activity
whose workflow task was discarded, a replayed run) writes nothing new.

A tenant with no subscription pays nothing: which subscriptions a tenant has is read once
and kept ``SUBSCRIPTIONS_TTL`` seconds per process, so most events cost no statement at all.
The rule that makes the cache safe for a subscription being created: every event raised
more than ``SUBSCRIPTIONS_TTL`` after the subscription was committed reaches it, since no
cached list read before that commit outlives it by more. ``create_subscription`` answers only
then (``services/webhooks.py``), so whatever happens after ``POST /webhooks`` answered is
delivered. An event raised during that second may or may not reach it.
"""

import asyncio
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy import event as sa_event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from activities.webhooks.claims import Claimed
from activities.webhooks.store import Match, enabled_matches
from core.settings import Settings
from models.events import Event, run_links
from models.tables import utcnow
from models.webhook_tables import WebhookDeliveryRow
from models.webhooks import DeliveryState
from store.db import sqlite_immediate
from store.sql import insert

# How long a tenant's subscriptions, or their absence, are taken as read.
SUBSCRIPTIONS_TTL = 1.0
_TABLE = cast(Table, WebhookDeliveryRow.__table__)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class LinkBase:
    """Where the links in an event point: the public REST API and the Temporal Web UI."""

    api_url: str = Settings.model_fields["public_api_url"].default
    web_ui_url: str = Settings.model_fields["web_ui_url"].default
    namespace: str = Settings.model_fields["temporal_namespace"].default

    @classmethod
    def from_settings(cls, settings: Settings) -> "LinkBase":
        return cls(settings.public_api_url, settings.web_ui_url, settings.temporal_namespace)


class Doorbell:
    """How the outbox tells the deliverer running in the same process about rows it wrote.

    While a deliverer listens, a write hands its rows over as they are, already claimed (the
    insert gives them the claim's lease and count), and once the transaction commits the
    deliverer sends them at once: no claim, no wait. Otherwise the write only rings: the
    deliverer claims at once instead of at its next poll. A write in another process (the
    API, another worker) does neither: the deliverer finds its rows at the next poll."""

    def __init__(self) -> None:
        self._rung = asyncio.Event()
        self._receiver: Callable[[list[Claimed]], None] | None = None

    def listen(self, receiver: Callable[[list[Claimed]], None]) -> None:
        self._receiver = receiver

    def unlisten(self, receiver: Callable[[list[Claimed]], None]) -> None:
        if self._receiver == receiver:
            self._receiver = None

    @property
    def listening(self) -> bool:
        return self._receiver is not None

    def hand(self, rows: list[Claimed]) -> None:
        """Rows claimed by their insert, now committed. With no one listening any more (the
        deliverer stopped meanwhile) their lease lapses and a claim takes them then."""
        receiver = self._receiver
        if receiver is not None:
            receiver(rows)
        else:
            self.ring()

    def ring(self) -> None:
        self._rung.set()

    def rung(self) -> bool:
        return self._rung.is_set()

    def clear(self) -> None:
        self._rung.clear()

    async def wait(self) -> None:
        await self._rung.wait()


class Outbox:
    """Writes events for the deliverer of ``queue``: the task queue of the worker (or the
    one the API and CLI announce to) whose deliverer sends them."""

    def __init__(
        self,
        queue: str,
        *,
        links: LinkBase | None = None,
        doorbell: Doorbell | None = None,
        lease: timedelta | None = None,
        clock: Callable[[], datetime] = utcnow,
        ttl: float = SUBSCRIPTIONS_TTL,
    ) -> None:
        """``doorbell``, ``lease``: the deliverer of this process, and the lease its claims
        take (rows handed to it are claimed by their insert)."""
        self.queue = queue
        self._links = links or LinkBase()
        self.doorbell = doorbell
        self._lease = lease
        self._clock = clock
        self._ttl = ttl
        # Per tenant: until when (monotonic seconds) its list holds, and the list.
        self._matches: dict[str, tuple[float, list[Match]]] = {}

    async def write(self, session: AsyncSession, *events: Event) -> int:
        """Queue ``events`` in ``session``'s transaction, one row per matching subscription;
        return how many rows it added (0: no subscriber, or written before).

        On SQLite the transaction must already hold the write lock (it has written, or began
        ``IMMEDIATE``): a read of the subscriptions followed by the insert could otherwise
        fail at once with "database is locked" when another writer committed in between."""
        matches = await self._subscriptions(session, {e.tenant for e in events})
        bell = self.doorbell
        handing = bell is not None and bell.listening and self._lease is not None
        now = self._clock()
        rows = [
            self._row(event, sub_id, now, handing)
            for event in events
            for sub_id in _matching(event, matches[event.tenant])
        ]
        if not rows:
            return 0
        # The rows as parameters, not in the statement: a multi-row VALUES has no cache key.
        # On the table, not the ORM class: no bulk-persistence machinery per event.
        stmt = insert(session, _TABLE).on_conflict_do_nothing()
        returning = stmt.returning(_TABLE.c.id, _TABLE.c.subscription_id, _TABLE.c.event_id)
        added = (await session.execute(returning, rows)).all()
        if not added or bell is None:
            return len(added)
        if handing:
            payloads = {(r["subscription_id"], r["event_id"]): r["payload"] for r in rows}
            claimed = [
                Claimed(cast(int, row_id), sub_id, event_id, payloads[sub_id, event_id], 1, now)
                for row_id, sub_id, event_id in added
            ]
            tell: Callable[[], None] = lambda: bell.hand(claimed)  # noqa: E731
        else:
            tell = bell.ring
        # Only once committed: before, the deliverer could send what is then rolled back.
        sa_event.listen(session.sync_session, "after_commit", lambda _s: tell(), once=True)
        return len(added)

    async def publish(self, sessions: async_sessionmaker[AsyncSession], *events: Event) -> int:
        """``write`` in a transaction of its own: for a step with nothing else to write (a
        reminder, an escalation)."""
        async with sessions.begin() as session:
            await session.connection(execution_options=sqlite_immediate)
            return await self.write(session, *events)

    def forget(self, tenant: str) -> None:
        """Drop the tenant's cached list (this process just changed its subscriptions)."""
        self._matches.pop(tenant, None)

    async def _subscriptions(
        self, session: AsyncSession, tenants: Iterable[str]
    ) -> dict[str, list[Match]]:
        now = time.monotonic()
        found = {t: hit[1] for t in tenants if (hit := self._matches.get(t)) and hit[0] > now}
        missing = [t for t in tenants if t not in found]
        if missing:
            # Taken before the read: a list must not outlive a commit it may not have seen
            # by more than the TTL.
            read = await enabled_matches(session, missing)
            for tenant, subs in read.items():
                self._matches[tenant] = (now + self._ttl, subs)
            found |= read
        return found

    def _row(
        self, event: Event, subscription_id: str, now: datetime, handing: bool
    ) -> dict[str, Any]:
        # Handed over: claimed by this insert, its first attempt counted, as a claim does.
        claimed = handing and self._lease is not None
        return {
            "subscription_id": subscription_id,
            "tenant": event.tenant,
            "event_id": event.id,
            "event_type": event.type.value,
            "payload": self.with_links(event).model_dump(mode="json"),
            "queue": self.queue,
            "state": DeliveryState.PENDING.value,
            "attempts": 1 if claimed else 0,
            "next_attempt_at": now + self._lease if claimed and self._lease else now,
            "created_at": now,
            "updated_at": now,
        }

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


def _matching(event: Event, subs: list[Match]) -> list[str]:
    process = event.process
    return [
        sub_id
        for sub_id, types, sub_process in subs
        if event.type.value in types and (sub_process is None or sub_process == process)
    ]
