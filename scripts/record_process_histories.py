"""Record every process's paths through the gate into one bundle per process and gate
version: ``tests/histories/<process>@<gate>.json`` (``tests/workflows/test_replay.py``
replays each; ``tests/processes/test_completeness.py`` requires one per process).

    .venv/bin/python scripts/record_process_histories.py            # every missing bundle
    .venv/bin/python scripts/record_process_histories.py testimonial_generation

Bundles are added, never overwritten: a bundle recorded before a change to the gate keeps
proving that the runs it stands for still replay. After a change behind ``workflow.patched``
bump ``GATE`` below (and log the patch in hitl/PATCHES.md), then record again.
"""

import asyncio
import json
import os
import sys
import tempfile
import uuid
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, cast

from temporalio.client import Client, WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from activities.rules_model import RulesModel  # noqa: E402
from hitl.gate import GatedWorkflow  # noqa: E402
from models.hitl import DecideOutcome, DecideRequest, PolicyChange, PolicyFields  # noqa: E402
from models.processes import Action, Channel, Process  # noqa: E402
from processes import registry  # noqa: E402
from services.starting import start_process  # noqa: E402
from store.db import make_engine, make_sessionmaker, migrate  # noqa: E402
from store.policies import PolicyStore  # noqa: E402
from temporal import door  # noqa: E402
from temporal.door import derive_key  # noqa: E402
from temporal.handlers import POLICY_CHANGED_SIGNAL  # noqa: E402
from temporal.sandbox import WORKFLOW_RUNNER  # noqa: E402
from temporal.search_attributes import ALL  # noqa: E402
from workers.registry import WORKFLOWS, build_activities  # noqa: E402

OUT = ROOT / "tests" / "histories"
# The gate's shape these bundles record (hitl/PATCHES.md): bump it with a new patch.
GATE = "gate-v5"
# The paths every process records.
SHAPES = ("auto", "approved", "rejected", "edited", "released_by_policy")
# And a process with several gates: every gate decided by a person, a rejection at the
# second, a release by the second gate's policy.
GATED_SHAPES = ("both_gates", "rejected_at_second", "released_at_second")
# Signs the recorder's policy changes as the broadcast signs them (replay needs no key).
DOOR_KEY = derive_key("recorder-door-key")


def bundle_path(process: str) -> Path:
    return OUT / f"{process}@{GATE}.json"


