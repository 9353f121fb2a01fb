"""The broadcast's pass against real runs and a real database: each stale run is told once,
with its own tenant's effective policy, and its row records that it was told."""

import uuid
from collections.abc import AsyncIterator

import pytest_asyncio
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import ActivityEnvironment

from activities.broadcast import BroadcastActivities
from models.activity_io import RunRef
from models.broadcast import SignalStaleRuns
from models.hitl import GLOBAL_TENANT, PolicyChange, PolicyFields
from models.processes import Process
from models.workflow_io import ProcessStart
from store import runs
from store.tenancy import NO_TENANT, tenant_scope
from tests.support import LEAD, Brain, run_of
from workflows.process_workflow import LeadScoringWorkflow


@pytest_asyncio.fixture
async def waiting(brain: Brain) -> AsyncIterator[list[tuple[WorkflowHandle, str]]]:
    """Two runs, in two tenants, whose rows say parked on version 0. Their task queue has no
    worker, so nothing but this test's passes touches their rows or reads their signals."""
    nobody = f"nobody-{uuid.uuid4().hex[:8]}"
    made = []
    for tenant in (brain.tenant, f"{brain.tenant}-b"):
        wid = f"lead_scoring:{tenant}:{uuid.uuid4().hex[:8]}"
        handle = await brain.client.start_workflow(
            run_of(LeadScoringWorkflow),
            ProcessStart(tenant=tenant, requested_by="tester", input=LEAD),
            id=wid,
            task_queue=nobody,
        )
        run = RunRef(workflow_id=wid, run_id="r", tenant=tenant, process=Process("lead_scoring"))
        async with brain.db.sessions.begin() as session:
            await runs.upsert(session, run, state="awaiting_approval", policy_version=0)
        made.append((handle, tenant))
    yield made
    for handle, _ in made:
        await handle.terminate()


async def _told(handle: WorkflowHandle) -> list[PolicyChange]:
    history = await handle.fetch_history()
    return [
        pydantic_data_converter.payload_converter.from_payload(
            e.workflow_execution_signaled_event_attributes.input.payloads[0], PolicyChange
        )
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
    ]


async def test_each_stale_run_is_told_once_with_its_tenants_policy(
    brain: Brain, waiting: list[tuple[WorkflowHandle, str]]
) -> None:
    _, (_, tenant_b) = waiting
    # Tenant b overrides the threshold; the global change below is to the timeout.
    await brain.policies.set(
        Process("lead_scoring"),
        tenant_b,
        PolicyFields(confidence_threshold=0.5),
        changed_by="admin",
    )
    # A global change reaches both tenants, each with its own effective policy. The global
    # row is shared by the session's tests: put it back afterwards.
    before = await brain.policies.effective(Process("lead_scoring"), GLOBAL_TENANT)
    glob = await brain.policies.set(
        Process("lead_scoring"),
        GLOBAL_TENANT,
        PolicyFields(approval_timeout_seconds=90000),
        changed_by="root",
    )
    try:
        await _one_pass_tells_each_once(brain, waiting, glob.version)
    finally:
        await brain.policies.set(
            Process("lead_scoring"),
            GLOBAL_TENANT,
            PolicyFields(approval_timeout_seconds=before.approval_timeout_seconds),
            changed_by="root",
        )


async def _one_pass_tells_each_once(
    brain: Brain, waiting: list[tuple[WorkflowHandle, str]], version: int
) -> None:
    _, (handle_b, _) = waiting
    change = PolicyChange(process=Process("lead_scoring"), version=version, changed_by="root")
    acts = BroadcastActivities(brain.client, brain.db.sessions, brain.policies)
    env = ActivityEnvironment()
    # As on a worker: no tenant scope but the one the activity opens itself (on PostgreSQL,
    # row-level security then shows it every tenant's parked runs, and only for this pass).
    with tenant_scope(NO_TENANT):
        first = await env.run(acts.signal_stale_runs, SignalStaleRuns(change=change))
    # Other tests' parked runs may be stale too; ours must be among them, told once.
    assert first.stale >= 2
    for handle, tenant in waiting:
        row = await brain.run_row(handle.id)
        assert row is not None and row.policy_version == version
        [told] = await _told(handle)
        assert told.policy is not None and told.policy.tenant == tenant
        assert told.policy.version >= version
        assert told.policy.approval_timeout_seconds == 90000
    [told_b] = await _told(handle_b)
    assert told_b.policy is not None and told_b.policy.confidence_threshold == 0.5
    with tenant_scope(NO_TENANT):
        second = await env.run(acts.signal_stale_runs, SignalStaleRuns(change=change))
    assert second.stale == 0
    for handle, _ in waiting:
        assert len(await _told(handle)) == 1
