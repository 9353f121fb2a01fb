"""``brain webhooks add|list|rm|deliveries``: webhook subscriptions for ops (SPEC §6).

Straight on the app database, like ``brain policy``: the same validation as the REST API
(``services.webhooks``), the tenant from ``--tenant`` or, under ``brain up``, its local
tenant; private and loopback receivers are allowed where the stack allows them (``brain up``
does: BRAIN_WEBHOOK_ALLOW_PRIVATE).
"""

from enum import StrEnum
from typing import Annotated

import typer

from activities.webhooks.store import WebhookStore
from cli.common import database, default_actor, echo_json, fail, run, tenant_or_local
from cli.home import settings as cli_settings
from core.settings import Settings
from models.events import EventType
from services.webhooks import InvalidSubscription, create_subscription

webhooks_app = typer.Typer(
    help="Webhook subscriptions and their deliveries.",
    no_args_is_help=True,
    rich_markup_mode=None,
    add_completion=False,
)

Tenant = Annotated[
    str | None,
    typer.Option(help="The tenant whose subscriptions these are (under `brain up`: its own)."),
]
SubscriptionId = Annotated[str, typer.Argument(help="The subscription id (wh_...).")]


class Format(StrEnum):
    STANDARD = "standard"
    SLACK = "slack"


@webhooks_app.command("add")
def add(
    url: Annotated[str, typer.Option(help="Where to POST (http or https).")],
    event: Annotated[
        list[EventType],
        typer.Option("--event", help="An event type to send; repeat for several."),
    ],
    process: Annotated[
        str | None, typer.Option(help="Only this process's events (default: all).")
    ] = None,
    fmt: Annotated[Format, typer.Option("--format", help="standard or slack.")] = Format.STANDARD,
    interactive: Annotated[
        bool,
        typer.Option(
            "--interactive", help="Slack only: Approve / Reject buttons on approval requests."
        ),
    ] = False,
    secret: Annotated[
        str | None, typer.Option(help="Signing secret (default: a new whsec_ one).")
    ] = None,
    by: Annotated[str | None, typer.Option(help="Who adds it; default: your user.")] = None,
    tenant: Tenant = None,
) -> None:
    """Subscribe a URL. Prints the subscription with its secret (shown only here)."""
    run(
        _add(
            cli_settings(),
            tenant_or_local(tenant),
            url=url,
            events=[e.value for e in event],
            process=process,
            fmt=fmt.value,
            interactive=interactive,
            secret=secret,
            created_by=by or default_actor(),
        )
    )


async def _add(
    settings: Settings,
    tenant: str,
    *,
    url: str,
    events: list[str],
    process: str | None,
    fmt: str,
    interactive: bool,
    secret: str | None,
    created_by: str,
) -> None:
    async with database(settings, tenant=tenant) as sessions:
        try:
            row = await create_subscription(
                WebhookStore(sessions),
                tenant,
                url=url,
                events=events,
                process=process,
                fmt=fmt,
                interactive=interactive,
                secret=secret,
                created_by=created_by,
                allow_private=settings.webhook_allow_private,
            )
        except InvalidSubscription as err:
            field = {"loc": [err.field], "msg": err.message, "type": "value_error"}
            fail("InvalidSubscription", f"{err.field}: {err.message}", [field])
    echo_json(row.model_dump(mode="json"))


@webhooks_app.command("list")
def list_webhooks(tenant: Tenant = None) -> None:
    """The tenant's subscriptions (without their secrets)."""
    run(_list(cli_settings(), tenant_or_local(tenant)))


async def _list(settings: Settings, tenant: str) -> None:
    async with database(settings, tenant=tenant) as sessions:
        rows = await WebhookStore(sessions).for_tenant(tenant)
    echo_json([row.model_dump(mode="json", exclude={"secret"}) for row in rows])


@webhooks_app.command("rm")
def remove(subscription_id: SubscriptionId, tenant: Tenant = None) -> None:
    """Unsubscribe; deliveries still retrying stop at their next attempt."""
    run(_remove(cli_settings(), tenant_or_local(tenant), subscription_id))


async def _remove(settings: Settings, tenant: str, subscription_id: str) -> None:
    async with database(settings, tenant=tenant) as sessions:
        if not await WebhookStore(sessions).remove(tenant, subscription_id):
            fail("NotFound", f"no webhook {subscription_id!r} for tenant {tenant!r}")
    echo_json({"id": subscription_id, "removed": True})


@webhooks_app.command("deliveries")
def deliveries(
    subscription_id: SubscriptionId,
    tenant: Tenant = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="How many, newest first.")] = 50,
) -> None:
    """Recent deliveries: event, attempts, last status, next attempt, state."""
    run(_deliveries(cli_settings(), tenant_or_local(tenant), subscription_id, limit))


async def _deliveries(settings: Settings, tenant: str, subscription_id: str, limit: int) -> None:
    async with database(settings, tenant=tenant) as sessions:
        store = WebhookStore(sessions)
        if await store.get(tenant, subscription_id) is None:
            fail("NotFound", f"no webhook {subscription_id!r} for tenant {tenant!r}")
        rows = await store.deliveries(tenant, subscription_id, limit)
    echo_json([row.model_dump(mode="json", exclude={"id", "tenant"}) for row in rows])
