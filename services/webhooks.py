"""Making a webhook subscription: shared by the REST API and the CLI, so both validate the
same way (process names and aliases, event types, URL safety, the secret)."""

import asyncio
import secrets
from collections.abc import Sequence

from activities.webhooks.outbox import SUBSCRIPTIONS_TTL
from activities.webhooks.signing import generate_secret, validate_secret
from activities.webhooks.store import WebhookStore
from activities.webhooks.targets import (
    Resolver,
    UnsafeTarget,
    check_subscription_url,
    system_resolver,
)
from models.events import EventType
from models.webhook_tables import WebhookSubscriptionRow
from models.webhooks import WebhookFormat
from processes import registry


class InvalidSubscription(ValueError):
    """``field`` names what is wrong (``url``, ``events``, ``process``, ``format``,
    ``interactive``, ``secret``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def new_subscription_id() -> str:
    return "wh_" + secrets.token_hex(12)


async def create_subscription(
    store: WebhookStore,
    tenant: str,
    *,
    url: str,
    events: Sequence[str],
    process: str | None = None,
    fmt: str = WebhookFormat.STANDARD.value,
    interactive: bool = False,
    secret: str | None = None,
    created_by: str,
    allow_private: bool,
    resolver: Resolver = system_resolver,
    settle_seconds: float = SUBSCRIPTIONS_TTL,
) -> WebhookSubscriptionRow:
    """The stored row; its ``secret`` (the given one, or a new ``whsec_`` one) is shown to
    the caller this once and never listed again.

    Returns ``settle_seconds`` after the row is committed: by then no process holds a list
    of the tenant's subscriptions read before it (``activities/webhooks/outbox.py``), so
    every event raised after this returns reaches the new subscription.

    ``interactive`` (format slack only): approval requests carry Approve / Reject buttons."""
    fmt = _format(fmt)
    if interactive and fmt != WebhookFormat.SLACK.value:
        raise InvalidSubscription("interactive", "only a slack subscription can be interactive")
    row = WebhookSubscriptionRow(
        id=new_subscription_id(),
        tenant=tenant,
        url=url,
        events=_event_types(events),
        process=_process(process),
        format=fmt,
        interactive=interactive,
        secret=_secret(secret),
        created_by=created_by,
    )
    try:
        await check_subscription_url(url, allow_private=allow_private, resolver=resolver)
    except UnsafeTarget as err:
        raise InvalidSubscription("url", str(err)) from None
    added = await store.add(row)
    await asyncio.sleep(settle_seconds)
    return added


def _event_types(events: Sequence[str]) -> list[str]:
    if not events:
        raise InvalidSubscription("events", "name at least one event type")
    known = {t.value for t in EventType}
    unknown = [e for e in events if e not in known]
    if unknown:
        raise InvalidSubscription(
            "events", f"unknown event type {unknown[0]!r}; one of {', '.join(sorted(known))}"
        )
    return list(dict.fromkeys(events))  # deduplicated, in the caller's order


def _process(name: str | None) -> str | None:
    if name is None:
        return None
    try:
        return registry.parse(name).value
    except ValueError:
        known = ", ".join(registry.processes())
        raise InvalidSubscription("process", f"unknown process {name!r}; one of {known}") from None


def _format(fmt: str) -> str:
    try:
        return WebhookFormat(fmt).value
    except ValueError:
        raise InvalidSubscription("format", "format must be standard or slack") from None


def _secret(secret: str | None) -> str:
    if secret is None:
        return generate_secret()
    try:
        return validate_secret(secret)
    except ValueError as err:
        raise InvalidSubscription("secret", str(err)) from None
