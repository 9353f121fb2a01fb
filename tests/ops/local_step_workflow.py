"""Test-only workflow: a regular step, then a local-activity step that fails while
``BROKEN`` is set. It shows the last good point of a step that leaves only a marker."""

from datetime import timedelta

from temporalio import activity, workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

BROKEN = {"local": True}
CALLS = {"fetch": 0, "record": 0}


@activity.defn
async def fetch() -> str:
    CALLS["fetch"] += 1
    return "fetched"


@activity.defn
async def record(value: str) -> str:
    CALLS["record"] += 1
    if BROKEN["local"]:
        raise ApplicationError("the database is read-only", non_retryable=True)
    return f"recorded {value}"


@workflow.defn(sandboxed=False)
class LocalStepWorkflow:
    @workflow.run
    async def run(self) -> str:
        value = await workflow.execute_activity(fetch, start_to_close_timeout=timedelta(seconds=10))
        return await workflow.execute_local_activity(
            record,
            value,
            start_to_close_timeout=timedelta(seconds=10),
            retry_policy=RetryPolicy(maximum_attempts=1),
        )
