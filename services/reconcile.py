"""The reconciler: one long-lived ``ReconcileRunsWorkflow`` per task queue, so a run closed
outside Brain reaches the runs table within a minute without anyone polling runs one by one.

Every worker ensures it at start, idempotently: the first starts it, the others find it
running (its id is fixed per task queue, and a start that finds it running joins it). One
per task queue, because each deployment's workers reconcile their own database. If it is
terminated (by an operator, say), the next worker to start brings it back.
"""

import logging
from datetime import timedelta

from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.service import RPCError

from models.reconcile import ReconcileRuns
from workflows.reconcile_runs_workflow import ReconcileRunsWorkflow

log = logging.getLogger(__name__)

RECONCILER_PREFIX = "brain-reconcile-runs"
INTERNAL_NOTE = (
    "Internal to Brain: records runs terminated, timed out, failed or canceled outside "
    "Brain in its runs table. Nothing to do here."
)
_RPC_TIMEOUT = timedelta(seconds=10)


def reconciler_id(task_queue: str) -> str:
    return f"{RECONCILER_PREFIX}:{task_queue}"


async def ensure_reconciler(
    client: Client, task_queue: str, job: ReconcileRuns | None = None
) -> str | None:
    """Start the reconciler unless it runs; return its workflow id. Never raises: a worker
    without it still runs every process (reads then lag until it runs), so a failure is
    logged instead."""
    wid = reconciler_id(task_queue)
    try:
        await client.start_workflow(
            ReconcileRunsWorkflow.run,
            job or ReconcileRuns(),
            id=wid,
            task_queue=task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
            static_summary="Internal to Brain: reconcile the runs table (no action needed)",
            static_details=INTERNAL_NOTE,
            memo={"brain": "internal"},
            rpc_timeout=_RPC_TIMEOUT,
        )
    except RPCError as err:
        log.warning(
            "could not start the reconciler %s (%s): runs closed outside Brain reach the runs "
            "table only when read one by one until it runs",
            wid,
            err.message,
        )
        return None
    return wid
