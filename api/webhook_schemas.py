"""Bodies of ``/webhooks`` (SPEC §4). The secret is in the create response only."""

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

from models.events import EventType
from models.timestamps import Timestamp
from models.webhook_tables import WebhookDeliveryRow, WebhookSubscriptionRow
from models.webhooks import DeliveryState, WebhookFormat

# Control characters never reach the database (PostgreSQL cannot store NUL).
_PRINTABLE = r"^[^\x00-\x1f\x7f]+$"
# What the pattern cannot say: C1 controls and lone surrogates (JSON can spell "\ud800").
_UNSTORABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


class WebhookCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, max_length=2048, pattern=_PRINTABLE)
    events: list[EventType] = Field(min_length=1, max_length=len(EventType))
    process: str | None = Field(
        None,
        min_length=1,
        max_length=64,
        pattern=_PRINTABLE,
        description="Only this process's events (API name or seed alias); omitted: all",
    )
    format: WebhookFormat = WebhookFormat.STANDARD
    interactive: bool = Field(
        False,
        description="Format slack only: approval requests carry Approve / Reject buttons "
        "and a comment input, answered at `POST /slack/interactions`",
    )
    secret: str | None = Field(
        None,
        min_length=16,
        max_length=200,
        pattern=_PRINTABLE,
        description="Signing secret (`whsec_` + base64, or any 16+ characters); "
        "omitted: one is generated",
    )

    @field_validator("url", "process", "secret")
    @classmethod
    def _storable(cls, value: str | None) -> str | None:
        # C1 controls and lone surrogates pass the pattern but no database stores them.
        if value is not None and _UNSTORABLE.search(value):
            raise ValueError("must not contain control characters")
        return value


class WebhookView(BaseModel):
    id: str
    url: str
    events: list[EventType]
    process: str | None
    format: WebhookFormat
    interactive: bool = False
    enabled: bool
    # Why it was disabled: its receiver answered 410 Gone.
    disabled_reason: str | None = None
    created_by: str
    created_at: Timestamp

    @classmethod
    def of(cls, row: WebhookSubscriptionRow) -> "WebhookView":
        return cls.model_validate(row.model_dump(exclude={"secret", "tenant"}))


class WebhookCreated(WebhookView):
    secret: str = Field(description="The signing secret; shown only in this response")


class DeliveryView(BaseModel):
    event_id: str
    event_type: EventType
    state: DeliveryState
    attempts: int
    last_status: int | None = None
    last_error: str | None = None
    next_attempt_at: Timestamp | None = None
    delivered_at: Timestamp | None = None
    created_at: Timestamp
    updated_at: Timestamp

    @classmethod
    def of(cls, row: WebhookDeliveryRow) -> "DeliveryView":
        return cls.model_validate(row.model_dump())
