"""The production retry schedule over a day, on a clock the test moves: a receiver that
keeps answering 503 is retried with growing waits for more than 24 hours, then the delivery
is dead, with its attempts and last status recorded.

The deliverer's schedule lives in the outbox rows (``next_attempt_at``) and is read against
the deliverer's clock, so moving that clock to each row's next attempt is the day passing;
every attempt is a real POST to a real receiver."""

import uuid
from datetime import timedelta

from activities.webhooks.parts import webhook_parts
from models.timestamps import as_utc
from models.webhooks import DeliverySchedule
from tests.conftest import Database
from tests.webhooks.conftest import Clock, Hooks, Publisher, worker_settings
from tests.webhooks.receiver import Receiver


async def test_a_receiver_failing_for_a_day_ends_dead(
    database: Database, receiver: Receiver
) -> None:
    production = DeliverySchedule()
    assert production.give_up_after >= timedelta(hours=24)
    clock = Clock()
    queue = f"webhooks-day-{uuid.uuid4().hex[:8]}"
    # The production schedule: no ``schedule`` given.
    parts = webhook_parts(database.sessions, worker_settings(queue), clock=clock)
    # No Temporal here: the test runs the deliverer's passes itself.
    hooks = Hooks(None, database, queue, Publisher(parts.outbox, database))  # type: ignore[arg-type]
    deliverer = parts.deliveries.deliverer(queue)
    receiver.default = 503
    sub = await hooks.subscribe(receiver.url)
    event = hooks.event()
    assert await hooks.publisher.publish(event) == 1
    started = clock.now

    try:
        for _ in range(100):
            await deliverer.deliver_due()
            [row] = await hooks.deliveries(sub)
            if row.state != "pending":
                break
            assert row.next_attempt_at is not None
            clock.now = as_utc(row.next_attempt_at)  # the wait, skipped
    finally:
        await parts.aclose()

    lasted = clock.now - started
    assert timedelta(hours=24) <= lasted <= production.give_up_after + timedelta(hours=1)
    # Backoff: a handful of quick attempts, then about one an hour; each one sent.
    attempts = len(receiver.requests)
    assert 20 <= attempts <= 45, attempts
    assert {r.headers["webhook-id"] for r in receiver.requests} == {event.id}
    assert (row.state, row.attempts, row.last_status) == ("dead", attempts, 503)
    assert row.next_attempt_at is None and "gave up" in (row.last_error or "")
