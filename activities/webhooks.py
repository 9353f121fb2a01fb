"""Webhook delivery attempts (SPEC §6): one POST per activity attempt; Temporal retries.

What the receiver's answer means:
- 2xx: delivered.
- a timeout, no connection, 408, 429, 5xx, a name that does not resolve: retryable, after
  the schedule's jittered backoff or the receiver's ``Retry-After`` if that is longer.
- 410 Gone: dead, and the subscription is disabled.
- any other answer (other 4xx, 3xx: redirects are not followed), or an address that is
  private when that is not allowed: dead at once.

Each attempt reads the subscription (URL, format, secret) from the database: the secret is
never in workflow input or history, and a deleted subscription stops its deliveries.
"""

import logging
import random
from datetime import UTC, datetime, timedelta
from typing import NoReturn

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory

from models.webhook_tables import WebhookSubscriptionRow
from models.webhooks import DeliveryAttempt, DeliveryOutcome, DeliveryState, MarkDead, WebhookFormat
from services.webhook_http import make_http_client, post
from services.webhook_payloads import render
from services.webhook_signing import signed_headers
from services.webhook_targets import (
    Resolver,
    Unresolvable,
    UnsafeTarget,
    resolve_target,
    system_resolver,
)
from store.webhooks import WebhookStore
from temporal.errors import WEBHOOK_DEAD, WEBHOOK_UNDELIVERED

log = logging.getLogger(__name__)

_RETRYABLE_STATUSES = frozenset({408, 429})
# Of the attempt's start-to-close budget, the share the HTTP exchange may use: the rest is
# for recording the outcome.
_HTTP_SHARE = 0.8


class WebhookActivities:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        http: httpx.AsyncClient | None = None,
        *,
        allow_private: bool = False,
        resolver: Resolver = system_resolver,
    ) -> None:
        self._store = WebhookStore(sessions)
        self._http = http
        self._allow_private = allow_private
        self._resolver = resolver

    @activity.defn
    async def deliver_webhook(self, req: DeliveryAttempt) -> DeliveryOutcome:
        sub = await self._store.secret_and_target(req.subscription_id)
        if sub is None:
            # Deleted: its deliveries went with it, nothing to record.
            return DeliveryOutcome(state=DeliveryState.DEAD, reason="subscription deleted")
        if not sub.enabled:
            await self._dead(req, None, f"subscription disabled: {sub.disabled_reason}")
        attempt = activity.info().attempt
        try:
            target = await resolve_target(
                sub.url, allow_private=self._allow_private, resolver=self._resolver
            )
        except UnsafeTarget as err:
            await self._dead(req, None, f"refused: {err}", attempt)
        except Unresolvable as err:
            await self._retry(req, attempt, None, str(err))
        body = render(req.event, WebhookFormat(sub.format))
        headers = signed_headers(sub.secret, req.event.id, body, datetime.now(UTC))
        budget = req.schedule.attempt_timeout.total_seconds() * _HTTP_SHARE
        try:
            answer = await post(self._client(), target, body, headers, deadline_seconds=budget)
        except (TimeoutError, httpx.TimeoutException):
            await self._retry(req, attempt, None, "timed out")
        except httpx.TransportError as err:
            reason = f"connection failed: {type(err).__name__} {err}".strip()
            await self._retry(req, attempt, None, reason)
        return await self._answered(req, sub, attempt, answer.status, answer.retry_after)

    @activity.defn
    async def mark_webhook_dead(self, req: MarkDead) -> None:
        """Retries ran out (the schedule-to-close timeout): keep the last attempt's status."""
        await self._store.record(
            req.subscription_id, req.event, state=DeliveryState.DEAD, error=req.reason
        )

    async def _answered(
        self,
        req: DeliveryAttempt,
        sub: WebhookSubscriptionRow,
        attempt: int,
        status: int,
        retry_after: timedelta | None,
    ) -> DeliveryOutcome:
        log.info(
            "webhook %s to subscription %s: attempt %d answered %d",
            req.event.id,
            sub.id,
            attempt,
            status,
        )
        if 200 <= status < 300:
            await self._store.record(
                sub.id, req.event, state=DeliveryState.DELIVERED, attempts=attempt, status=status
            )
            return DeliveryOutcome(state=DeliveryState.DELIVERED, status=status)
        if status == 410:
            await self._store.disable(sub.id, f"receiver answered 410 Gone to {req.event.id}")
            await self._dead(req, status, "410 Gone: subscription disabled", attempt)
        if status in _RETRYABLE_STATUSES or status >= 500:
            await self._retry(req, attempt, status, f"HTTP {status}", retry_after)
        await self._dead(req, status, f"HTTP {status}", attempt)

    async def _retry(
        self,
        req: DeliveryAttempt,
        attempt: int,
        status: int | None,
        error: str,
        retry_after: timedelta | None = None,
    ) -> NoReturn:
        schedule = req.schedule
        delay = schedule.delay(attempt, random.random())
        if retry_after is not None:
            delay = max(delay, min(retry_after, schedule.maximum_retry_after))
        await self._store.record(
            req.subscription_id,
            req.event,
            state=DeliveryState.PENDING,
            attempts=attempt,
            status=status,
            error=error,
            next_attempt_at=datetime.now(UTC) + delay,
        )
        raise ApplicationError(
            f"webhook not delivered ({error}); next attempt in {delay}",
            status,
            type=WEBHOOK_UNDELIVERED,
            next_retry_delay=delay,
            # Expected while a receiver is down: logged at debug, not as a failure.
            category=ApplicationErrorCategory.BENIGN,
        )

    async def _dead(
        self, req: DeliveryAttempt, status: int | None, reason: str, attempt: int | None = None
    ) -> NoReturn:
        await self._store.record(
            req.subscription_id,
            req.event,
            state=DeliveryState.DEAD,
            attempts=attempt,
            status=status,
            error=reason,
        )
        raise ApplicationError(reason, status, type=WEBHOOK_DEAD, non_retryable=True)

    def _client(self) -> httpx.AsyncClient:
        # Made on first use, on the worker's own event loop.
        if self._http is None:
            self._http = make_http_client()
        return self._http

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
