"""Webhook subscriptions (SPEC §4 ``/webhooks``, §6): an admin's, for their own tenant.

Another tenant's subscription answers 404, exactly like one that does not exist.
"""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from activities.webhooks.store import WebhookStore
from api.deps import Admin, SettingsDep, StateDep
from api.errors import NotFound, ValidationFailed, responses
from api.schemas import Page
from api.webhook_schemas import DeliveryView, WebhookCreate, WebhookCreated, WebhookView
from services.webhooks import InvalidSubscription, create_subscription

router = APIRouter(prefix="/webhooks", tags=["webhooks"])

SubscriptionId = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_-]+$")]
_READ_ERRORS = responses(401, 403, 404, 422, 429)


class WebhookNotFound(NotFound):
    pass


@router.post(
    "",
    name="create_webhook",
    status_code=status.HTTP_201_CREATED,
    responses=responses(401, 403, 422, 429),
)
async def create_webhook(
    body: WebhookCreate, principal: Admin, state: StateDep, settings: SettingsDep
) -> WebhookCreated:
    """Subscribe a URL to events of the caller's tenant. The signing secret (given, or
    generated as `whsec_` + base64) is in this response only. Answers about a second after
    saving it: every event raised from then on reaches the subscription."""
    try:
        row = await create_subscription(
            WebhookStore(state.sessions),
            principal.tenant,
            url=body.url,
            events=[e.value for e in body.events],
            process=body.process,
            fmt=body.format.value,
            interactive=body.interactive,
            secret=body.secret,
            created_by=principal.sub,
            allow_private=settings.webhook_allow_private,
        )
    except InvalidSubscription as err:
        detail = [{"loc": ["body", err.field], "msg": err.message, "type": "value_error"}]
        raise ValidationFailed(detail) from None
    return WebhookCreated(**WebhookView.of(row).model_dump(), secret=row.secret)


@router.get("", name="list_webhooks", responses=responses(401, 403, 429))
async def list_webhooks(principal: Admin, state: StateDep) -> Page[WebhookView]:
    """The tenant's subscriptions, oldest first, without their secrets."""
    rows = await WebhookStore(state.sessions).for_tenant(principal.tenant)
    return Page[WebhookView](items=[WebhookView.of(r) for r in rows])


@router.delete(
    "/{subscription_id}",
    name="delete_webhook",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=_READ_ERRORS,
)
async def delete_webhook(
    subscription_id: SubscriptionId, principal: Admin, state: StateDep
) -> Response:
    """Unsubscribe; deliveries still retrying stop at their next attempt."""
    if not await WebhookStore(state.sessions).remove(principal.tenant, subscription_id):
        raise WebhookNotFound(f"no webhook {subscription_id!r}")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{subscription_id}/deliveries", name="list_webhook_deliveries", responses=_READ_ERRORS)
async def list_deliveries(
    subscription_id: SubscriptionId,
    principal: Admin,
    state: StateDep,
    limit: Annotated[int, Query(ge=1, le=200, description="How many, newest first")] = 50,
) -> Page[DeliveryView]:
    """Recent deliveries, newest first: attempts, last status, next attempt, state."""
    store = WebhookStore(state.sessions)
    if await store.get(principal.tenant, subscription_id) is None:
        raise WebhookNotFound(f"no webhook {subscription_id!r}")
    rows = await store.deliveries(principal.tenant, subscription_id, limit)
    return Page[DeliveryView](items=[DeliveryView.of(r) for r in rows])
