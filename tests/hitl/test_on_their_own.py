"""A run whose gates all pass on their own takes two workflow tasks: the AI step returns its
proposal with the gates' verdicts, and the task that reads them applies the result as a
local step. That write outlives a task that is then discarded, so it must stay true: the
retried task takes the same decisions from the same history and writes nothing twice.
Proven here by failing that task once, right after the apply step wrote; and the same for
the local step that records a run as parked."""

import asyncio
from typing import Any

from temporalio import workflow
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.worker import (
    Interceptor,
    StartLocalActivityInput,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
    WorkflowOutboundInterceptor,
)

from models.processes import Channel, Process, RunState
from processes import registry
from tests.conftest import Database
from tests.support import parked, running_brain

LEAD = Process("lead_scoring")
FAILURES = {"left": 0, "done": 0}
# The local step after which the task fails (FAILURES["left"] times).
FAIL_AFTER = {"step": ""}


class _FailAfterApply(WorkflowOutboundInterceptor):
    def start_local_activity(self, input: StartLocalActivityInput) -> Any:
        handle = super().start_local_activity(input)
        if input.activity != (FAIL_AFTER["step"] or registry.definition(LEAD).apply_activity):
            return handle

        async def then_fail() -> Any:
            result = await handle
            if FAILURES["left"] > 0 and not workflow.unsafe.is_replaying():
                FAILURES["left"] -= 1
                FAILURES["done"] += 1
                # Not an ApplicationError: the whole task fails and is discarded, the local
                # step's marker with it, after its transaction committed.
                raise RuntimeError(f"injected: the task that ran {input.activity} fails")
            return result

        return asyncio.ensure_future(then_fail())


class _Inbound(WorkflowInboundInterceptor):
    def init(self, outbound: WorkflowOutboundInterceptor) -> None:
        super().init(_FailAfterApply(outbound))


class FailAfterApply(Interceptor):
    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[WorkflowInboundInterceptor]:
        return _Inbound


async def test_a_run_on_its_own_is_two_tasks_and_its_apply_survives_a_discarded_task(
    client: Client, database: Database
) -> None:
    async with running_brain(client, database, interceptors=[FailAfterApply()]) as brain:
        await brain.set_policy(hitl_enabled=False, confidence_threshold=0.5)
        FAILURES["left"], FAILURES["done"] = 1, 0
        handle = await brain.start()
        result = await handle.result()
        assert FAILURES["done"] == 1
        assert result.state is RunState.COMPLETED
        assert result.decision is not None and result.decision.channel is Channel.AUTO
        [row] = await brain.rows(registry.definition(LEAD).table, handle.id)
        assert result.result is not None and result.result["id"] == row.id
        [audit] = await brain.audit(handle.id)
        assert (audit.channel, audit.decision, audit.actor) == ("auto", "approve", "brain")
        run = await brain.run_row(handle.id)
        assert run is not None and run.state == "completed"
        assert run.confidence == result.decision.confidence and run.proposal is not None
        # The shape of the path: the AI step (with the verdicts), then one task that
        # applied locally (the discarded attempt is a failed task, then it is retried).
        history = await handle.fetch_history()
        kinds = [e.event_type for e in history.events]
        assert kinds.count(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) == 1
        assert kinds.count(EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED) == 1
        assert kinds.count(EventType.EVENT_TYPE_MARKER_RECORDED) == 1


async def test_a_decision_by_signal_is_applied_in_its_task_and_survives_it_being_discarded(
    client: Client, database: Database
) -> None:
    """A signal is in history before the task that takes it: a retry of that task takes the
    same decision, so the apply step runs within it. An Update is not (one accepted in a
    discarded task is gone): tests/hitl/test_audit_truth.py keeps that path."""
    async with running_brain(client, database, interceptors=[FailAfterApply()]) as brain:
        FAILURES["left"], FAILURES["done"] = 1, 0
        handle = await brain.start()
        await parked(handle)
        await handle.signal("approve", {"by": "ops", "comment": "fine"})
        result = await handle.result()
        assert FAILURES["done"] == 1 and result.state is RunState.COMPLETED
        assert result.decision is not None and result.decision.channel is Channel.SIGNAL
        [row] = await brain.rows(registry.definition(LEAD).table, handle.id)
        assert result.result is not None and result.result["id"] == row.id
        [audit] = await brain.audit(handle.id)
        assert (audit.actor, audit.channel, audit.comment) == ("ops", "signal", "fine")
        history = await handle.fetch_history()
        kinds = [e.event_type for e in history.events]
        # The AI step only; the apply step was local (its marker), after one failed task.
        assert kinds.count(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) == 1
        assert kinds.count(EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED) == 1


async def test_a_run_parks_once_when_the_task_that_parked_it_is_discarded(
    client: Client, database: Database
) -> None:
    """The park step's write (the run's row, the approval it waits on) outlives the task
    that ran it; the retried task parks at the same gate from the same AI verdicts, so the
    row stays true and the run is decided once."""
    async with running_brain(client, database, interceptors=[FailAfterApply()]) as brain:
        FAILURES["left"], FAILURES["done"], FAIL_AFTER["step"] = 1, 0, "park"
        try:
            handle = await brain.start()
            status = await parked(handle)
        finally:
            FAIL_AFTER["step"] = ""
        assert FAILURES["done"] == 1
        run = await brain.run_row(handle.id)
        assert run is not None and run.state == RunState.AWAITING_APPROVAL.value
        assert status.approval is not None and run.approval_id == status.approval.approval_id
        await handle.signal("approve", {"by": "ops"})
        result = await handle.result()
        assert result.state is RunState.COMPLETED
        [audit] = await brain.audit(handle.id)
        assert (audit.actor, audit.channel, audit.approval_id) == ("ops", "signal", run.approval_id)
        kinds = [e.event_type for e in (await handle.fetch_history()).events]
        assert kinds.count(EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED) == 1
