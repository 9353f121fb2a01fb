"""Webhook subscriptions and their deliveries (SPEC §4 ``/webhooks``, §6).

Every row carries its tenant, and every read filters on it: a subscription of another
tenant is indistinguishable from one that does not exist.
"""

from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.tables import utcnow
from models.timestamps import Timestamp


class WebhookSubscriptionRow(SQLModel, table=True):
    __tablename__ = "webhook_subscriptions"
    # Publishing an event reads exactly this index: the tenant's enabled subscriptions.
    __table_args__ = (Index("ix_webhook_subscriptions_tenant_enabled", "tenant", "enabled"),)

    # Random and unguessable ("wh_" + 24 hex digits).
    id: str = Field(primary_key=True, max_length=40)
    tenant: str = Field(max_length=128)
    url: str = Field(max_length=2048)
    events: list[str] = Field(sa_column=Column(JSON, nullable=False))
    # None: every process.
    process: str | None = Field(default=None, max_length=64)
    format: str = Field(default="standard", max_length=16)
    # Format slack only: approval requests carry Approve / Reject buttons (api/slack).
    interactive: bool = False
    # The signing secret, read by the delivery activity at each attempt; never listed.
    secret: str = Field(max_length=200)
    enabled: bool = True
    # Why it stopped (a receiver answered 410 Gone).
    disabled_reason: str | None = Field(default=None, max_length=500)
    created_by: str = Field(max_length=200)
    created_at: Timestamp = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))


class WebhookDeliveryRow(SQLModel, table=True):
    """The outbox: one event to one subscription. Written pending, with the event, in the
    transaction of the step that raised it; claimed, attempted and updated by the deliverer
    of its task queue (``activities/webhooks``). The unique key makes a second write of the
    same event (a retried step, a replayed run) a no-op."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("subscription_id", "event_id", name="uq_webhook_deliveries_sub_event"),
        Index("ix_webhook_deliveries_sub_created", "subscription_id", "created_at"),
        Index("ix_webhook_deliveries_tenant", "tenant"),
        # The deliverer's claim: its queue's pending rows that are due.
        Index("ix_webhook_deliveries_due", "queue", "state", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    subscription_id: str = Field(max_length=40)
    tenant: str = Field(max_length=128)
    event_id: str = Field(max_length=600)
    event_type: str = Field(max_length=32)
    # The event as it is posted (links included). None only on rows written before the
    # outbox, whose delivery workflow held the event (it hands it over here).
    payload: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    # The task queue whose deliverer sends it: the queue of the worker that wrote it.
    queue: str | None = Field(default=None, max_length=200)
    state: str = Field(default="pending", max_length=16)
    attempts: int = 0
    # The receiver's HTTP status on the last attempt; None when it did not answer.
    last_status: int | None = None
    # What went wrong without a status (timeout, refused connection, private address).
    last_error: str | None = Field(default=None, max_length=500)
    # Pending: when it is due (while an attempt runs, when that attempt's claim lapses).
    next_attempt_at: Timestamp | None = Field(default=None, sa_type=DateTime(timezone=True))
    delivered_at: Timestamp | None = Field(default=None, sa_type=DateTime(timezone=True))
    created_at: Timestamp = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
    updated_at: Timestamp = Field(default_factory=utcnow, sa_type=DateTime(timezone=True))
