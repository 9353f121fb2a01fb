"""The deliverer of one task queue's outbox: sends its rows in batches, one lane per
subscription (SPEC §6).

Rows reach it two ways. Written in this process while it runs, they are handed over at
commit, already claimed by their insert (``outbox.Doorbell``), and sent at once. Written
elsewhere (the API, another worker, or here while it was not running), they are claimed
from the database: at least every ``idle_poll`` seconds, at once when this process's outbox
rings, again when a lane that was full finishes (more may wait), and when a retry falls due.

A lane takes up to ``per_subscription`` of its subscription's rows at a time and sends them
concurrently; while a lane is busy its subscription is left out of the claims and its
handed-over rows wait, so a slow or hanging receiver holds up its own deliveries only,
never another's. A lane is free again once its answers are in: one recorder writes every
lane's outcomes, a statement per flush, off the lanes' path (until recorded, a row keeps
its claim's lease, so it is not claimed again; a flush gathers a quarter of a second).
"""

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from activities.webhooks.attempt import Attempts
from activities.webhooks.claims import Claimed, Claims, Outcome
from activities.webhooks.outbox import Doorbell
from activities.webhooks.recorder import Recorder
from models.webhook_tables import WebhookSubscriptionRow
from models.webhooks import DeliverySession, DeliveryState

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Pace:
    """How the loop paces itself. Seconds, except the row counts."""

    # After a ring, how long to let the rest of a burst commit before one claim takes it.
    linger: float = 0.2
    idle_poll: float = 1.0
    per_subscription: int = 16
    batch_limit: int = 200
    # A subscription (URL, format, secret, enabled) read this long ago is read again.
    subscriptions_ttl: float = 1.0
    # How long the recorder gathers outcomes before it writes them, in one statement.
    record_every: float = 0.25


