"""Webhook delivery: the workflow's input and output and its retry schedule (SPEC §6).

The workflow input carries the event (its ``data`` is fine in history) and the subscription
id, never the URL's secret: the activity reads that from the database at each attempt.
"""

from datetime import timedelta
from enum import StrEnum

from pydantic import BaseModel, Field

from models.events import Event


class WebhookFormat(StrEnum):
    STANDARD = "standard"
    SLACK = "slack"


class DeliveryState(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"


class DeliverySchedule(BaseModel):
    """When to try again. Production keeps trying for at least 24 hours (SPEC §6); tests
    inject seconds. Each wait is ``initial * backoff**(n-1)`` capped at ``maximum``, then
    jittered down by up to ``jitter`` (so receivers recovering from an outage are not hit
    by every sender at once); a receiver's ``Retry-After`` wins when it is longer."""

    initial_interval: timedelta = timedelta(seconds=5)
    backoff: float = Field(2.0, ge=1.0)
    maximum_interval: timedelta = timedelta(hours=1)
    jitter: float = Field(0.2, ge=0.0, lt=1.0)
    # The longest Retry-After honoured: a receiver cannot park a delivery for a week.
    maximum_retry_after: timedelta = timedelta(hours=6)
    # Then the delivery is dead; Temporal's schedule-to-close timeout enforces it.
    give_up_after: timedelta = timedelta(hours=25)
    # One attempt: connect, send, read the status (the HTTP timeouts are tighter).
    attempt_timeout: timedelta = timedelta(seconds=30)

    def delay(self, attempt: int, unit_random: float) -> timedelta:
        """The wait after failed attempt ``attempt`` (1-based); ``unit_random`` in [0, 1)."""
        base = self.initial_interval.total_seconds() * self.backoff ** max(0, attempt - 1)
        capped = min(base, self.maximum_interval.total_seconds())
        return timedelta(seconds=capped * (1.0 - self.jitter * unit_random))


class WebhookDelivery(BaseModel):
    """Input of ``WebhookDeliveryWorkflow``: one event to one subscription."""

    subscription_id: str
    event: Event
    schedule: DeliverySchedule = Field(default_factory=DeliverySchedule)


class DeliveryAttempt(BaseModel):
    """Input of the delivery activity (the schedule decides the wait after a failure)."""

    subscription_id: str
    event: Event
    schedule: DeliverySchedule


class MarkDead(BaseModel):
    subscription_id: str
    event: Event
    reason: str


class DeliveryOutcome(BaseModel):
    state: DeliveryState
    # The receiver's last HTTP status, when it answered at all.
    status: int | None = None
    # Why it is dead, or why it was dropped (subscription deleted).
    reason: str | None = None
