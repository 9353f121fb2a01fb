"""The audit entry of an approval is the decision the workflow applied, always (issue 10):
under racing deciders, a decision whose workflow task fails and is discarded, and a reset
that decides again. The decision is written only by a step scheduled by the committed task
that took it, so a discarded task leaves nothing behind."""

import asyncio
import signal
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import EventType as HistoryEventType
from temporalio.api.enums.v1 import ResetReapplyExcludeType, ResetReapplyType
from temporalio.api.workflowservice.v1 import ResetWorkflowExecutionRequest
from temporalio.client import Client
from temporalio.worker import Worker

from activities.rules_model import RulesModel
from models.processes import Action, RunState
from models.workflow_io import ProcessResult
from processes.lead_scoring import DEFINITION as LEAD_SCORING
from processes.lead_scoring import LeadRow
from store.policies import PolicyStore
from temporal.door import derive_key
from temporal.sandbox import WORKFLOW_RUNNER
from tests.conftest import Database
from tests.hitl.faults import PLAN, FailDecisionTasks
from tests.support import SECRET, Brain, ScriptedModel, decide, parked
from workers.registry import WORKFLOWS, build_activities

ROOT = Path(__file__).resolve().parents[2]


@pytest_asyncio.fixture
async def flaky(client: Client, database: Database) -> AsyncIterator[Brain]:
    """A worker whose decision tasks fail as ``PLAN`` says."""
    policies = PolicyStore(database.sessions)
    model = ScriptedModel()
    task_queue = f"flaky-{uuid.uuid4().hex[:8]}"
    async with Worker(
        client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        activities=build_activities(
            database.sessions, policies, model, client=client, door_key=derive_key(SECRET)
        ),
        workflow_runner=WORKFLOW_RUNNER,
        interceptors=[FailDecisionTasks()],
    ):
        yield Brain(client, task_queue, database, policies, model)
    PLAN.failures_left = 0


async def test_a_decision_whose_task_is_discarded_is_audited_only_as_applied(
    flaky: Brain,
) -> None:
    """Alice's approval is taken in a workflow task that then fails: the server discards
    it, and meanwhile Bob rejects. Whichever decision the retried tasks settle on, the run
    applies it and the audit names it; the discarded one left no row (it had no step that
    could write one: the audit is written by activities the committed task scheduled)."""
    handle = await flaky.start()
    await parked(handle)
    PLAN.failures_left, PLAN.failed = 2, 0
    answers = await asyncio.gather(
        decide(handle, Action.APPROVE, by="alice"),
        decide(handle, Action.REJECT, by="bob"),
        return_exceptions=True,
    )
    assert PLAN.failed >= 1
    result = await handle.result()
    assert result.decision is not None
    applied = (result.decision.actor, result.decision.action.value)
    [audit] = await flaky.audit(handle.id)
    assert (audit.actor, audit.decision) == applied
    winners = [a for a in answers if not isinstance(a, BaseException)]
    assert [(w.actor, w.action.value) for w in winners] == [applied]  # type: ignore[union-attr]


async def test_a_reset_that_decides_again_replaces_the_audit_entry(brain: Brain) -> None:
    handle = await brain.start()
    await parked(handle)
    await decide(handle, Action.APPROVE, by="alice")
    assert (await handle.result()).state is RunState.COMPLETED
    [before] = await brain.audit(handle.id)
    assert before.actor == "alice"

    # Reset to the task that parked the run, dropping the decision: a person decides again.
    history = await handle.fetch_history()
    parked_at = next(
        e.marker_recorded_event_attributes.workflow_task_completed_event_id
        for e in history.events
        if e.event_type == HistoryEventType.EVENT_TYPE_MARKER_RECORDED
        and e.marker_recorded_event_attributes.marker_name == "core_local_activity"
    )
    reset = await brain.client.workflow_service.reset_workflow_execution(
        ResetWorkflowExecutionRequest(
            namespace=brain.client.namespace,
            workflow_execution=WorkflowExecution(workflow_id=handle.id),
            reason="test: decide again",
            workflow_task_finish_event_id=parked_at,
            request_id=str(uuid.uuid4()),
            reset_reapply_type=ResetReapplyType.RESET_REAPPLY_TYPE_NONE,
            reset_reapply_exclude_types=[
                ResetReapplyExcludeType.RESET_REAPPLY_EXCLUDE_TYPE_SIGNAL,
                ResetReapplyExcludeType.RESET_REAPPLY_EXCLUDE_TYPE_UPDATE,
            ],
        )
    )
    again = brain.client.get_workflow_handle(
        handle.id, run_id=reset.run_id, result_type=ProcessResult
    )
    await parked(again)
    await decide(again, Action.REJECT, by="bob")
    assert (await again.result()).state is RunState.REJECTED
    [after] = await brain.audit(handle.id)
    assert (after.actor, after.decision, after.run_id) == ("bob", "reject", reset.run_id)


async def test_a_worker_killed_inside_the_decision_task_audits_the_decision_once(
    client: Client, database: Database
) -> None:
    """A worker takes Ops's approval and is SIGKILLed before its workflow task completes.
    Nothing was recorded; the next worker replays the signal from history, decides again,
    and the run applies and audits that decision once."""
    task_queue = f"hang-{uuid.uuid4().hex[:8]}"
    address = client.service_client.config.target_host
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.hitl.hanging_worker", address, task_queue, database.url,
        cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    brain = Brain(client, task_queue, database, PolicyStore(database.sessions), ScriptedModel())
    try:
        assert proc.stdout is not None
        async with asyncio.timeout(60):
            while (line := await proc.stdout.readline()) != b"ready\n":
                assert line, "the worker exited before it was ready"
        handle = await brain.start(body=dict(LEAD_SCORING.examples["unsure"]))
        await parked(handle)
        await handle.signal("approve", {"by": "ops"})
        async with asyncio.timeout(30):
            while (line := await proc.stdout.readline()) != b"holding\n":
                assert line, "the worker exited before it took the decision"
        proc.send_signal(signal.SIGKILL)
        await proc.wait()
        assert await brain.audit(handle.id) == []
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()

    async with Worker(
        client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        activities=build_activities(database.sessions, brain.policies, RulesModel()),
        workflow_runner=WORKFLOW_RUNNER,
    ):
        result = await asyncio.wait_for(handle.result(), 60)
    assert result.state is RunState.COMPLETED and result.decision is not None
    [audit] = await brain.audit(handle.id)
    assert (audit.actor, audit.channel, audit.decision) == ("ops", "signal", "approve")
    assert len(await brain.rows(LeadRow, handle.id)) == 1
