"""Timeouts and retry policies in one place, so every workflow uses the same ones."""

from datetime import timedelta

from temporalio.common import RetryPolicy

# Short database steps of the gate: retried quickly while the database may come back (a
# restart, a failover), then the run fails visibly (``/ops/failed``) instead of retrying for
# ever; a write the database refuses outright is not retried at all (activities/db_errors).
DB_STEP_TIMEOUT = timedelta(seconds=30)
DB_STEP_SCHEDULE_TO_CLOSE = timedelta(minutes=10)
DB_STEP_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=10),
    maximum_attempts=60,
)

# The AI step: bounded attempts; when they run out the run parks for a person instead.
AI_STEP_START_TO_CLOSE = timedelta(seconds=90)
AI_STEP_SCHEDULE_TO_CLOSE = timedelta(minutes=10)
# The AI step heartbeats while the model thinks: a worker that dies mid-call is noticed in
# this long, not after the whole start-to-close timeout.
AI_STEP_HEARTBEAT = timedelta(seconds=10)
AI_STEP_HEARTBEAT_EVERY = timedelta(seconds=3)
AI_STEP_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
    maximum_attempts=5,
)

# The apply step writes the business row in one short transaction; idempotent, so retries
# are safe. Short, so a worker that died holding it is replaced quickly.
APPLY_STEP_TIMEOUT = timedelta(seconds=15)
APPLY_STEP_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
    maximum_attempts=10,
)
