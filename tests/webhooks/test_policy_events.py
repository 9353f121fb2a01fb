"""``policy.changed`` is queued by the policy write itself, in its transaction: a global
change once for every tenant subscribed to it, each with its own effective policy; a write
that fails queues nothing."""

import uuid
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import col

from activities.webhooks.outbox import Outbox
from activities.webhooks.policy_events import PolicyEvents
from activities.webhooks.store import WebhookStore
from models.events import EventType
from models.hitl import GLOBAL_TENANT, PolicyFields
from models.processes import Process
from models.webhook_tables import WebhookDeliveryRow
from services.webhooks import create_subscription
from store.policies import PolicyStore
from tests.conftest import Database

PROCESS = Process("campaign_tuning")
URL = "http://127.0.0.1:9/never-posted"  # no deliverer serves this test's queue


async def _subscribe(db: Database, tenant: str, events: list[EventType]) -> None:
    await create_subscription(
        WebhookStore(db.sessions),
        tenant,
        url=URL,
        events=[e.value for e in events],
        created_by="tester",
        allow_private=True,
        settle_seconds=0,
    )


async def _queued(db: Database, queue: str) -> dict[str, dict[str, Any]]:
    stmt = select(WebhookDeliveryRow).where(col(WebhookDeliveryRow.queue) == queue)
    async with db.sessions() as session:
        rows = list((await session.execute(stmt)).scalars())
    return {r.tenant: r.payload for r in rows if r.payload is not None}


async def test_a_global_change_tells_each_subscribed_tenant_its_own_policy(
    database: Database,
) -> None:
    run = uuid.uuid4().hex[:8]
    overriding, plain, elsewhere = f"t-over-{run}", f"t-plain-{run}", f"t-else-{run}"
    await _subscribe(database, overriding, [EventType.POLICY_CHANGED])
    await _subscribe(database, plain, [EventType.POLICY_CHANGED, EventType.RUN_FAILED])
    await _subscribe(database, elsewhere, [EventType.RUN_COMPLETED])
    policies = PolicyStore(database.sessions)
    await policies.set(
        PROCESS, overriding, PolicyFields(confidence_threshold=0.55), changed_by="tester"
    )
    queue = f"policy-events-{run}"
    events = PolicyEvents(policies, Outbox(queue))

    # The global row's own value again: a new version, and nothing other tests would notice.
    current = await policies.effective(PROCESS, GLOBAL_TENANT)
    changed = await policies.set(
        PROCESS,
        GLOBAL_TENANT,
        PolicyFields(approval_timeout_seconds=current.approval_timeout_seconds),
        changed_by="root",
        then=events.write,
    )

    queued = await _queued(database, queue)
    assert elsewhere not in queued
    told = {t: queued[t] for t in (overriding, plain)}
    for tenant, event in told.items():
        assert event["id"] == f"policy:{PROCESS.value}:*:v{changed.version}:policy.changed"
        assert event["tenant"] == tenant and event["created_at"].endswith("Z")
        assert (event["data"]["scope"], event["data"]["changed_by"]) == ("*", "root")
    assert told[overriding]["data"]["policy"]["confidence_threshold"] == 0.55
    assert told[plain]["data"]["policy"]["confidence_threshold"] == current.confidence_threshold


async def test_a_refused_change_queues_nothing(database: Database) -> None:
    run = uuid.uuid4().hex[:8]
    tenant, queue = f"t-refused-{run}", f"policy-refused-{run}"
    await _subscribe(database, tenant, [EventType.POLICY_CHANGED])
    policies = PolicyStore(database.sessions)
    events = PolicyEvents(policies, Outbox(queue))

    async def then_fail(session: object, change: object) -> None:
        await events.write(session, change)  # type: ignore[arg-type]
        raise RuntimeError("the write fails after queueing its event")

    with pytest.raises(RuntimeError):
        await policies.set(
            PROCESS, tenant, PolicyFields(min_approvals=2), changed_by="tester", then=then_fail
        )
    assert await _queued(database, queue) == {}
    # The same change, saved: told once.
    await policies.set(
        PROCESS, tenant, PolicyFields(min_approvals=2), changed_by="tester", then=events.write
    )
    assert list(await _queued(database, queue)) == [tenant]
