"""Inputs that once wedged a run (issue 10), over the REST door on both databases: each is
now a 422 naming the field (or a 413, or a 409) and nothing is started or decided."""

import copy
import json
from typing import Any, cast

import pytest
from temporalio.service import RPCError, RPCStatusCode

from processes.lead_scoring import LeadRow
from tests.api.support import BODIES, Api, new_tenant

JSON = {"Content-Type": "application/json"}


def _raw(process: str, path: list[Any], value: Any) -> str:
    """The process's body with ``value`` at ``path``, as JSON text: Python's json writes
    ``NaN``, ``Infinity`` and ``-Infinity`` the way a careless client would."""
    body = copy.deepcopy(BODIES[process])
    target = body
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return json.dumps(body)


async def _start_raw(
    api: Api, process: str, text: str, tenant: str, key: str = "wedge"
) -> dict[str, Any]:
    headers = {**api.auth("operator", tenant), **JSON, "Idempotency-Key": key}
    r = await api.http.post(f"/workflows/{process}", content=text, headers=headers)
    assert r.status_code == 422, r.text
    assert len(r.content) < 10_000
    return cast(dict[str, Any], r.json())


async def _nothing_started(api: Api, process: str, tenant: str, key: str = "wedge") -> None:
    listed = await api.http.get("/workflows", headers=api.auth("viewer", tenant))
    assert listed.json()["items"] == []
    # The workflow id is a business key: describing it proves no run was started.
    with pytest.raises(RPCError) as found:
        await api.brain.client.get_workflow_handle(f"{process}:{tenant}:{key}").describe()
    assert found.value.status is RPCStatusCode.NOT_FOUND


def _names(body: dict[str, Any], loc: list[Any]) -> bool:
    return any(e["loc"][: len(loc)] == loc for e in body["fields"])


FLOATS = [
    ("campaign_tuning", ["total_budget"]),
    ("product_sourcing", ["suppliers", 0, "unit_price"]),
    ("campaign_tuning", ["channels", 1, "revenue"]),
]


@pytest.mark.parametrize(("process", "path"), FLOATS, ids=lambda v: str(v))
async def test_non_finite_numbers_are_422_naming_the_field_and_start_nothing(
    api: Api, process: str, path: list[Any]
) -> None:
    for value in (float("inf"), float("nan"), float("-inf")):
        tenant = new_tenant()
        text = _raw(process, path, value)
        assert any(t in text for t in ("NaN", "Infinity"))
        body = await _start_raw(api, process, text, tenant)
        assert _names(body, ["body", *path]), body
        await _nothing_started(api, process, tenant)


@pytest.mark.parametrize(
    ("process", "path", "value"),
    [
        ("campaign_tuning", ["total_budget"], 1e308),
        ("campaign_tuning", ["channels", 0, "spend"], 1e300),
        ("product_sourcing", ["suppliers", 1, "unit_price"], 1e308),
    ],
)
async def test_huge_numbers_are_422(api: Api, process: str, path: list[Any], value: float) -> None:
    tenant = new_tenant()
    body = await _start_raw(api, process, _raw(process, path, value), tenant)
    assert _names(body, ["body", *path]), body
    await _nothing_started(api, process, tenant)


@pytest.mark.parametrize(
    ("process", "field"), [("campaign_tuning", "channels"), ("product_sourcing", "suppliers")]
)
async def test_repeated_names_are_422(api: Api, process: str, field: str) -> None:
    tenant = new_tenant()
    body = copy.deepcopy(BODIES[process])
    body[field][1]["name"] = body[field][0]["name"]
    found = await _start_raw(api, process, json.dumps(body), tenant)
    assert _names(found, ["body", field]), found
    assert "unique" in json.dumps(found)
    await _nothing_started(api, process, tenant)


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x1b", "\ud800"])
async def test_a_control_character_in_a_lead_name_is_422(api: Api, char: str) -> None:
    tenant = new_tenant()
    body = await _start_raw(
        api, "lead_scoring", _raw("lead_scoring", ["lead", "name"], f"Ada{char}"), tenant
    )
    assert _names(body, ["body", "lead", "name"]), body
    await _nothing_started(api, "lead_scoring", tenant)


async def test_a_control_character_in_an_idempotency_key_is_422(api: Api) -> None:
    tenant = new_tenant()
    headers = {**api.auth("operator", tenant), "Idempotency-Key": "order\x01-1"}
    r = await api.http.post("/workflows/lead_scoring", json=BODIES["lead_scoring"], headers=headers)
    assert r.status_code == 422, r.text
    assert _names(r.json(), ["header", "Idempotency-Key"]), r.text
    listed = await api.http.get("/workflows", headers=api.auth("viewer", tenant))
    assert listed.json()["items"] == []


@pytest.mark.parametrize("action", ["approve", "reject", "cancel"])
async def test_a_control_character_in_a_path_id_is_422(api: Api, action: str) -> None:
    wid = (await api.parked())["workflow_id"]
    # Percent-encoded, as a client sends them; the server decodes them into the id.
    for bad in (wid + "%00", wid.replace(":", "%01", 1), wid + "%7F"):
        r = await api.http.post(f"/workflows/{bad}/{action}", json={}, headers=api.auth("admin"))
        assert r.status_code == 422, r.text
        assert _names(r.json(), ["path", "workflow_id"]), r.text
        r = await api.http.get(f"/workflows/{bad}", headers=api.auth("viewer"))
        assert r.status_code == 422, r.text
    assert (await api.get(wid))["state"] == "awaiting_approval"


