"""Record workflow histories into tests/histories/ for the Replayer test.

Run after an intended workflow change (with ``workflow.patched`` where old runs must keep
replaying): ``.venv/bin/python scripts/record_histories.py``. It records only the histories
that are missing, so the ones recorded before a patch stay as they were and keep proving
that old runs replay (``--all`` re-records everything; names, e.g. ``lead_scoring_quorum``,
record just those). Committed histories are the contract that running workflows hold the
code to.
"""

import asyncio
import json
import os
import sys
import tempfile
import uuid
from pathlib import Path
from typing import cast

from temporalio.client import Client, WorkflowFailureError, WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from temporal.handlers import POLICY_CHANGED_SIGNAL

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from activities.rules_model import RulesModel  # noqa: E402
from models.hitl import DecideOutcome, DecideRequest, PolicyChange, PolicyFields  # noqa: E402
from models.processes import Action, Channel, Process  # noqa: E402
from processes import registry  # noqa: E402
from services.starting import start_process  # noqa: E402
from store.db import make_engine, make_sessionmaker, migrate  # noqa: E402
from store.policies import PolicyStore  # noqa: E402
from temporal.sandbox import WORKFLOW_RUNNER  # noqa: E402
from temporal.search_attributes import ALL  # noqa: E402
from workers.registry import WORKFLOWS, build_activities  # noqa: E402
from workflows.process_workflow import LeadScoringWorkflow  # noqa: E402

OUT = ROOT / "tests" / "histories"


async def _wait_parked(handle: WorkflowHandle) -> None:
    for _ in range(200):
        status = await handle.query(LeadScoringWorkflow.status)
        if status.state == "awaiting_approval":
            return
        await asyncio.sleep(0.05)
    raise RuntimeError(f"{handle.id} never parked")


async def _decide(handle: WorkflowHandle, request: DecideRequest) -> DecideOutcome:
    # The handler is async: the SDK types the Update's result as its coroutine.
    return cast(DecideOutcome, await handle.execute_update(LeadScoringWorkflow.decide, request))


async def _save(client: Client, workflow_id: str, name: str, *, fails: bool = False) -> None:
    handle = client.get_workflow_handle(workflow_id)
    try:
        await handle.result()
    except WorkflowFailureError:
        if not fails:
            raise
    history = await handle.fetch_history()
    (OUT / f"{name}.json").write_text(json.dumps(json.loads(history.to_json()), indent=1))
    print(f"recorded {name}")


