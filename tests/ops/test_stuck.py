"""A run whose workflow task keeps failing stays Running; the server flags it
(TemporalReportedProblems) and ops lists it as stuck, then replays it once fixed.

Its own dev server: the flag needs a dynamic-config value the session server does not set
(`brain up` sets it, temporal/devserver.py)."""

import asyncio
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest_asyncio
from temporalio import workflow
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from hitl.gate import GatedWorkflow
from models.hitl import PolicyFields
from models.processes import Process, RunState
from models.workflow_io import ProcessResult, ProcessStart
from services import ops, replay
from services.starting import start_process
from store.db import make_engine, make_sessionmaker, migrate
from store.policies import PolicyStore
from temporal.devserver import REPORTED_PROBLEMS_SETTING
from temporal.search_attributes import ALL
from tests.support import LEAD, ScriptedModel
from workers.registry import build_activities
from workflows.process_workflow import LeadScoringWorkflow

BUG = {"on": True}


@workflow.defn(name="LeadScoringWorkflow", sandboxed=False)
class _BuggyLeadScoring(GatedWorkflow):
    """A deploy with a bug after the AI step: the workflow task fails on every attempt.
    (Lead scoring's class as workflows/process_workflow.py makes it, but for the bug: a type
    checker cannot subclass a class made at run time.)"""

    definition = LeadScoringWorkflow.definition

    @workflow.run
    async def run(self, start: ProcessStart) -> ProcessResult:
        return await self.run_process(start)

    async def _pass_gate(self, index: int) -> None:
        if BUG["on"]:
            raise RuntimeError("bug: the gate cannot read its policy")
        await super()._pass_gate(index)


@pytest_asyncio.fixture(scope="module")
async def flagging_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(Path(sys.executable).parent / "temporal"),
        data_converter=pydantic_data_converter,
        search_attributes=ALL,
        dev_server_log_level="error",
        dev_server_extra_args=["--dynamic-config-value", f"{REPORTED_PROBLEMS_SETTING}=1"],
    )
    try:
        yield env
    finally:
        await env.shutdown()


async def test_a_stuck_run_is_listed_and_replayed(
    flagging_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    client = flagging_env.client
    url = f"sqlite+aiosqlite:///{tmp_path / 'brain.db'}"
    await migrate(url)
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    model, tenant, queue = ScriptedModel(), "t-stuck", f"stuck-{uuid.uuid4().hex[:8]}"
    policies = PolicyStore(sessions)
    # Autonomous, so the replayed run completes on its own.
    await policies.set(
        Process("lead_scoring"),
        tenant,
        PolicyFields(hitl_enabled=False, confidence_threshold=0.5),
        changed_by="t",
    )
    activities: list[Any] = build_activities(sessions, policies, model)
    BUG["on"] = True
    try:
        async with Worker(
            client,
            task_queue=queue,
            workflows=[_BuggyLeadScoring],
            activities=activities,
            workflow_runner=UnsandboxedWorkflowRunner(),
        ):
            started = await start_process(
                client,
                sessions,
                process=Process("lead_scoring"),
                tenant=tenant,
                requested_by="t",
                body=LEAD,
                task_queue=queue,
            )
            wid = started.workflow_id
            stuck: list[ops.FailedRun] = []
            async with asyncio.timeout(30):
                while not stuck:
                    await asyncio.sleep(0.5)
                    stuck = await ops.list_failed(client, tenant=tenant, sessions=sessions)
            [run] = stuck
            assert (run.workflow_id, run.status, run.step) == (wid, ops.STUCK, "workflow_task")
            assert run.failure is not None and "cannot read its policy" in run.failure

            BUG["on"] = False
            [item] = await replay.replay(client, tenant=tenant, workflow_id=wid, sessions=sessions)
            assert item.outcome == "replayed", item
            handle = client.get_workflow_handle(
                wid, run_id=item.new_run_id, result_type=ProcessResult
            )
            async with asyncio.timeout(30):
                assert (await handle.result()).state is RunState.COMPLETED
    finally:
        await engine.dispose()
