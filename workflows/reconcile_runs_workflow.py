"""Reconcile the runs table with Temporal: one pass per scheduled start (every ~20 s, see
``services/reconcile.py``), so a run terminated or timed out outside Brain shows as such in
every read within a minute. Internal to Brain; it carries no Brain search attributes, so it
never shows among the process runs.

Each pass starts where the previous successful one ended (its result, which the schedule
hands to the next run), less an overlap for visibility's lag; the first looks back the
whole retention.
"""

from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.reconcile import ReconcileActivities
    from models.reconcile import ReconcilePass, ReconcileResult, ReconcileRuns

_PASS_TIMEOUT = timedelta(minutes=2)
# The next scheduled run retries soon anyway; a few quick attempts ride out a blip.
_PASS_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_attempts=3)


@workflow.defn
class ReconcileRunsWorkflow:
    @workflow.run
    async def run(self, req: ReconcileRuns) -> ReconcileResult:
        now = workflow.now()
        since = self._start_of_pass(req, now)
        report = await workflow.execute_activity_method(
            ReconcileActivities.reconcile_runs,
            ReconcilePass(since=since, limit=req.limit),
            start_to_close_timeout=_PASS_TIMEOUT,
            retry_policy=_PASS_RETRY,
        )
        return ReconcileResult(
            as_of=now,
            since=since,
            found=report.found,
            updated=report.updated,
            sample=report.sample,
        )

    @staticmethod
    def _start_of_pass(req: ReconcileRuns, now: datetime) -> datetime:
        previous = workflow.get_last_completion_result(ReconcileResult)
        if previous is None:
            return now - timedelta(seconds=req.first_pass_seconds)
        return previous.as_of - timedelta(seconds=req.overlap_seconds)
