"""The deliverer's claims on the outbox: a lane's share per subscription, busy subscriptions
left out, and two deliverers claiming at once never taking the same row (SKIP LOCKED on
PostgreSQL, the single writer on SQLite)."""

import asyncio
import uuid
from collections import Counter
from datetime import timedelta

from activities.webhooks.claims import Claims
from models.tables import utcnow
from models.webhook_tables import WebhookDeliveryRow
from tests.conftest import Database

SUBSCRIPTIONS = 4
PER_SUBSCRIPTION = 10


async def _queued(db: Database) -> tuple[str, list[str]]:
    """A queue of its own with ``PER_SUBSCRIPTION`` due rows for each of a few subscriptions
    (the claims never read the subscriptions themselves)."""
    queue = f"claims-{uuid.uuid4().hex[:8]}"
    subs = [f"wh_{uuid.uuid4().hex[:12]}" for _ in range(SUBSCRIPTIONS)]
    now = utcnow()
    async with db.sessions.begin() as session:
        for sub in subs:
            for n in range(PER_SUBSCRIPTION):
                session.add(
                    WebhookDeliveryRow(
                        subscription_id=sub,
                        tenant="t-claims",
                        event_id=f"{queue}:{n}:run.completed",
                        event_type="run.completed",
                        payload={"n": n},
                        queue=queue,
                        next_attempt_at=now,
                    )
                )
    return queue, subs


def _claims(db: Database, queue: str) -> Claims:
    return Claims(db.sessions, queue, lease=timedelta(minutes=5), clock=utcnow)


async def test_a_claim_takes_a_lanes_share_of_each_idle_subscription(database: Database) -> None:
    queue, subs = await _queued(database)
    claims = _claims(database, queue)
    first = await claims.claim(per_subscription=3, limit=100, busy={subs[0]})
    per_sub = Counter(r.subscription_id for r in first)
    assert per_sub == {sub: 3 for sub in subs[1:]}
    assert {r.attempt for r in first} == {1}
    # Claimed rows wait for their lease; the busy subscription's are still there.
    second = await claims.claim(per_subscription=PER_SUBSCRIPTION, limit=100)
    per_sub = Counter(r.subscription_id for r in second)
    assert per_sub == {subs[0]: PER_SUBSCRIPTION} | {s: PER_SUBSCRIPTION - 3 for s in subs[1:]}
    assert not {r.id for r in first} & {r.id for r in second}
    assert await claims.claim(per_subscription=PER_SUBSCRIPTION, limit=100) == []


async def test_two_deliverers_claiming_at_once_never_share_a_row(database: Database) -> None:
    queue, _ = await _queued(database)
    a, b = _claims(database, queue), _claims(database, queue)
    taken: list[int] = []
    for _ in range(SUBSCRIPTIONS * PER_SUBSCRIPTION):
        got = await asyncio.gather(
            a.claim(per_subscription=2, limit=5), b.claim(per_subscription=2, limit=5)
        )
        batch = [r.id for rows in got for r in rows]
        if not batch:
            break
        taken += batch
    assert len(taken) == len(set(taken)) == SUBSCRIPTIONS * PER_SUBSCRIPTION