BAD_DECISIONS: list[tuple[str, dict[str, Any], list[str]]] = [
    ("approve", {"comment": "ok\x00"}, ["body", "comment"]),
    ("reject", {"comment": "no\x1b[31m"}, ["body", "comment"]),
    ("approve", {"edits": {"rationale": "fine\x00"}}, ["body", "edits"]),
    ("approve", {"edits": {"sco\x00re": 50}}, ["body", "edits"]),
    ("approve", {"approval_id": "x\x00"}, ["body", "approval_id"]),
]


async def test_control_characters_in_a_decision_are_422_and_decide_nothing(api: Api) -> None:
    wid = (await api.parked())["workflow_id"]
    for action, body, loc in BAD_DECISIONS:
        r = await api.decide(wid, action, **body)
        assert r.status_code == 422, (body, r.text)
        assert _names(r.json(), loc), r.text
    for text in ('{"comment": "ok\\u0000"}', '{"edits": {"score": NaN}}'):
        headers = {**api.auth("approver"), **JSON}
        r = await api.http.post(f"/workflows/{wid}/approve", content=text, headers=headers)
        assert r.status_code == 422, (text, r.text)
    run = await api.get(wid)
    assert run["state"] == "awaiting_approval" and run["decision"] is None
    assert await api.brain.audit(wid) == []
    # Still decidable.
    assert (await api.decide(wid, comment="fine", sub="alice")).status_code == 200
    await api.wait_state(wid, "completed")


async def test_a_second_approve_with_other_edits_is_409_and_the_retry_gets_the_first(
    api: Api,
) -> None:
    wid = (await api.parked())["workflow_id"]
    first = await api.decide(wid, sub="alice", edits={"score": 50}, comment="warm")
    assert first.status_code == 200, first.text
    assert first.json()["final_proposal"]["tier"] == "warm"
    done = await api.wait_state(wid, "completed")
    for other in (
        {"edits": {"score": 90}, "comment": "warm"},
        {"edits": {"score": 50}, "comment": "x"},
        {"comment": "warm"},
    ):
        r = await api.decide(wid, sub="alice", **other)
        assert r.status_code == 409, (other, r.text)
        assert r.json()["error"] in ("AlreadyDecided", "WorkflowClosed"), r.text
    again = await api.decide(wid, sub="alice", edits={"score": 50}, comment="warm")
    assert again.status_code == 200, again.text
    assert again.json() == first.json()
    assert done["result"]["score"] == 50
    [audit] = await api.brain.audit(wid)
    assert audit.edits == {"score": 50}
    assert len(await api.brain.rows(LeadRow, wid)) == 1


async def test_a_tier_edit_alone_is_422_naming_tier(api: Api) -> None:
    wid = (await api.parked())["workflow_id"]
    r = await api.decide(wid, edits={"tier": "cold"})
    assert r.status_code == 422, r.text
    assert r.json()["error"] == "InvalidEdits"
    assert _names(r.json(), ["body", "edits", "tier"]), r.text
    assert "derived" in json.dumps(r.json()["fields"])
    assert (await api.get(wid))["state"] == "awaiting_approval"


async def test_a_score_edit_recomputes_tier_and_route_and_the_rationale_says_so(api: Api) -> None:
    wid = (await api.parked())["workflow_id"]
    r = await api.decide(wid, edits={"score": 30}, sub="alice")
    assert r.status_code == 200, r.text
    final = r.json()["final_proposal"]
    assert (final["score"], final["tier"]) == (30, "cold")
    assert "Edited by a person" in final["rationale"] and "score: 82 → 30" in final["rationale"]
    assert "hot" in final["rationale"] and "cold" in final["rationale"]
    await api.wait_state(wid, "completed")
    [row] = await api.brain.rows(LeadRow, wid)
    assert (row.score, row.tier, row.route) == (30, "cold", "marketing")
    [audit] = await api.brain.audit(wid)
    assert audit.final_proposal is not None
    assert audit.final_proposal["rationale"] == final["rationale"]


async def test_a_megabyte_of_invalid_edits_is_413(api: Api) -> None:
    wid = (await api.parked())["workflow_id"]
    edits = {f"field{i}": "x" * 1000 for i in range(1100)}
    r = await api.decide(wid, edits=edits)
    assert r.status_code == 413, r.text[:300]
    assert r.json()["error"] == "PayloadTooLarge" and len(r.content) < 1000
    assert (await api.get(wid))["state"] == "awaiting_approval"


async def test_ten_thousand_invalid_edit_keys_are_a_small_422(api: Api) -> None:
    wid = (await api.parked())["workflow_id"]
    edits = {f"k{i}": i for i in range(10_000)}
    r = await api.decide(wid, edits=edits)
    assert r.status_code == 422, r.text[:300]
    assert len(r.content) < 10_000
    assert _names(r.json(), ["body", "edits"]), r.text[:500]
    few = await api.decide(wid, edits={f"k{i}": i for i in range(21)})
    assert few.status_code == 422 and len(few.content) < 10_000, few.text[:300]
    assert "at most 20" in few.text
    run = await api.get(wid)
    assert run["state"] == "awaiting_approval" and await api.brain.audit(wid) == []
