"""One event to one subscription, durably (SPEC §6): Temporal is the outbox.

The workflow id is ``webhook:<subscription_id>:<event_id>`` and starting it twice is
refused, so an event published again (a retried or replayed emitter) is delivered once. The
delivery activity is retried by Temporal with the schedule's backoff (the activity picks
each wait: jittered, or the receiver's Retry-After) until the schedule-to-close timeout;
then the delivery is dead. Either way the run completes: a dead delivery is an outcome,
not a failed workflow for on-call to replay.
"""

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, FailureError

with workflow.unsafe.imports_passed_through():
    from activities.webhooks import WebhookActivities
    from models.webhooks import (
        DeliveryAttempt,
        DeliveryOutcome,
        DeliverySchedule,
        DeliveryState,
        MarkDead,
        WebhookDelivery,
    )
    from temporal.errors import WEBHOOK_DEAD
    from temporal.retry import DB_STEP_RETRY, DB_STEP_TIMEOUT


def workflow_id_for(subscription_id: str, event_id: str) -> str:
    return f"webhook:{subscription_id}:{event_id}"


def retry_policy(schedule: DeliverySchedule) -> RetryPolicy:
    """The fallback when an attempt ends without choosing its own wait (it timed out, or
    its worker died); unlimited attempts, bounded by the schedule-to-close timeout."""
    return RetryPolicy(
        initial_interval=schedule.initial_interval,
        backoff_coefficient=schedule.backoff,
        maximum_interval=schedule.maximum_interval,
        maximum_attempts=0,
        non_retryable_error_types=[WEBHOOK_DEAD],
    )


# Not sandboxed: Brain's own workflow, a call of one activity, with no module state and no
# clock or randomness of its own. A sandbox per delivery is a fresh module namespace built
# for each event and the SDK's trip into it for every payload, for a workflow that needs
# neither (bench/analysis.md, the profile).
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
            WebhookActivities.deliver_webhook,
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
            # The activity refused for good and recorded why.
            status = cause.details[0] if cause.details else None
            return DeliveryOutcome(state=DeliveryState.DEAD, status=status, reason=cause.message)
        last = cause.message if isinstance(cause, FailureError) else str(cause or err)
        reason = f"gave up after {delivery.schedule.give_up_after}: {last}"
        await workflow.execute_activity_method(
            WebhookActivities.mark_webhook_dead,
            MarkDead(subscription_id=delivery.subscription_id, event=delivery.event, reason=reason),
            start_to_close_timeout=DB_STEP_TIMEOUT,
            retry_policy=DB_STEP_RETRY,
        )
        return DeliveryOutcome(state=DeliveryState.DEAD, reason=reason)
