"""Runs closed outside Brain reach the runs table: terminated with Temporal's own CLI, timed
out, replayed; through the reconciliation pass, its schedule, and a read of one run."""

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowHandle,
)
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.testing import ActivityEnvironment

from activities.reconcile import ReconcileActivities
from core.settings import Settings
from models.processes import Process, RunState
from models.reconcile import PassReport, ReconcilePass, ReconcileRuns
from models.tables import RunRow
from models.workflow_io import ProcessStart
from processes import registry
from services import closed_runs, replay
from services.reconcile import ensure_reconciler, reconciler_id
from store import runs
from temporal.search_attributes import BRAIN_PROCESS, BRAIN_STATE, BRAIN_TENANT
from tests.api.conftest import close_api, open_api
from tests.api.support import Api
from tests.cli.conftest import TEMPORAL, clean_env, run_cmd
from tests.ops.conftest import Guard
from tests.support import LEAD, Brain, ai_result, eventually, parked


@pytest.fixture
def guard() -> Guard:
    return Guard(broken=False)  # these runs apply normally


async def terminate_with_cli(client: Client, workflow_id: str, tmp: Path) -> None:
    """As an operator would, from Temporal's CLI: Brain is not told."""
    address = client.service_client.config.target_host
    done = await run_cmd(
        TEMPORAL,
        *("workflow", "terminate", "--address", address, "--workflow-id", workflow_id),
        *("--reason", "stopped by an operator"),
        env=clean_env(),
        cwd=tmp,
    )
    assert done.code == 0, done


async def park(brain: Brain) -> WorkflowHandle:
    brain.model.default = ai_result(confidence=0.5)
    handle = await brain.start()
    await parked(handle)
    return handle


async def reconcile_pass(brain: Brain, workflow_id: str) -> RunRow:
    """Run passes as the workflow does until the row says how the run closed (visibility
    lists a close a moment after it happened)."""
    activities = ReconcileActivities(brain.client, brain.db.sessions)
    since = datetime.now(UTC) - timedelta(hours=1)

    async def once() -> RunRow | None:
        await ActivityEnvironment().run(activities.reconcile_runs, ReconcilePass(since=since))
        row = await brain.run_row(workflow_id)
        return row if row is not None and not RunState(row.state).is_open else None

    row: RunRow = await eventually(once, within=20)
    return row


async def inbox(api: Api) -> list[str]:
    r = await api.http.get("/approvals", headers=api.auth("viewer"))
    assert r.status_code == 200, r.text
    return [item["workflow_id"] for item in r.json()["items"]]


async def test_a_run_terminated_from_the_cli_reaches_its_row_and_leaves_the_inbox(
    brain: Brain, api: Api, tmp_path: Path
) -> None:
    handle = await park(brain)
    assert handle.id in await inbox(api)
    await terminate_with_cli(brain.client, handle.id, tmp_path)
    row = await brain.run_row(handle.id)
    assert row is not None and row.state == RunState.AWAITING_APPROVAL.value  # not told

    row = await reconcile_pass(brain, handle.id)
    assert row.state == RunState.TERMINATED.value
    assert row.error and "terminated outside Brain" in row.error
    assert handle.id not in await inbox(api)
    listed = await api.http.get("/workflows", headers=api.auth("viewer"))
    [item] = [i for i in listed.json()["items"] if i["workflow_id"] == handle.id]
    assert item["state"] == RunState.TERMINATED.value
    # A second pass finds it again and writes nothing: the row is no longer open.
    again = await ActivityEnvironment().run(
        ReconcileActivities(brain.client, brain.db.sessions).reconcile_runs,
        ReconcilePass(since=datetime.now(UTC) - timedelta(hours=1)),
    )
    assert handle.id not in again.sample and again.found >= 1
    after = await brain.run_row(handle.id)
    assert after is not None and after.updated_at == row.updated_at


async def test_reads_answer_from_the_runs_table_without_asking_temporal(
    brain: Brain, settings: Settings
) -> None:
    """A read is the run's row (kept true by the run's steps and the reconciler's passes):
    with Temporal unreachable it answers as quickly, and the same."""
    api = await open_api(brain, settings)
    try:
        api.script("lead_scoring", confidence=0.5)
        wid = (await api.parked())["workflow_id"]
    finally:
        await close_api(api)
    dead = await Client.connect("127.0.0.1:1", lazy=True)
    blind = await open_api(brain, settings, client=dead)
    try:
        started = datetime.now(UTC)
        run = await blind.get(wid)
        assert run["state"] == RunState.AWAITING_APPROVAL.value and run["approval"] is not None
        assert wid in await inbox(blind)
        assert datetime.now(UTC) - started < timedelta(seconds=2)
    finally:
        await close_api(blind)