class Recorder:
    def __init__(self, client: Client, policies: PolicyStore, sessions: Any, queue: str) -> None:
        self.client, self.policies, self.sessions, self.queue = client, policies, sessions, queue

    async def start(self, process: Process, tenant: str, example: str) -> WorkflowHandle:
        body = dict(registry.definition(process).examples[example])
        if process.value == "content_generation":
            # Naming a competitor the draft mentions is a claim: legal's gate applies.
            body = {"brief": {**body["brief"], "competitors": ["autoscaling"]}}
        run = await start_process(
            self.client,
            self.sessions,
            process=process,
            tenant=tenant,
            requested_by="recorder",
            body=body,
            task_queue=self.queue,
        )
        return self.client.get_workflow_handle(run.workflow_id)

    async def later_gates(self, process: Process, tenant: str, *, people: bool) -> None:
        """Every gate after the first: a person's (``people``; the finance gate for any
        amount) or passing on its own."""
        for gate in registry.definition(process).gates[1:]:
            fields = (
                PolicyFields(hitl_enabled=True, amount_over=0)
                if people
                else PolicyFields(hitl_enabled=False, confidence_threshold=0.0)
            )
            await self.policies.set(process, tenant, fields, changed_by="r", gate=gate.name)

    async def parked(self, process: Process, tenant: str, gate: int = 0) -> WorkflowHandle:
        await self.policies.set(
            process, tenant, PolicyFields(hitl_enabled=True), changed_by="recorder"
        )
        handle = await self.start(process, tenant, "confident")
        await self.waiting(handle, gate)
        return handle

    async def waiting(self, handle: WorkflowHandle, gate: int) -> None:
        for _ in range(400):
            status = await handle.query(GatedWorkflow.status)
            at = status.approval.approval_id if status.approval else ""
            if status.state == "awaiting_approval" and (gate == 0 or f":{gate + 1}" in at):
                return
            await asyncio.sleep(0.05)
        raise RuntimeError(f"{handle.id} never parked at gate {gate}")

    async def release(self, handle: WorkflowHandle, process: Process, tenant: str,
                      gate: str | None = None) -> None:  # fmt: skip
        policy = await self.policies.set(
            process,
            tenant,
            PolicyFields(hitl_enabled=False, confidence_threshold=0.0),
            changed_by="r",
            gate=gate,
        )
        change = PolicyChange(
            process=process,
            tenant=tenant,
            version=policy.version,
            changed_by="recorder",
            policy=policy,
            gate=policy.gate,
        )
        payload = change.model_dump(mode="json")
        payload["signature"] = door.sign(DOOR_KEY, handle.id, payload, door.POLICY_CHANGED)
        await handle.signal(POLICY_CHANGED_SIGNAL, payload)

    async def decide(
        self, handle: WorkflowHandle, action: Action, by: str = "alice", **kw: Any
    ) -> DecideOutcome:
        # As an operator over Temporal (channel cli): no REST door key needed here.
        request = DecideRequest(action=action, by=by, channel=Channel.CLI, **kw)
        # The handler is async: the SDK types the Update's result as its coroutine.
        return cast(DecideOutcome, await handle.execute_update(GatedWorkflow.decide, request))

    async def shape(self, process: Process, shape: str) -> WorkflowHandle:
        tenant = f"rec-{shape}"
        await self.later_gates(process, tenant, people=shape in GATED_SHAPES)
        if shape in GATED_SHAPES:
            handle = await self.parked(process, tenant)
            await self.decide(handle, Action.APPROVE)
            await self.waiting(handle, 1)
            if shape == "both_gates":
                await self.decide(handle, Action.APPROVE, by="bob")
            elif shape == "rejected_at_second":
                await handle.signal(GatedWorkflow.reject, {"by": "bob", "comment": "no"})
            else:
                await self.release(
                    handle, process, tenant, registry.definition(process).gates[1].name
                )
            return handle
        if shape == "auto":
            await self.policies.set(
                process,
                tenant,
                PolicyFields(hitl_enabled=False, confidence_threshold=0.0),
                changed_by="r",
            )
            return await self.start(process, tenant, "confident")
        handle = await self.parked(process, tenant)
        if shape == "approved":
            await self.decide(handle, Action.APPROVE)
        elif shape == "rejected":
            await handle.signal(GatedWorkflow.reject, {"by": "ops", "comment": "not now"})
        elif shape == "edited":
            await self.decide(handle, Action.APPROVE, edits={"rationale": "Edited by a person."})
        elif shape == "released_by_policy":
            await self.release(handle, process, tenant)
        return handle


async def record(recorder: Recorder, process: Process) -> dict[str, Any]:
    histories: dict[str, Any] = {}
    gated = GATED_SHAPES if len(registry.definition(process).gates) > 1 else ()
    for shape in (*SHAPES, *gated):
        handle = await recorder.shape(process, shape)
        await handle.result()
        history = await handle.fetch_history()
        histories[shape] = json.loads(history.to_json())
        print(f"recorded {process.value} {shape}")
    return {"gate": GATE, "process": process.value, "histories": histories}


async def main(wanted: list[str]) -> None:
    processes = [registry.parse(n) for n in wanted] if wanted else list(registry.processes())
    missing = [p for p in processes if not bundle_path(p.value).exists()]
    if not missing:
        print("every bundle exists; nothing to record")
        return
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(Path(sys.executable).parent / "temporal"),
        data_converter=pydantic_data_converter,
        search_attributes=ALL,
    )
    url = f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'brain.db'}"
    await migrate(url)
    sessions = make_sessionmaker(make_engine(url))
    policies = PolicyStore(sessions)
    queue = f"record-{uuid.uuid4().hex[:6]}"
    recorder = Recorder(env.client, policies, sessions, queue)
    async with Worker(
        env.client,
        task_queue=queue,
        workflows=WORKFLOWS,
        activities=build_activities(
            sessions, policies, RulesModel(), client=env.client, door_key=DOOR_KEY
        ),
        workflow_runner=WORKFLOW_RUNNER,
    ):
        for process in missing:
            bundle = await record(recorder, process)
            bundle_path(process.value).write_text(json.dumps(bundle, indent=1))
    await env.shutdown()


def run(entry: Callable[[], Coroutine[Any, Any, None]]) -> None:
    asyncio.run(entry())
    sys.stdout.flush()
    os._exit(0)  # temporalio/sdk-python#300: skip interpreter finalization


if __name__ == "__main__":
    run(lambda: main(sys.argv[1:]))
