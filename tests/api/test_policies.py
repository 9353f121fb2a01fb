"""Policies over REST: reads, writes by super admins, and the broadcast to parked runs."""

import contextlib
import time
import uuid
from collections.abc import Sequence
from typing import Any

import pytest
from temporalio.service import RPCError
from temporalio.worker import Worker

from core.settings import Settings
from models.hitl import Policy, PolicyChange
from models.processes import Process
from processes import registry
from store.policies import PolicyStore
from temporal.sandbox import WORKFLOW_RUNNER
from tests.api.conftest import close_api, open_api
from tests.api.support import Api, new_tenant
from tests.support import Brain, ai_result
from workers.registry import WORKFLOWS, build_activities
from workflows.policy_broadcast_workflow import workflow_id_for


async def test_read_policies(api: Api) -> None:
    mine = await api.http.get("/workflows/policies", headers=api.auth("viewer"))
    items = mine.json()["items"]
    assert {p["process"] for p in items} == {p.value for p in registry.processes()}
    assert {p["tenant"] for p in items} == {api.tenant}
    autonomous = await api.http.get("/workflows/autonomous", headers=api.auth("viewer"))
    assert {p["process"] for p in autonomous.json()["items"]} == {
        "campaign_tuning",
        "content_generation",
    }
    everything = await api.http.get("/workflows/policies", headers=api.auth("super_admin"))
    assert "*" in {p["tenant"] for p in everything.json()["items"]}


async def test_toggle_and_threshold_for_a_tenant(api: Api) -> None:
    root = api.auth("super_admin", sub="root")
    r = await api.http.post(
        "/workflows/hitl/lead_processing/toggle",  # a seed alias
        json={"enabled": False, "tenant": api.tenant},
        headers=root,
    )
    assert r.status_code == 200, r.text
    flipped = Policy.model_validate(r.json())
    assert flipped.process == Process("lead_scoring") and not flipped.hitl_enabled
    assert flipped.tenant == api.tenant
    r = await api.http.put(
        "/workflows/confidence/lead_scoring",
        json={"threshold": 0.5, "tenant": api.tenant},
        headers=root,
    )
    assert r.status_code == 200 and r.json()["confidence_threshold"] == 0.5
    assert r.json()["version"] > flipped.version
    autonomous = await api.http.get("/workflows/autonomous", headers=api.auth("viewer"))
    assert "lead_scoring" in {p["process"] for p in autonomous.json()["items"]}
    [change, *_] = await api.state.policies.changes(Process("lead_scoring"))
    assert (change.changed_by, change.tenant, change.new) == (
        "root",
        api.tenant,
        {"confidence_threshold": 0.5},
    )


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("POST", "/workflows/hitl/astrology/toggle", {"enabled": True}, 404),
        ("PUT", "/workflows/confidence/astrology", {"threshold": 0.5}, 404),
        ("POST", "/workflows/hitl/lead_scoring/toggle", {"enabled": "yes"}, 422),
        ("POST", "/workflows/hitl/lead_scoring/toggle", {}, 422),
        ("PUT", "/workflows/confidence/lead_scoring", {"threshold": 1.5}, 422),
        ("PUT", "/workflows/confidence/lead_scoring", {"threshold": 0.5, "tenant": "a/b"}, 422),
        ("PUT", "/workflows/confidence/lead_scoring", {"threshold": 0.5, "extra": 1}, 422),
    ],
)
async def test_bad_policy_writes(
    api: Api, method: str, path: str, body: dict[str, Any], status: int
) -> None:
    r = await api.http.request(method, path, json=body, headers=api.auth("super_admin"))
    assert r.status_code == status, r.text


async def test_a_policy_flip_releases_a_parked_run_within_5_seconds(api: Api) -> None:
    api.brain.model.default = ai_result(confidence=0.9)
    wid = (await api.parked())["workflow_id"]  # HITL is on for lead scoring by default
    flipped_at = time.monotonic()
    r = await api.http.post(
        "/workflows/hitl/lead_scoring/toggle",
        json={"enabled": False, "tenant": api.tenant},
        headers=api.auth("super_admin", sub="root"),
    )
    assert r.status_code == 200, r.text
    run = await api.wait_state(wid, "completed", within=5)
    assert time.monotonic() - flipped_at < 5
    assert (run["decision"]["channel"], run["decision"]["actor"]) == ("policy", "root")
    [entry] = (
        await api.http.get("/audit", params={"workflow_id": wid}, headers=api.auth("viewer"))
    ).json()["items"]
    assert (entry["channel"], entry["actor"]) == ("policy", "root")