async def test_a_run_whose_execution_timeout_passes_shows_timed_out(brain: Brain) -> None:
    brain.model.default = ai_result(confidence=0.5)
    wid = f"lead_scoring:{brain.tenant}:{uuid.uuid4().hex}"
    # Started as an outside client could: with an execution timeout Brain never sets.
    handle = await brain.client.start_workflow(
        registry.definition(Process("lead_scoring")).workflow_type,
        ProcessStart(tenant=brain.tenant, requested_by="tester", input=LEAD),
        id=wid,
        task_queue=brain.task_queue,
        execution_timeout=timedelta(seconds=3),
        search_attributes=TypedSearchAttributes(
            [
                SearchAttributePair(BRAIN_PROCESS, Process("lead_scoring").value),
                SearchAttributePair(BRAIN_TENANT, brain.tenant),
                SearchAttributePair(BRAIN_STATE, RunState.RUNNING.value),
            ]
        ),
    )
    async with brain.db.sessions.begin() as session:
        await runs.create(
            session,
            workflow_id=wid,
            run_id=handle.result_run_id or "",
            tenant=brain.tenant,
            process=Process("lead_scoring").value,
            state=RunState.RUNNING.value,
            requested_by="tester",
        )
    await parked(handle)

    async def timed_out() -> bool:
        return (await handle.describe()).status is WorkflowExecutionStatus.TIMED_OUT

    await eventually(timed_out, within=15)
    row = await reconcile_pass(brain, wid)
    assert row.state == RunState.TIMED_OUT.value


async def test_a_replayed_run_is_not_overwritten_by_its_old_execution(
    brain: Brain, tmp_path: Path
) -> None:
    handle = await park(brain)
    old = await brain.run_row(handle.id)
    assert old is not None and old.run_id
    await terminate_with_cli(brain.client, handle.id, tmp_path)
    [item] = await replay.replay(
        brain.client, tenant=brain.tenant, workflow_id=handle.id, sessions=brain.db.sessions
    )
    assert item.outcome == "replayed" and item.new_run_id
    await parked(brain.client.get_workflow_handle(handle.id))

    # The old execution is listed as terminated, but the row names the new one.
    activities = ReconcileActivities(brain.client, brain.db.sessions)

    async def listed() -> PassReport | None:
        report = await ActivityEnvironment().run(
            activities.reconcile_runs,
            ReconcilePass(since=datetime.now(UTC) - timedelta(hours=1)),
        )
        found, _ = await closed_runs.closed_since(
            brain.client, datetime.now(UTC) - timedelta(hours=1), 50_000
        )
        return report if any(c.run_id == old.run_id for c in found) else None

    report = await eventually(listed, within=20)
    assert handle.id not in report.sample
    row = await brain.run_row(handle.id)
    assert row is not None
    assert (row.run_id, row.state) == (item.new_run_id, RunState.AWAITING_APPROVAL.value)
    await brain.client.get_workflow_handle(handle.id).terminate("test over")


async def test_the_reconciler_runs_once_per_queue_and_keeps_reconciling(
    brain: Brain, tmp_path: Path
) -> None:
    handle = await park(brain)
    await terminate_with_cli(brain.client, handle.id, tmp_path)
    # Short passes, and a continue-as-new after two of them, to see the loop carry on.
    job = ReconcileRuns(first_pass_seconds=3600, every_seconds=0.5, passes_per_run=2)
    wid = await ensure_reconciler(brain.client, brain.task_queue, job)
    assert wid == reconciler_id(brain.task_queue) == f"brain-reconcile-runs:{brain.task_queue}"
    reconciler = brain.client.get_workflow_handle(wid)
    try:
        first = (await reconciler.describe()).run_id
        # Idempotent: a second worker finds it running and joins it.
        assert await ensure_reconciler(brain.client, brain.task_queue, job) == wid
        assert (await reconciler.describe()).run_id == first
        assert "Internal to Brain" in (await (await reconciler.describe()).static_summary() or "")

        async def terminated() -> bool:
            row = await brain.run_row(handle.id)
            return row is not None and row.state == RunState.TERMINATED.value

        await eventually(terminated, within=30)

        async def continued() -> bool:
            return (await reconciler.describe()).run_id != first

        await eventually(continued, within=30)
        # A later run starts where the last pass left off, not a full lookback again.
        history = await reconciler.fetch_history()
        started = history.events[0].workflow_execution_started_event_attributes
        assert started.continued_execution_run_id
    finally:
        await reconciler.terminate("test over")