async def main() -> None:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(Path(sys.executable).parent / "temporal"),
        data_converter=pydantic_data_converter,
        search_attributes=ALL,
    )
    home = Path(tempfile.mkdtemp())
    url = f"sqlite+aiosqlite:///{home / 'brain.db'}"
    await migrate(url)
    sessions = make_sessionmaker(make_engine(url))
    policies = PolicyStore(sessions)
    queue = f"record-{uuid.uuid4().hex[:6]}"
    client = env.client
    everything = "--all" in sys.argv[1:]
    named = {a for a in sys.argv[1:] if not a.startswith("-")}
    broken = {"apply": False}

    def wanted(name: str) -> bool:
        if named:
            return name in named
        return everything or not (OUT / f"{name}.json").exists()

    def guard(_: object) -> None:
        if broken["apply"]:
            raise ApplicationError("the CRM is down", type="ApplyFailed", non_retryable=True)

    async with Worker(
        client,
        task_queue=queue,
        workflows=WORKFLOWS,
        activities=build_activities(sessions, policies, RulesModel(), apply_guard=guard),
        workflow_runner=WORKFLOW_RUNNER,
    ):

        async def start(process: Process, example: str, tenant: str = "rec") -> WorkflowHandle:
            body = dict(registry.definition(process).examples[example])
            run = await start_process(
                client,
                sessions,
                process=process,
                tenant=tenant,
                requested_by="recorder",
                body=body,
                task_queue=queue,
            )
            return client.get_workflow_handle(run.workflow_id)

        async def approved(process: Process, example: str = "confident") -> WorkflowHandle:
            handle = await start(process, example)
            await _wait_parked(handle)
            await _decide(handle, DecideRequest(action=Action.APPROVE, by="alice"))
            return handle

        for process in registry.processes():
            # HITL on for every process in tenant "rec": each one parks, then is approved.
            await policies.set(
                process, "rec", PolicyFields(hitl_enabled=True), changed_by="recorder"
            )
            if not wanted(f"{process.value}_approved"):
                continue
            handle = await approved(process)
            await _save(client, handle.id, f"{process.value}_approved")
            # Autonomous tenant "auto": the confident example applies on its own.
            await policies.set(
                process,
                "auto",
                PolicyFields(hitl_enabled=False, confidence_threshold=0.5),
                changed_by="recorder",
            )
            handle = await start(process, "confident", tenant="auto")
            await _save(client, handle.id, f"{process.value}_auto")

        # Recorded after the gate made confidence searchable early (workflow.patched).
        if wanted("lead_scoring_patched_approved"):
            handle = await approved(Process("lead_scoring"))
            await _save(client, handle.id, "lead_scoring_patched_approved")
        # Ops (services/history.py): a run whose apply step failed, and a terminated one.
        if wanted("lead_scoring_apply_failed"):
            broken["apply"] = True
            handle = await approved(Process("lead_scoring"))
            await _save(client, handle.id, "lead_scoring_apply_failed", fails=True)
            broken["apply"] = False
        if wanted("lead_scoring_terminated"):
            handle = await start(Process("lead_scoring"), "confident")
            await _wait_parked(handle)
            await handle.terminate(reason="recorded: terminated while parked")
            await _save(client, handle.id, "lead_scoring_terminated", fails=True)

        if wanted("lead_scoring_rejected_by_signal"):
            handle = await start(Process("lead_scoring"), "unsure")
            await _wait_parked(handle)
            await handle.signal(LeadScoringWorkflow.approve, "malformed")
            await handle.signal(LeadScoringWorkflow.reject, {"by": "ops", "comment": "not a fit"})
            await _save(client, handle.id, "lead_scoring_rejected_by_signal")

        if wanted("lead_scoring_approved_with_edits"):
            handle = await start(Process("lead_scoring"), "unsure")
            await _wait_parked(handle)
            await _decide(
                handle,
                DecideRequest(action=Action.APPROVE, by="alice", edits={"score": 90}),
            )
            await _save(client, handle.id, "lead_scoring_approved_with_edits")
        # A policy change releasing a parked run: with the policy carried by the signal (the
        # broadcast's way: no read), and without it (the run reads its policy itself).
        # lead_scoring_released_by_policy_before_audit_on_apply.json is this scenario as
        # commit d8c7cb7 ran it, before the POLICY_AUDIT_ON_APPLY patch (record_decision
        # then wrote the audit row); it is not re-recorded here.
        for name, carried in (
            ("lead_scoring_released_by_policy", True),
            ("lead_scoring_released_by_policy_read", False),
        ):
            if not wanted(name):
                continue
            await policies.set(
                Process("lead_scoring"),
                "flip",
                PolicyFields(hitl_enabled=True),
                changed_by="recorder",
            )
            handle = await start(Process("lead_scoring"), "confident", tenant="flip")
            await _wait_parked(handle)
            policy = await policies.set(
                Process("lead_scoring"),
                "flip",
                PolicyFields(hitl_enabled=False, confidence_threshold=0.5),
                changed_by="recorder",
            )
            change = PolicyChange(
                process=Process("lead_scoring"),
                tenant="flip",
                version=policy.version,
                changed_by="recorder",
                policy=policy if carried else None,
            )
            await handle.signal(POLICY_CHANGED_SIGNAL, change)
            await _save(client, handle.id, name)

        # Quorum and four-eyes (SPEC §3): the requester's approval is ignored; alice votes
        # (1 of 2), bob's edits restart the count (1 of 2), carol's signal completes it.
        if wanted("lead_scoring_quorum"):
            await policies.set(
                Process("lead_scoring"),
                "quorum",
                PolicyFields(hitl_enabled=True, min_approvals=2, requester_may_approve=False),
                changed_by="recorder",
            )
            handle = await start(Process("lead_scoring"), "unsure", tenant="quorum")
            await _wait_parked(handle)
            await handle.signal(LeadScoringWorkflow.approve, {"by": "recorder"})
            for by, edits in (("alice", None), ("bob", {"score": 90})):
                await _decide(
                    handle,
                    DecideRequest(
                        action=Action.APPROVE, by=by, edits=edits, channel=Channel.SIGNAL
                    ),
                )
            await handle.signal(LeadScoringWorkflow.approve, {"by": "carol", "comment": "ok"})
            await _save(client, handle.id, "lead_scoring_quorum")
    await env.shutdown()
    sys.stdout.flush()
    os._exit(0)  # temporalio/sdk-python#300: skip interpreter finalization


if __name__ == "__main__":
    asyncio.run(main())
