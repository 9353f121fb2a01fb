"""Webhook delivery (SPEC §6): formats, delivery states, the retry schedule, and the inputs
and outputs of the outbox's delivery workflow and activity.

Nothing here carries a subscription's secret: the deliverer reads it from the database.
"""

from datetime import datetime, timedelta
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
    # Then the delivery is dead: counted from the event's row, not from an attempt.
    give_up_after: timedelta = timedelta(hours=25)
    # One attempt: connect, send, read the status (the HTTP timeouts are tighter).
    attempt_timeout: timedelta = timedelta(seconds=30)

    def delay(self, attempt: int, unit_random: float) -> timedelta:
        """The wait after failed attempt ``attempt`` (1-based); ``unit_random`` in [0, 1)."""
        base = self.initial_interval.total_seconds() * self.backoff ** max(0, attempt - 1)
        capped = min(base, self.maximum_interval.total_seconds())
        return timedelta(seconds=capped * (1.0 - self.jitter * unit_random))

    def next_attempt(
        self,
        attempt: int,
        now: datetime,
        queued_at: datetime,
        unit_random: float,
        retry_after: timedelta | None = None,
    ) -> datetime | None:
        """When to try again after failed attempt ``attempt`` of an event queued at
        ``queued_at``; None: never, it has tried for ``give_up_after``. A receiver's
        ``Retry-After`` wins when it is longer (up to ``maximum_retry_after``)."""
        delay = self.delay(attempt, unit_random)
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.maximum_retry_after))
        when = now + delay
        return when if when < queued_at + self.give_up_after else None


class WebhookOutbox(BaseModel):
    """Input of ``WebhookOutboxWorkflow``: the task queue whose outbox rows it delivers."""

    queue: str
    # Delivery sessions (one activity each) before the run continues as new.
    sessions_per_run: int = Field(100, ge=1)
    # How long one session runs before it hands back to the workflow.
    session_seconds: float = Field(600.0, gt=0)


class DeliverWebhooks(BaseModel):
    """Input of the delivery activity: one session over the queue's outbox."""

    queue: str
    session_seconds: float = Field(600.0, gt=0)


class DeliverySession(BaseModel):
    """What one session did: attempts made and how they ended."""

    delivered: int = 0
    retrying: int = 0
    dead: int = 0
    # Why it ended early (the worker shutting down), if it did.
    stopped: str | None = None


# --- Before the outbox (0008): each event to each subscription was a workflow of its own.
# Kept so those still in flight at the upgrade hand their event over to the outbox; retire
# with ``activities/webhooks/legacy.py``.


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
