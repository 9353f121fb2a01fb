"""The REST door for decisions (SPEC §3): approve, reject, refusals, exactly once."""

import asyncio

from processes.lead_scoring import LeadRow
from tests.api.support import Api
from tests.support import ai_result


async def test_start_park_approve_complete_and_audit(api: Api) -> None:
    run = await api.parked()
    wid = run["workflow_id"]
    assert run["approval"]["approval_id"] == wid + ":1" and run["tenant"] == api.tenant
    inbox = (await api.http.get("/approvals", headers=api.auth("viewer"))).json()
    assert [a["workflow_id"] for a in inbox["items"]] == [wid]

    r = await api.decide(wid, comment="fine", sub="alice")
    assert r.status_code == 200, r.text
    assert (r.json()["actor"], r.json()["channel"], r.json()["action"]) == (
        "alice",
        "api",
        "approve",
    )
    done = await api.wait_state(wid, "completed")
    assert done["decision"]["actor"] == "alice" and done["result"]["tier"] == "hot"
    assert done["approval"] is None
    audit = await api.http.get("/audit", params={"workflow_id": wid}, headers=api.auth("viewer"))
    [entry] = audit.json()["items"]
    assert (entry["actor"], entry["channel"], entry["decision"], entry["comment"]) == (
        "alice",
        "api",
        "approve",
        "fine",
    )
    assert len(await api.brain.rows(LeadRow, wid)) == 1


async def test_reject_completes_rejected(api: Api) -> None:
    wid = (await api.parked())["workflow_id"]
    r = await api.decide(wid, "reject", comment="no")
    assert r.status_code == 200 and r.json()["action"] == "reject"
    assert (await api.wait_state(wid, "rejected"))["decision"]["comment"] == "no"
    assert await api.brain.rows(LeadRow, wid) == []


async def test_two_approvers_race_one_wins(api: Api) -> None:
    wid = (await api.parked())["workflow_id"]
    first, second = await asyncio.gather(
        api.decide(wid, sub="alice"), api.decide(wid, "reject", sub="bob")
    )
    assert sorted([first.status_code, second.status_code]) == [200, 409]
    loser = first if first.status_code == 409 else second
    assert loser.json()["error"] == "AlreadyDecided"
    await api.wait_state(wid, "completed", "rejected")
    assert len(await api.brain.audit(wid)) == 1


async def test_retried_request_gets_the_first_outcome(api: Api) -> None:
    wid = (await api.parked())["workflow_id"]
    first = await api.decide(wid, sub="alice", comment="once")
    again = await api.decide(wid, sub="alice", comment="once")
    assert first.status_code == again.status_code == 200, again.text
    assert first.json() == again.json()
    await api.wait_state(wid, "completed")
    late = await api.decide(wid, sub="alice", comment="once")
    assert late.status_code == 200, late.text
    assert late.json()["decided_at"] == first.json()["decided_at"]
    assert len(await api.brain.audit(wid)) == 1


async def test_decision_on_a_completed_run_is_409(api: Api) -> None:
    wid = (await api.parked())["workflow_id"]
    assert (await api.decide(wid, sub="alice")).status_code == 200
    await api.wait_state(wid, "completed")
    for action in ("approve", "reject"):
        r = await api.decide(wid, action, sub="bob")
        assert r.status_code == 409, r.text
        assert r.json()["error"] in ("WorkflowClosed", "AlreadyDecided")


async def test_invalid_edits_are_422_with_the_field(api: Api) -> None:
    wid = (await api.parked())["workflow_id"]
    r = await api.decide(wid, edits={"score": 140})
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["error"] == "InvalidEdits"
    assert body["fields"][0]["loc"] == ["body", "edits", "score"]
    r = await api.decide(wid, edits={"score": 30})
    assert r.status_code == 200 and r.json()["final_proposal"]["tier"] == "cold"


async def test_stale_approval_id_is_409(api: Api) -> None:
    wid = (await api.parked())["workflow_id"]
    r = await api.decide(wid, approval_id="someone-else:1")
    assert r.status_code == 409 and r.json()["error"] == "StaleApproval"


async def test_nothing_pending_is_409(api: Api) -> None:
    api.brain.model.default = ai_result(confidence=0.99)
    await api.brain.set_policy(hitl_enabled=False)
    started = await api.start()
    await api.wait_state(started["workflow_id"], "completed")
    r = await api.decide(started["workflow_id"])
    assert r.status_code == 409


def _nested(depth: int) -> dict:
    value: dict = {"leaf": 1}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


async def test_deeply_nested_edits_are_422_and_the_run_keeps_waiting(api: Api) -> None:
    """Nesting 300 deep answered 500 (the payload converter's depth limit) and 200 deep 409
    (the Update could not decode its argument); both are invalid edits, refused at the door."""
    wid = (await api.parked())["workflow_id"]
    for depth in (200, 300):
        r = await api.decide(wid, edits={"score": 30, "notes": _nested(depth)})
        assert r.status_code == 422, (depth, r.text)
        assert r.json()["fields"][0]["loc"][:2] == ["body", "edits"], r.text
    # Deeper than any JSON parser recurses: still a client error, never a 500.
    raw = '{"edits": ' + '{"a": ' * 100_000 + "1" + "}" * 100_001
    r = await api.http.post(
        f"/workflows/{wid}/approve",
        content=raw,
        headers={**api.auth("approver"), "Content-Type": "application/json"},
    )
    assert 400 <= r.status_code < 500, r.text
    r = await api.decide(wid, edits={"score": 30}, sub="alice")
    assert r.status_code == 200, r.text
    assert (await api.wait_state(wid, "completed"))["decision"]["actor"] == "alice"
