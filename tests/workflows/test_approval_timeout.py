"""Approval timeouts measured in days, on the time-skipping test server."""

import uuid
from collections.abc import AsyncIterator
from datetime import datetime

import pytest
import pytest_asyncio
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from models.processes import Channel, Process, RunState
from models.workflow_io import ProcessResult
from processes import registry
from processes.lead_scoring import LeadRow
from store.policies import PolicyStore
from temporal.sandbox import WORKFLOW_RUNNER
from tests.conftest import Database
from tests.support import LEAD, Brain, ScriptedModel
from workers.registry import WORKFLOWS, build_activities


@pytest_asyncio.fixture
async def slow_brain(skipping_env: WorkflowEnvironment, database: Database) -> AsyncIterator[Brain]:
    policies = PolicyStore(database.sessions)
    model = ScriptedModel()
    task_queue = f"brain-timeout-{uuid.uuid4().hex[:8]}"
    async with Worker(
        skipping_env.client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        activities=build_activities(database.sessions, policies, model),
        workflow_runner=WORKFLOW_RUNNER,
    ):
        yield Brain(skipping_env.client, task_queue, database, policies, model)


async def _start(brain: Brain) -> ProcessResult:
    handle = await brain.client.start_workflow(
        registry.definition(Process("lead_scoring")).workflow_type,
        {"tenant": brain.tenant, "requested_by": "tester", "input": LEAD},
        id=f"lead_scoring:{brain.tenant}:{uuid.uuid4().hex}",
        task_queue=brain.task_queue,
        result_type=ProcessResult,
    )
    result: ProcessResult = await handle.result()
    return result


@pytest.mark.parametrize(
    ("on_timeout", "state"), [("reject", "rejected"), ("approve", "completed")]
)
async def test_no_decision_within_days_applies_the_policy_outcome(
    slow_brain: Brain, on_timeout: str, state: str
) -> None:
    three_days = 3 * 86400
    await slow_brain.set_policy(approval_timeout_seconds=three_days, on_timeout=on_timeout)
    result = await _start(slow_brain)  # HITL on: parks, then the clock skips three days
    assert result.state is RunState(state)
    assert result.decision is not None
    assert (result.decision.actor, result.decision.channel) == ("timeout", Channel.TIMEOUT)
    waited = result.decision.decided_at - (await _requested_at(slow_brain, result.workflow_id))
    assert waited.total_seconds() == pytest.approx(three_days, abs=5)
    [audit] = await slow_brain.audit(result.workflow_id)
    assert (audit.actor, audit.channel, audit.decision) == ("timeout", "timeout", on_timeout)
    leads = await slow_brain.rows(LeadRow, result.workflow_id)
    assert len(leads) == (1 if on_timeout == "approve" else 0)


async def _requested_at(brain: Brain, workflow_id: str) -> datetime:
    row = await brain.run_row(workflow_id)
    assert row is not None and row.requested_at is not None
    requested = row.requested_at
    return requested if requested.tzinfo else requested.replace(tzinfo=__import__("datetime").UTC)
