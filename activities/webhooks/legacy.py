"""Deliveries started before the outbox (migration 0008): one workflow per event and
subscription, ``webhook:<subscription_id>:<event_id>``. Those still open at the upgrade
replay on the code below, unchanged, and at their next attempt hand their event over to the
outbox, where the deliverer sends it with the same ``webhook-id``: nothing published before
the upgrade is lost, nothing is sent twice by two mechanisms.

Retire (the workflow, both activities, their models in ``models/webhooks.py``) once no
``WebhookDeliveryWorkflow`` is open: at most ``give_up_after`` (25 hours) after the deploy.
"""

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col
from temporalio import activity, workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, FailureError

with workflow.unsafe.imports_passed_through():
    from models.tables import utcnow
    from models.webhook_tables import WebhookDeliveryRow
    from models.webhooks import (
        DeliveryAttempt,
        DeliveryOutcome,
        DeliverySchedule,
        DeliveryState,
        MarkDead,
        WebhookDelivery,
    )
    from store.sql import insert
    from temporal.errors import WEBHOOK_DEAD
    from temporal.retry import DB_STEP_RETRY, DB_STEP_TIMEOUT

_DEL = WebhookDeliveryRow


class LegacyWebhookActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], queue: str) -> None:
        self._sessions = sessions
        self._queue = queue

    @activity.defn
    async def deliver_webhook(self, req: DeliveryAttempt) -> DeliveryOutcome:
        """Hand the event to the outbox of this worker's queue, due at once. A row that
        is already delivered or dead stays so."""
        now = utcnow()
        event = req.event
        handed = {"payload": event.model_dump(mode="json"), "queue": self._queue}
        async with self._sessions.begin() as session:
            stmt = insert(session, _DEL).values(
                subscription_id=req.subscription_id,
                tenant=event.tenant,
                event_id=event.id,
                event_type=event.type.value,
                state=DeliveryState.PENDING.value,
                attempts=0,
                next_attempt_at=now,
                created_at=now,
                updated_at=now,
                **handed,
            )
            stmt = stmt.on_conflict_do_update(
                index_elements=["subscription_id", "event_id"],
                set_={**handed, "next_attempt_at": now, "updated_at": now},
                where=col(_DEL.state) == DeliveryState.PENDING.value,
            )
            await session.execute(stmt)
        return DeliveryOutcome(state=DeliveryState.PENDING, reason="handed over to the outbox")

    @activity.defn
    async def mark_webhook_dead(self, req: MarkDead) -> None:
        """Retries ran out before the upgrade: keep the last attempt's status."""
        stmt = (
            update(_DEL)
            .where(
                col(_DEL.subscription_id) == req.subscription_id,
                col(_DEL.event_id) == req.event.id,
            )
            .values(
                state=DeliveryState.DEAD.value,
                last_error=req.reason[:500],
                next_attempt_at=None,
                updated_at=utcnow(),
            )
        )
        async with self._sessions.begin() as session:
            await session.execute(stmt)


def workflow_id_for(subscription_id: str, event_id: str) -> str:
    return f"webhook:{subscription_id}:{event_id}"


def retry_policy(schedule: DeliverySchedule) -> RetryPolicy:
    return RetryPolicy(
        initial_interval=schedule.initial_interval,
        backoff_coefficient=schedule.backoff,
        maximum_interval=schedule.maximum_interval,
        maximum_attempts=0,
        non_retryable_error_types=[WEBHOOK_DEAD],
    )


# As it was: histories recorded before the outbox replay on exactly these commands.
@workflow.defn(sandboxed=False)
class WebhookDeliveryWorkflow:
    @workflow.run
    async def run(self, delivery: WebhookDelivery) -> DeliveryOutcome:
        try:
            return await self._deliver(delivery)
        except ActivityError as err:
            return await self._dead(delivery, err)

    async def _deliver(self, delivery: WebhookDelivery) -> DeliveryOutcome:
        schedule = delivery.schedule
        return await workflow.execute_activity_method(
            LegacyWebhookActivities.deliver_webhook,
            DeliveryAttempt(
                subscription_id=delivery.subscription_id,
                event=delivery.event,
                schedule=schedule,
            ),
            start_to_close_timeout=schedule.attempt_timeout,
            schedule_to_close_timeout=schedule.give_up_after,
            retry_policy=retry_policy(schedule),
        )

    async def _dead(self, delivery: WebhookDelivery, err: ActivityError) -> DeliveryOutcome:
        cause = err.cause
        if isinstance(cause, ApplicationError) and cause.type == WEBHOOK_DEAD:
            status = cause.details[0] if cause.details else None
            return DeliveryOutcome(state=DeliveryState.DEAD, status=status, reason=cause.message)
        last = cause.message if isinstance(cause, FailureError) else str(cause or err)
        reason = f"gave up after {delivery.schedule.give_up_after}: {last}"
        await workflow.execute_activity_method(
            LegacyWebhookActivities.mark_webhook_dead,
            MarkDead(subscription_id=delivery.subscription_id, event=delivery.event, reason=reason),
            start_to_close_timeout=DB_STEP_TIMEOUT,
            retry_policy=DB_STEP_RETRY,
        )
        return DeliveryOutcome(state=DeliveryState.DEAD, reason=reason)
