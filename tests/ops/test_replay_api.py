"""A run whose apply step failed is listed, fixed, replayed and completes once, keeping the
decision an approver made before it failed (SPEC §4 ``/ops/*``)."""

from typing import Any, cast

from models.processes import RunState
from models.workflow_io import ProcessResult
from processes.lead_scoring import LeadRow
from tests.api.support import Api, new_tenant
from tests.ops.conftest import Guard
from tests.support import eventually


async def _failed_run(api: Api) -> dict[str, Any]:
    """Park a lead, approve it over REST, and let its apply step fail for good."""
    await api.brain.set_policy(hitl_enabled=True)
    api.script("lead_scoring")
    parked = await api.parked()
    r = await api.decide(parked["workflow_id"], comment="looks right", sub="alice")
    assert r.status_code == 200, r.text
    return await api.wait_state(parked["workflow_id"], RunState.FAILED)


async def _listed(api: Api, workflow_id: str, **query: str) -> dict[str, Any]:
    async def check() -> dict[str, Any] | None:
        r = await api.http.get("/ops/failed", params=query, headers=api.auth("admin"))
        assert r.status_code == 200, r.text
        return next((i for i in r.json()["items"] if i["workflow_id"] == workflow_id), None)

    return await eventually(check, within=15)


async def _replay(api: Api, **body: Any) -> list[dict[str, Any]]:
    r = await api.http.post("/ops/replay", json=body, headers=api.auth("admin"))
    assert r.status_code == 200, r.text
    return cast(list[dict[str, Any]], r.json()["items"])


async def test_failed_run_is_listed_replayed_and_keeps_the_earlier_decision(
    api: Api, guard: Guard
) -> None:
    run = await _failed_run(api)
    wid = run["workflow_id"]
    row = await api.brain.run_row(wid)
    assert row is not None
    old_run_id = row.run_id

    listed = await _listed(api, wid, process="lead_processing")
    assert listed["status"] == "failed"
    assert listed["step"] == "apply_lead"
    assert listed["failure"] == "the CRM is down"
    assert listed["failure_type"] == "ApplyFailed"
    assert listed["last_decision"]["actor"] == "alice"
    assert listed["tenant"] == api.tenant and listed["process"] == "lead_scoring"

    # A dry run reports the reset point and changes nothing.
    [dry] = await _replay(api, workflow_id=wid, dry_run=True)
    assert dry["new_run_id"] is None and dry["outcome"].startswith("dry run")
    assert dry["old_run_id"] == old_run_id and dry["reset_event_id"] > 0
    assert (await api.brain.client.get_workflow_handle(wid).describe()).run_id == old_run_id
    row = await api.brain.run_row(wid)
    assert row is not None and row.state == RunState.FAILED

    guard.broken = False
    [item] = await _replay(api, workflow_id=wid)
    assert item["outcome"] == "replayed", item
    assert item["old_run_id"] == old_run_id and item["new_run_id"] not in (None, old_run_id)
    handle = api.brain.client.get_workflow_handle(
        wid, run_id=item["new_run_id"], result_type=ProcessResult
    )
    result = await handle.result()
    assert result.state is RunState.COMPLETED
    assert result.decision is not None and result.decision.actor == "alice"

    # The decision was kept, not asked again: one audit row, the AI asked once, one lead.
    [audit] = await api.brain.audit(wid)
    assert (audit.actor, audit.channel, audit.comment) == ("alice", "api", "looks right")
    assert api.brain.model.calls == 1
    assert len(await api.brain.rows(LeadRow, wid)) == 1
    assert guard.refused == 1
    row = await api.brain.run_row(wid)
    assert row is not None and row.state == RunState.COMPLETED and row.error is None
    assert row.run_id == item["new_run_id"]

    # A completed run is refused with a reason, and no longer listed as failed.
    [again] = await _replay(api, workflow_id=wid)
    assert again["new_run_id"] is None and again["outcome"].startswith("refused")
    assert "completed" in again["outcome"]
    r = await api.http.get("/ops/failed", headers=api.auth("admin"))
    assert wid not in {i["workflow_id"] for i in r.json()["items"]}


async def test_replay_by_process_resets_only_the_tenants_failed_runs(
    api: Api, guard: Guard
) -> None:
    run = await _failed_run(api)
    wid = run["workflow_id"]
    await _listed(api, wid)
    guard.broken = False
    items = await _replay(api, process="lead_scoring")
    assert [i["workflow_id"] for i in items] == [wid]
    handle = api.brain.client.get_workflow_handle(wid, result_type=ProcessResult)
    assert (await handle.result()).state is RunState.COMPLETED


async def test_ops_routes_need_admin_and_stay_in_the_tenant(api: Api) -> None:
    run = await _failed_run(api)
    wid = run["workflow_id"]
    await _listed(api, wid)
    for role in ("viewer", "operator", "approver"):
        r = await api.http.get("/ops/failed", headers=api.auth(role))
        assert r.status_code == 403
        r = await api.http.post("/ops/replay", json={"workflow_id": wid}, headers=api.auth(role))
        assert r.status_code == 403
    other = api.auth("admin", tenant=new_tenant())
    r = await api.http.get("/ops/failed", headers=other)
    assert wid not in {i["workflow_id"] for i in r.json()["items"]}
    r = await api.http.post("/ops/replay", json={"workflow_id": wid}, headers=other)
    assert r.status_code == 404
    r = await api.http.post("/ops/replay", json={}, headers=api.auth("admin"))
    assert r.status_code == 422
    r = await api.http.get("/ops/failed", params={"process": "nope"}, headers=api.auth("admin"))
    assert r.status_code == 422
