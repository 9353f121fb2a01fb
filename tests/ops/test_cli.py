"""``brain ops failed|replay`` and ``brain replay-check`` in a subprocess, as on call runs them."""

import json
import uuid
from pathlib import Path

from sqlalchemy import select
from sqlmodel import col
from temporalio.client import WorkflowFailureError
from temporalio.worker import Worker

from activities.rules_model import RulesModel
from models.hitl import PolicyFields
from models.processes import Action, Process, RunState
from models.tables import DecisionRow
from models.workflow_io import ProcessResult
from processes.lead_scoring import LeadRow
from services.starting import start_process
from temporal.sandbox import WORKFLOW_RUNNER
from tests.cli.conftest import CliEnv, example
from tests.ops.conftest import Guard
from tests.support import decide
from workers.registry import WORKFLOWS, build_activities

HISTORIES = sorted((Path(__file__).parents[1] / "histories").glob("*.json"))


async def test_replay_check_passes_on_every_recorded_history(cli: CliEnv) -> None:
    args = [a for path in HISTORIES for a in ("--file", path)]
    done = await cli.brain("replay-check", *args)
    assert done.code == 0, done
    report = done.json()
    # A bundle holds several histories (tests/histories/<process>@<gate>.json).
    bundled = sum(len(json.loads(p.read_text()).get("histories", {})) or 1 for p in HISTORIES)
    assert report["checked"] == bundled and all(r["ok"] for r in report["results"])


async def test_replay_check_names_the_run_and_event_that_no_longer_replay(
    cli: CliEnv, tmp_path: Path
) -> None:
    # A history from "older code" that scored leads with another activity.
    history = json.loads((HISTORIES[0].parent / "lead_scoring_approved.json").read_text())
    scheduled = next(e for e in history["events"] if "activityTaskScheduledEventAttributes" in e)
    scheduled["activityTaskScheduledEventAttributes"]["activityType"]["name"] = "score_lead_v0"
    path = tmp_path / "old_lead.json"
    path.write_text(json.dumps(history))

    done = await cli.brain("replay-check", "--file", path)
    assert done.code == 1, done
    [result] = done.json()["results"]
    assert result["ok"] is False and result["event_id"] == int(scheduled["eventId"])
    assert "Nondeterminism" in result["error"]
    assert f"run {result['run_id']} at event {scheduled['eventId']}" in done.err


async def test_replay_check_of_live_runs(cli: CliEnv) -> None:
    done = await cli.brain("start", "lead_scoring", "--example", "unsure")
    workflow_id = done.json()["workflow_id"]
    await cli.parked(workflow_id)
    done = await cli.brain("replay-check", "--workflow-id", workflow_id)
    assert done.code == 0, done
    done = await cli.brain("replay-check", "--process", "lead_processing", "--limit", "3")
    assert done.code == 0, done
    assert 1 <= done.json()["checked"] <= 3
    done = await cli.brain("replay-check")
    assert done.code == 2  # no source given: a usage error


async def test_ops_failed_and_replay_from_the_cli(cli: CliEnv) -> None:
    guard, tenant = Guard(), f"t-{uuid.uuid4().hex[:8]}"
    queue = f"ops-cli-{uuid.uuid4().hex[:8]}"
    await cli.policies.set(
        Process("lead_scoring"), tenant, PolicyFields(hitl_enabled=True), changed_by="ops"
    )
    activities = build_activities(cli.sessions, cli.policies, RulesModel(), apply_guard=guard)
    async with Worker(
        cli.client,
        task_queue=queue,
        workflows=WORKFLOWS,
        activities=activities,
        workflow_runner=WORKFLOW_RUNNER,
    ):
        body = example("lead_scoring", "confident")
        started = await start_process(
            cli.client,
            cli.sessions,
            process=Process("lead_scoring"),
            tenant=tenant,
            requested_by="ops",
            body=body,
            task_queue=queue,
        )
        wid = started.workflow_id
        await cli.parked(wid)
        handle = cli.client.get_workflow_handle(wid, result_type=ProcessResult)
        await decide(handle, Action.APPROVE, by="bob")
        try:
            await handle.result()
            raise AssertionError("the apply step should have failed")
        except WorkflowFailureError:
            pass

        listed = await cli.brain("ops", "failed", "--process", "lead_scoring", "--tenant", tenant)
        for _ in range(50):
            if listed.code == 0 and listed.json()["items"]:
                break
            listed = await cli.brain("ops", "failed", "--tenant", tenant)
        assert listed.code == 0, listed
        [item] = listed.json()["items"]
        assert (item["workflow_id"], item["step"]) == (wid, "apply_lead")
        assert item["last_decision"]["actor"] == "bob"

        dry = await cli.brain("ops", "replay", "--workflow-id", wid, "--dry-run")
        assert dry.code == 0, dry
        assert dry.json()["items"][0]["new_run_id"] is None

        guard.broken = False
        done = await cli.brain("ops", "replay", "--workflow-id", wid, "--by", "oncall")
        assert done.code == 0, done
        [replayed] = done.json()["items"]
        assert replayed["outcome"] == "replayed"
        new = cli.client.get_workflow_handle(
            wid, run_id=replayed["new_run_id"], result_type=ProcessResult
        )
        assert (await new.result()).state is RunState.COMPLETED

        again = await cli.brain("ops", "replay", "--workflow-id", wid)
        assert again.code == 1 and again.json()["items"][0]["outcome"].startswith("refused")
    async with cli.sessions() as s:
        audit = (
            await s.execute(select(DecisionRow).where(col(DecisionRow.workflow_id) == wid))
        ).all()
        leads = (await s.execute(select(LeadRow).where(col(LeadRow.workflow_id) == wid))).all()
    assert len(audit) == 1 and len(leads) == 1