async def test_turning_hitl_off_for_content_releases_parked_content_runs(api: Api) -> None:
    root = api.auth("super_admin", sub="root")
    toggle = "/workflows/hitl/content_generation/toggle"
    assert (
        await api.http.post(toggle, json={"enabled": True, "tenant": api.tenant}, headers=root)
    ).is_success
    api.script("content_generation", confidence=0.9)
    parked = [(await api.parked("content_generation"))["workflow_id"] for _ in range(3)]
    assert (
        await api.http.post(toggle, json={"enabled": False, "tenant": api.tenant}, headers=root)
    ).is_success
    for wid in parked:
        run = await api.wait_state(wid, "completed", within=5)
        assert run["decision"]["actor"] == "root"


class _StaleOnce(PolicyStore):
    """Answers the gate's first read with a pinned older policy: a run that read the policy
    a moment before a change and parks just after it."""

    pinned: Policy | None = None

    async def effective_gates(
        self,
        process: Process,
        tenant: str,
        gates: Sequence[str],
        *,
        min_version: int = 0,
        session: Any = None,
    ) -> dict[str, Policy]:
        if self.pinned is not None and min_version == 0:
            pinned, self.pinned = self.pinned, None
            return {pinned.gate or gates[0]: pinned}
        return await super().effective_gates(
            process, tenant, gates, min_version=min_version, session=session
        )


async def test_a_run_parking_just_after_the_change_is_released_too(
    brain: Brain, settings: Settings
) -> None:
    stale = _StaleOnce(brain.db.sessions)
    queue = f"late-{uuid.uuid4().hex[:8]}"
    brain.model.default = ai_result(confidence=0.9)
    async with Worker(
        brain.client,
        task_queue=queue,
        workflows=WORKFLOWS,
        activities=build_activities(brain.db.sessions, stale, brain.model, client=brain.client),
        workflow_runner=WORKFLOW_RUNNER,
    ):
        api = await open_api(brain, settings, task_queue=queue)
        try:
            stale.pinned = await stale.effective(Process("lead_scoring"), brain.tenant)  # HITL on
            r = await api.http.post(
                "/workflows/hitl/lead_scoring/toggle",
                json={"enabled": False, "tenant": brain.tenant},
                headers=api.auth("super_admin", sub="root"),
            )
            assert r.status_code == 200
            wid = (await api.start())["workflow_id"]
            # It parked on the stale read (only a parked run is released by a policy), and
            # the broadcast, still looking for late parkers, released it: the outcome says
            # both, whether or not a reader ever saw it waiting.
            run = await api.wait_state(wid, "completed", within=10)
            assert (run["decision"]["channel"], run["decision"]["actor"]) == ("policy", "root")
        finally:
            await close_api(api)


async def test_global_change_reaches_every_tenant(api: Api) -> None:
    api.brain.model.default = ai_result(confidence=0.99)
    tenants = [api.tenant, new_tenant()]
    parked = [(await api.parked(tenant=t))["workflow_id"] for t in tenants]
    root = api.auth("super_admin", sub="root")
    toggle = "/workflows/hitl/lead_scoring/toggle"
    versions = []
    try:
        r = await api.http.post(toggle, json={"enabled": False}, headers=root)
        versions.append(r.json()["version"])
        for wid, tenant in zip(parked, tenants, strict=True):
            await api.wait_state(wid, "completed", tenant=tenant, within=5)
    finally:
        # The global row is shared by every test of this session: put it back.
        r = await api.http.post(toggle, json={"enabled": True}, headers=root)
        versions.append(r.json()["version"])
        # The other database's session reuses these versions (and so the broadcasts' ids);
        # this test's worker is about to go, so do not leave its broadcasts running.
        for version in versions:
            change = PolicyChange(
                process=Process("lead_scoring"), version=version, changed_by="root"
            )
            with contextlib.suppress(RPCError):
                await api.brain.client.get_workflow_handle(workflow_id_for(change)).terminate()
