"""One delivery attempt (SPEC §6): resolve and check the target, sign, POST, and say what
the answer means for the row.

- 2xx: delivered.
- a timeout, no connection, 408, 429, 5xx, a name that does not resolve: pending, due again
  after the schedule's jittered backoff, or the receiver's ``Retry-After`` if that is
  longer; dead once the schedule has tried for ``give_up_after``.
- 410 Gone: dead, and the subscription is disabled.
- any other answer (other 4xx, 3xx: redirects are not followed), or an address that is
  private when that is not allowed: dead at once.

No database here: the deliverer claims and records (``claims.py``).
"""

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx
from pydantic import ValidationError

from activities.webhooks.claims import Claimed, Outcome
from activities.webhooks.payloads import render
from activities.webhooks.sender import make_http_client, post
from activities.webhooks.signing import signed_headers
from activities.webhooks.targets import (
    Resolver,
    Unresolvable,
    UnsafeTarget,
    resolve_target,
    system_resolver,
)
from models.events import Event
from models.webhook_tables import WebhookSubscriptionRow
from models.webhooks import DeliverySchedule, DeliveryState, WebhookFormat

log = logging.getLogger(__name__)

_RETRYABLE_STATUSES = frozenset({408, 429})


@dataclass
class Attempts:
    schedule: DeliverySchedule
    clock: Callable[[], datetime]
    http: httpx.AsyncClient | None = None
    allow_private: bool = False
    resolver: Resolver = system_resolver
    jitter: Callable[[], float] = field(default=random.random)

    async def attempt(self, row: Claimed, sub: WebhookSubscriptionRow) -> Outcome:
        """Never raises: whatever goes wrong is the row's outcome, so one bad row cannot
        stop the deliverer (a row it cannot read is dead; anything unforeseen, retried)."""
        try:
            event = Event.model_validate(row.payload)
        except ValidationError as err:
            return Outcome(row.id, DeliveryState.DEAD, error=f"unreadable event: {err}")
        try:
            return await self._attempt(row, event, sub)
        except Exception as err:
            log.exception("webhook %s to subscription %s failed unexpectedly", row.event_id, sub.id)
            return self._retry(row, None, f"internal error: {type(err).__name__}")

    async def _attempt(self, row: Claimed, event: Event, sub: WebhookSubscriptionRow) -> Outcome:
        if not sub.enabled:
            reason = f"subscription disabled: {sub.disabled_reason}"
            return Outcome(row.id, DeliveryState.DEAD, error=reason)
        try:
            target = await resolve_target(
                sub.url, allow_private=self.allow_private, resolver=self.resolver
            )
        except UnsafeTarget as err:
            return Outcome(row.id, DeliveryState.DEAD, error=f"refused: {err}")
        except Unresolvable as err:
            return self._retry(row, None, str(err))
        body = render(event, WebhookFormat(sub.format), interactive=sub.interactive)
        headers = signed_headers(sub.secret, event.id, body, self.clock())
        budget = self.schedule.attempt_timeout.total_seconds()
        try:
            answer = await post(self._client(), target, body, headers, deadline_seconds=budget)
        except (TimeoutError, httpx.TimeoutException):
            return self._retry(row, None, "timed out")
        except httpx.TransportError as err:
            return self._retry(row, None, f"connection failed: {type(err).__name__} {err}".strip())
        log.info(
            "webhook %s to subscription %s: attempt %d answered %d",
            event.id,
            sub.id,
            row.attempt,
            answer.status,
        )
        return self._answered(row, answer.status, answer.retry_after)

    def _answered(self, row: Claimed, status: int, retry_after: timedelta | None) -> Outcome:
        if 200 <= status < 300:
            return Outcome(row.id, DeliveryState.DELIVERED, status=status)
        if status == 410:
            gone = f"receiver answered 410 Gone to {row.event_id}"
            reason = "410 Gone: subscription disabled"
            return Outcome(row.id, DeliveryState.DEAD, status=status, error=reason, disable=gone)
        if status in _RETRYABLE_STATUSES or status >= 500:
            return self._retry(row, status, f"HTTP {status}", retry_after)
        return Outcome(row.id, DeliveryState.DEAD, status=status, error=f"HTTP {status}")

    def _retry(
        self, row: Claimed, status: int | None, error: str, retry_after: timedelta | None = None
    ) -> Outcome:
        when = self.schedule.next_attempt(
            row.attempt, self.clock(), row.queued_at, self.jitter(), retry_after
        )
        if when is None:
            reason = f"gave up after {self.schedule.give_up_after}: {error}"
            return Outcome(row.id, DeliveryState.DEAD, status=status, error=reason)
        return Outcome(
            row.id, DeliveryState.PENDING, status=status, error=error, next_attempt_at=when
        )

    def _client(self) -> httpx.AsyncClient:
        # Made on first use, on the worker's own event loop.
        if self.http is None:
            self.http = make_http_client()
        return self.http

    async def aclose(self) -> None:
        if self.http is not None:
            await self.http.aclose()
