"""Reconcile the runs table with Temporal, for ever: a pass every ~20 s, so a run terminated
or timed out outside Brain shows as such in every read within a minute. Internal to Brain;
it carries no Brain search attributes, so it never shows among the process runs.

One long-lived run per task queue (``services/reconcile.py`` starts it from every worker,
idempotently), continuing as new every few hundred passes to keep its history short: a
handful of entries a day in the Web UI's list, where a Schedule would add one per pass.
Each pass starts where the previous successful one ended, less an overlap for visibility's
lag; the first looks back the whole retention. A failed pass is logged and retried at the
next: the loop never ends on its own.
"""

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.reconcile import ReconcileActivities
    from models.reconcile import ReconcilePass, ReconcileRuns

_PASS_TIMEOUT = timedelta(minutes=2)
# The next pass comes soon anyway; a few quick attempts ride out a blip.
_PASS_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_attempts=3)


@workflow.defn
class ReconcileRunsWorkflow:
    def __init__(self) -> None:
        self._passes = 0
        self._updated = 0

    @workflow.run
    async def run(self, req: ReconcileRuns) -> None:
        since = req.since or workflow.now() - timedelta(seconds=req.first_pass_seconds)
        for _ in range(req.passes_per_run):
            started = workflow.now()
            try:
                report = await workflow.execute_activity_method(
                    ReconcileActivities.reconcile_runs,
                    ReconcilePass(since=since, limit=req.limit),
                    start_to_close_timeout=_PASS_TIMEOUT,
                    retry_policy=_PASS_RETRY,
                )
            except ActivityError as err:
                workflow.logger.warning(
                    "reconcile pass failed; next in %ss: %s", req.every_seconds, err.cause or err
                )
            else:
                self._passes += 1
                self._updated += report.updated
                since = started - timedelta(seconds=req.overlap_seconds)
            await workflow.sleep(timedelta(seconds=req.every_seconds))
        workflow.continue_as_new(req.model_copy(update={"since": since}))

    @workflow.query(description="Passes done by this run and rows they set.")
    def progress(self) -> dict[str, int]:
        return {"passes": self._passes, "updated": self._updated}