class Deliverer:
    def __init__(
        self,
        claims: Claims,
        attempts: Attempts,
        *,
        clock: Callable[[], datetime],
        doorbell: Doorbell | None = None,
        pace: Pace | None = None,
        on_disabled: Callable[[str], None] = lambda _tenant: None,
    ) -> None:
        """``on_disabled``: told the tenant of a subscription it disabled (this process's
        outbox forgets that tenant's list at once instead of within its TTL)."""
        self._claims = claims
        self._attempts = attempts
        self._clock = clock
        self._doorbell = doorbell or Doorbell()
        self._pace = pace or Pace()
        self._on_disabled = on_disabled
        self._subs: dict[str, tuple[float, WebhookSubscriptionRow | None]] = {}
        self._lanes: dict[str, asyncio.Task[None]] = {}
        self._in_flight: dict[str, list[int]] = {}
        # Handed-over rows waiting for their lane, with when they came (monotonic).
        self._waiting: dict[str, list[tuple[float, Claimed]]] = {}
        self._wake = asyncio.Event()
        self._recorder = Recorder(claims, self._pace.record_every)
        self._claim_next = True
        self._missed: set[str] = set()
        self._next_due: datetime | None = None
        self.totals = DeliverySession()
        # How long lanes may finish once ``run`` is stopped (None: until they are done).
        self.grace: float | None = None

    async def run(
        self, stop: asyncio.Event, heartbeat: Callable[[], None] = lambda: None
    ) -> DeliverySession:
        """Deliver until ``stop`` is set; then give the lanes ``grace`` seconds (None: as
        long as their attempts take) and release the claims of those still sending. On an
        error or a cancel, release them at once."""
        self._doorbell.listen(self._take)
        try:
            while not stop.is_set():
                heartbeat()
                self._raise_errors()
                await self._start_lanes()
                if not self._claim_next:
                    await self._wait(stop)
        except BaseException:
            self._doorbell.unlisten(self._take)
            await self._stop_lanes(0.0)
            raise
        self._doorbell.unlisten(self._take)
        await self._stop_lanes(self.grace)
        return self.totals

    async def deliver_due(self) -> DeliverySession:
        """One claim, sent and recorded before it returns (tests drive the clock with it)."""
        self._claim_next = True
        await self._start_lanes()
        while self._lanes:
            await asyncio.wait(list(self._lanes.values()))
            self._raise_errors()
        await self._recorder.drain()
        return self.totals

    def _take(self, rows: list[Claimed]) -> None:
        """Rows handed over by this process's outbox, committed and claimed."""
        now = time.monotonic()
        for row in rows:
            self._waiting.setdefault(row.subscription_id, []).append((now, row))
        self._wake.set()

    async def _start_lanes(self) -> None:
        """Start a lane for each idle subscription with rows: handed over, or claimed now
        (when something asked for a claim)."""
        pace = self._pace
        batches: dict[str, list[Claimed]] = {}
        for sub_id in [s for s in self._waiting if s not in self._lanes]:
            batches[sub_id] = self._handed(sub_id)
        if self._claim_next:
            self._claim_next = False
            busy = set(self._lanes)
            claimed = await self._claims.claim(
                per_subscription=pace.per_subscription, limit=pace.batch_limit, busy=busy
            )
            # A full claim may have left rows behind: claim again without waiting.
            self._claim_next = len(claimed) >= pace.batch_limit
            for row in claimed:
                batch = batches.setdefault(row.subscription_id, [])
                if any(r.id == row.id for r in batch):
                    continue
                if len(batch) < pace.per_subscription:
                    batch.append(row)
                else:  # claimed all the same: it waits for the lane, like a handed row
                    self._waiting.setdefault(row.subscription_id, []).append(
                        (time.monotonic(), row)
                    )
        batches = {sub_id: rows for sub_id, rows in batches.items() if rows}
        subs = await self._subscriptions(list(batches)) if batches else {}
        for sub_id, rows in batches.items():
            self._in_flight[sub_id] = [r.id for r in rows]
            task = asyncio.create_task(self._lane(subs[sub_id], rows), name=f"webhooks {sub_id}")
            self._lanes[sub_id] = task
            task.add_done_callback(self._lane_finished(sub_id, len(rows)))

    def _handed(self, sub_id: str) -> list[Claimed]:
        """Up to a lane's share of the rows waiting for ``sub_id``. A row that waited for
        half its lease is let go: the lease lapses and a claim takes it, once."""
        fresh = time.monotonic() - self._claims.lease.total_seconds() / 2
        rows = [(since, row) for since, row in self._waiting.pop(sub_id) if since > fresh]
        share = self._pace.per_subscription
        if rows[share:]:
            self._waiting[sub_id] = rows[share:]
        return [row for _since, row in rows[:share]]

    def _lane_finished(self, sub_id: str, size: int) -> Callable[[asyncio.Task[None]], None]:
        def done(task: asyncio.Task[None]) -> None:
            if task.cancelled() or task.exception() is None:
                self._lanes.pop(sub_id, None)
                self._in_flight.pop(sub_id, None)
            # A full lane may have left rows behind, and the bell may have rung for it while
            # it was busy: claim again. Handed rows waiting for it go now.
            if size >= self._pace.per_subscription or sub_id in self._missed:
                self._missed.discard(sub_id)
                self._claim_next = True
                self._wake.set()
            elif sub_id in self._waiting:
                self._wake.set()

        return done

    async def _lane(self, sub: WebhookSubscriptionRow | None, rows: list[Claimed]) -> None:
        if sub is None:
            await self._claims.drop([r.id for r in rows])
            return
        outcomes = await asyncio.gather(*(self._attempts.attempt(r, sub) for r in rows))
        gone = next((o.disable for o in outcomes if o.disable), None)
        if gone is not None:
            await self._claims.disable(sub.id, gone)
            self._subs.pop(sub.id, None)
            self._on_disabled(sub.tenant)
        self._recorder.add(outcomes)
        self._count(outcomes)

    def _count(self, outcomes: list[Outcome]) -> None:
        t = self.totals
        for o in outcomes:
            if o.state is DeliveryState.DELIVERED:
                t.delivered += 1
            elif o.state is DeliveryState.DEAD:
                t.dead += 1
            elif o.next_attempt_at is not None:
                t.retrying += 1
                # Due once due and recorded (the recorder gathers first).
                gathered = self._clock() + timedelta(seconds=self._pace.record_every)
                due = max(o.next_attempt_at, gathered)
                if self._next_due is None or due < self._next_due:
                    self._next_due = due

    async def _subscriptions(self, ids: list[str]) -> dict[str, WebhookSubscriptionRow | None]:
        now = time.monotonic()
        stale = [i for i in ids if (hit := self._subs.get(i)) is None or hit[0] <= now]
        if stale:
            read = await self._claims.subscriptions(stale)
            for sub_id in stale:
                self._subs[sub_id] = (now + self._pace.subscriptions_ttl, read.get(sub_id))
        return {i: self._subs[i][1] for i in ids}

    async def _wait(self, stop: asyncio.Event) -> None:
        """Until there is something to send (rows handed over, a lane free for waiting
        rows) or to claim (the bell, a full lane done, a retry due, the poll), or ``stop``."""
        timeout = self._pace.idle_poll
        if self._next_due is not None:
            timeout = min(timeout, max((self._next_due - self._clock()).total_seconds(), 0.0))
        waiters = {
            asyncio.ensure_future(stop.wait()),
            asyncio.ensure_future(self._doorbell.wait()),
            asyncio.ensure_future(self._wake.wait()),
        }
        try:
            done, _ = await asyncio.wait(
                waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            for waiter in waiters:
                waiter.cancel()
        self._wake.clear()
        if not done:  # the poll
            self._claim_next = True
        if self._next_due is not None and self._next_due <= self._clock():
            self._next_due = None
            self._claim_next = True
        if self._doorbell.rung() and not stop.is_set():
            # Let the rest of a burst commit: one claim then takes it all. What it rang
            # for a busy subscription waits for that lane.
            await asyncio.sleep(self._pace.linger)
            self._doorbell.clear()
            self._missed |= set(self._lanes)
            self._claim_next = True

    def _raise_errors(self) -> None:
        self._recorder.raise_error()
        for sub_id, task in list(self._lanes.items()):
            if task.done() and task.exception() is not None:
                del self._lanes[sub_id]
                raise task.exception()  # type: ignore[misc]

    async def _stop_lanes(self, grace: float | None) -> None:
        lanes = list(self._lanes.values())
        if lanes:
            await asyncio.wait(lanes, timeout=grace)
        unfinished = [sub_id for sub_id, task in self._lanes.items() if not task.done()]
        for sub_id in unfinished:
            self._lanes[sub_id].cancel()
        ids = [i for sub_id in unfinished for i in self._in_flight.get(sub_id, [])]
        ids += [row.id for waiting in self._waiting.values() for _since, row in waiting]
        self._waiting.clear()
        try:
            await asyncio.shield(self._recorder.drain())
            if ids:
                await asyncio.shield(self._claims.release(ids))
        except Exception:  # their leases run out instead: sent again, same webhook-id
            log.warning("could not record or release webhook claims", exc_info=True)
