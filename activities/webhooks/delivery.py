"""The delivery activity: one long session of the queue's deliverer (``deliverer.py``),
heartbeating, run by ``WebhookOutboxWorkflow`` one after another for ever.

It ends on its own after ``session_seconds`` (the workflow then starts the next one), and
early when its worker shuts down: its lanes get a moment to finish, the claims of those
still sending are released for the next deliverer, and it returns, so stopping a worker is
not held up by a receiver. A worker that dies instead stops heartbeating: Temporal runs the
session again on another worker (or the restarted one) once the heartbeat times out, and
the dead one's claims fall due when their lease ends.
"""

import asyncio
from collections.abc import Callable
from datetime import datetime

from temporalio import activity

from activities.webhooks.attempt import Attempts
from activities.webhooks.claims import Claims
from activities.webhooks.deliverer import Deliverer, Pace
from activities.webhooks.outbox import Doorbell
from models.webhooks import DeliverWebhooks, DeliverySession

# Lanes still sending when the worker stops get this long before their claims are released.
SHUTDOWN_GRACE_SECONDS = 2.0


class WebhookActivities:
    def __init__(
        self,
        claims: Callable[[str], Claims],
        attempts: Attempts,
        *,
        clock: Callable[[], datetime],
        doorbell: Doorbell | None = None,
        pace: Pace | None = None,
        on_disabled: Callable[[str], None] = lambda _tenant: None,
    ) -> None:
        """``claims``: the outbox claims of a task queue. The rest: ``Deliverer``'s."""
        self._claims = claims
        self._on_disabled = on_disabled
        self._attempts = attempts
        self._clock = clock
        self._doorbell = doorbell
        self._pace = pace

    def deliverer(self, queue: str) -> Deliverer:
        return Deliverer(
            self._claims(queue),
            self._attempts,
            clock=self._clock,
            doorbell=self._doorbell,
            pace=self._pace,
            on_disabled=self._on_disabled,
        )

    @activity.defn
    async def deliver_webhooks(self, req: DeliverWebhooks) -> DeliverySession:
        deliverer = self.deliverer(req.queue)
        stop = asyncio.Event()
        ending = asyncio.get_running_loop().call_later(req.session_seconds, stop.set)

        def shutting_down(waited: asyncio.Future[None]) -> None:
            if not waited.cancelled():
                deliverer.grace = SHUTDOWN_GRACE_SECONDS
                stop.set()

        shutdown = asyncio.ensure_future(activity.wait_for_worker_shutdown())
        shutdown.add_done_callback(shutting_down)
        try:
            totals = await deliverer.run(stop, activity.heartbeat)
        finally:
            ending.cancel()
            shutdown.cancel()
        if deliverer.grace is not None:
            totals.stopped = "the worker is shutting down"
        return totals
