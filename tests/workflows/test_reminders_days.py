"""Reminders and escalation over days (SPEC §6), on the time-skipping test server: a run
parked with reminders every day and an escalation after two reminds on day 1 and day 2,
escalates once on day 2, and times out on day 3 with no reminder after its decision."""

import uuid

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from models.events import Event, EventType
from models.processes import Process, RunState
from models.workflow_io import ProcessResult
from processes import registry
from store.policies import PolicyStore
from temporal.sandbox import WORKFLOW_RUNNER
from tests.conftest import Database
from tests.support import LEAD, Brain, ScriptedModel
from workers.registry import WORKFLOWS, build_activities

DAY = 86400


class Recorded:
    """Where the run's events go: kept in order (delivery is tested in tests/webhooks)."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    async def write(self, session: AsyncSession, *events: Event) -> int:
        self.events.extend(events)
        return len(events)


async def test_daily_reminders_one_escalation_then_the_timeout(
    skipping_env: WorkflowEnvironment, database: Database
) -> None:
    policies, sink = PolicyStore(database.sessions), Recorded()
    brain = Brain(skipping_env.client, f"days-{uuid.uuid4().hex[:8]}", database, policies,
                  ScriptedModel())  # fmt: skip
    await brain.set_policy(
        approval_timeout_seconds=3 * DAY, remind_every_seconds=DAY, escalate_after_seconds=2 * DAY
    )
    async with Worker(
        skipping_env.client,
        task_queue=brain.task_queue,
        workflows=WORKFLOWS,
        activities=build_activities(database.sessions, policies, brain.model, events=sink),
        workflow_runner=WORKFLOW_RUNNER,
    ):
        handle = await skipping_env.client.start_workflow(
            registry.definition(Process("lead_scoring")).workflow_type,
            {"tenant": brain.tenant, "requested_by": "tester", "input": LEAD},
            id=f"lead_scoring:{brain.tenant}:{uuid.uuid4().hex}",
            task_queue=brain.task_queue,
            result_type=ProcessResult,
        )
        result = await handle.result()  # the clock skips three days
    assert result.state is RunState.REJECTED and result.decision is not None
    approval_id = f"{handle.id}:1"
    waiting = [e.id for e in sink.events if e.type is not EventType.APPROVAL_DECIDED]
    assert waiting[:-1] == [
        f"{approval_id}:approval.requested",
        f"{approval_id}:approval.reminder:1",
        f"{approval_id}:approval.escalated",
        f"{approval_id}:approval.reminder:2",
    ]
    assert sink.events[-1].type is EventType.RUN_COMPLETED
