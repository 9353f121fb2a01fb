"""The outbox's deliverer, kept running by Temporal: one long-lived workflow per task queue,
``brain-webhooks:<task queue>``, that runs delivery sessions (``delivery.py``) one after the
other and continues as new every ``sessions_per_run``. Internal to Brain: it carries no
Brain search attributes, so it never shows among the process runs.

Every worker ensures it at start, idempotently, as it does the reconciler: the first starts
it, the others find it running. If a worker dies mid-session, the session's heartbeat times
out and Temporal runs it again on a worker that is alive. Terminating it stops deliveries
(the outbox keeps every event) until the next worker starts it again.
"""

import logging
from datetime import timedelta

from temporalio import workflow
from temporalio.client import Client
from temporalio.common import RetryPolicy, WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.service import RPCError

with workflow.unsafe.imports_passed_through():
    from activities.webhooks.delivery import WebhookActivities
    from models.webhooks import DeliverWebhooks, WebhookOutbox

log = logging.getLogger(__name__)

PREFIX = "brain-webhooks"
# A session that stops heartbeating (its worker died) is run again after this long.
HEARTBEAT_TIMEOUT = timedelta(seconds=10)
# The session's own bound, beyond its length: time to finish the attempts in flight.
_SESSION_MARGIN = timedelta(minutes=2)
# A session that fails (the database down) is tried again soon, for ever.
_SESSION_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
    maximum_attempts=0,
)
_RPC_TIMEOUT = timedelta(seconds=10)


def deliverer_id(task_queue: str) -> str:
    return f"{PREFIX}:{task_queue}"


# Not sandboxed: a loop over one activity, with no module state and no clock of its own.
@workflow.defn(sandboxed=False)
class WebhookOutboxWorkflow:
    def __init__(self) -> None:
        self._sessions = 0

    @workflow.run
    async def run(self, outbox: WebhookOutbox) -> None:
        session = DeliverWebhooks(queue=outbox.queue, session_seconds=outbox.session_seconds)
        bound = timedelta(seconds=outbox.session_seconds) + _SESSION_MARGIN
        while self._sessions < outbox.sessions_per_run:
            await workflow.execute_activity_method(
                WebhookActivities.deliver_webhooks,
                session,
                start_to_close_timeout=bound,
                heartbeat_timeout=HEARTBEAT_TIMEOUT,
                retry_policy=_SESSION_RETRY,
            )
            self._sessions += 1
        workflow.continue_as_new(outbox)

    @workflow.query(description="Delivery sessions completed by this run.")
    def sessions(self) -> int:
        return self._sessions


async def ensure_deliverer(
    client: Client, task_queue: str, outbox: WebhookOutbox | None = None
) -> str | None:
    """Start the queue's deliverer unless it runs; return its workflow id. Never raises: a
    worker without it still runs every process, and the outbox keeps the events until a
    deliverer runs, so a failure is logged instead."""
    wid = deliverer_id(task_queue)
    try:
        await client.start_workflow(
            WebhookOutboxWorkflow.run,
            outbox or WebhookOutbox(queue=task_queue),
            id=wid,
            task_queue=task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
            static_summary="Internal to Brain: deliver webhooks (no action needed)",
            static_details=(
                "Internal to Brain: sends the webhook events queued in the outbox of task "
                f"queue {task_queue}. Nothing to do here."
            ),
            memo={"brain": "internal"},
            rpc_timeout=_RPC_TIMEOUT,
        )
    except RPCError as err:
        log.warning(
            "could not start the webhook deliverer %s (%s): events wait in the outbox until "
            "a worker starts it",
            wid,
            err.message,
        )
        return None
    return wid
