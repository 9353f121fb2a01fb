"""The reconciliation schedule: ``ReconcileRunsWorkflow`` every ~20 s, so a run closed outside
Brain reaches the runs table within a minute without anyone polling runs one by one.

Every worker ensures it at start, idempotently: the first creates it, the others find it
(and correct it if the task queue or interval changed; a pause by an operator is kept).
One schedule per task queue, because each deployment's workers reconcile their own
database. It is internal: a clear id, a note and a summary say so in the Web UI.
"""

import logging
from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleState,
    ScheduleUpdate,
    ScheduleUpdateInput,
)
from temporalio.service import RPCError

from models.reconcile import ReconcileRuns
from workflows.reconcile_runs_workflow import ReconcileRunsWorkflow

log = logging.getLogger(__name__)

SCHEDULE_PREFIX = "brain-reconcile-runs"
EVERY = timedelta(seconds=20)
INTERNAL_NOTE = (
    "Internal to Brain: records runs terminated, timed out, failed or canceled outside "
    "Brain in its runs table. Nothing to do here."
)
_RPC_TIMEOUT = timedelta(seconds=10)
# A pass that cannot start within this long (no worker) is skipped, not piled up.
_CATCHUP = timedelta(minutes=1)
_PASS_RUN_TIMEOUT = timedelta(minutes=10)


def schedule_id(task_queue: str) -> str:
    return f"{SCHEDULE_PREFIX}:{task_queue}"


def _schedule(task_queue: str, every: timedelta, job: ReconcileRuns) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(
            ReconcileRunsWorkflow.run,
            job,
            id=schedule_id(task_queue),
            task_queue=task_queue,
            # A pass never waits for long; one stuck on a missing worker gives way.
            execution_timeout=_PASS_RUN_TIMEOUT,
            static_summary="Internal to Brain: reconcile the runs table (no action needed)",
            static_details=INTERNAL_NOTE,
            memo={"brain": "internal"},
        ),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=every)]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=_CATCHUP),
        state=ScheduleState(note=INTERNAL_NOTE),
    )


async def ensure_schedule(
    client: Client,
    task_queue: str,
    every: timedelta = EVERY,
    job: ReconcileRuns | None = None,
) -> str | None:
    """Create the schedule, or bring an existing one in line; return its id. Never raises:
    a worker without it still runs every process (reads then lag until the schedule
    exists), so a failure is logged instead."""
    sid = schedule_id(task_queue)
    wanted = _schedule(task_queue, every, job or ReconcileRuns())
    try:
        try:
            await client.create_schedule(
                sid, wanted, memo={"brain": "internal"}, rpc_timeout=_RPC_TIMEOUT
            )
            log.info("created schedule %s (every %s)", sid, every)
            return sid
        except ScheduleAlreadyRunningError:
            pass

        def align(current: ScheduleUpdateInput) -> ScheduleUpdate | None:
            schedule = current.description.schedule
            if _same(schedule, wanted):
                return None
            wanted.state = schedule.state  # keep an operator's pause
            return ScheduleUpdate(schedule=wanted)

        await client.get_schedule_handle(sid).update(align, rpc_timeout=_RPC_TIMEOUT)
    except RPCError as err:
        log.warning(
            "could not ensure schedule %s (%s): runs closed outside Brain reach the runs "
            "table only when read one by one until it exists",
            sid,
            err.message,
        )
        return None
    return sid


def _same(current: Schedule, wanted: Schedule) -> bool:
    have, want = current.action, wanted.action
    if not isinstance(have, ScheduleActionStartWorkflow):
        return False
    assert isinstance(want, ScheduleActionStartWorkflow)
    every = [i.every for i in current.spec.intervals]
    return (
        have.workflow == want.workflow
        and have.task_queue == want.task_queue
        and every == [i.every for i in wanted.spec.intervals]
        and current.policy.overlap == wanted.policy.overlap
    )
