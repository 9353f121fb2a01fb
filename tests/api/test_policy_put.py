"""``PUT /workflows/policies/{process}`` (SPEC §2, §4): every policy field, validated field
by field, versioned and logged; and who may use the new policy and insights routes."""

from typing import Any

import pytest

from models.processes import Process
from tests.api.support import ROLES, Api

# Validation and the role table happen before the database; the policy store's own tests run
# on both databases (tests/store/test_policies.py). On PostgreSQL, the production one.
pytestmark = pytest.mark.parametrize("database", ["postgres"], indirect=True)

POLICY = "/workflows/policies/lead_scoring"
YEAR = 366 * 86400


async def test_put_sets_every_field_for_a_tenant(api: Api) -> None:
    before = await api.state.policies.effective(Process("lead_scoring"), api.tenant)
    body = {
        "hitl_enabled": False,
        "confidence_threshold": 0.7,
        "approval_timeout_seconds": 3600,
        "on_timeout": "approve",
        "min_approvals": 3,
        "requester_may_approve": False,
        "remind_every_seconds": 600,
        "escalate_after_seconds": 1800,
        "tenant": api.tenant,
    }
    r = await api.http.put(
        "/workflows/policies/lead_processing",  # a seed alias
        json=body,
        headers=api.auth("super_admin", sub="root"),
    )
    assert r.status_code == 200, r.text
    policy = r.json()
    assert {k: policy[k] for k in body} == body
    assert policy["process"] == "lead_scoring" and policy["version"] > before.version
    stored = await api.state.policies.effective(Process("lead_scoring"), api.tenant)
    assert stored.model_dump(mode="json") == policy
    [change, *_] = await api.state.policies.changes(Process("lead_scoring"), tenant=api.tenant)
    assert (change.changed_by, change.version) == ("root", policy["version"])
    assert change.new == {k: v for k, v in body.items() if k != "tenant"}


async def test_null_turns_a_reminder_or_escalation_off(api: Api) -> None:
    root = api.auth("super_admin", sub="root")
    on = {"remind_every_seconds": 60, "escalate_after_seconds": 120, "tenant": api.tenant}
    assert (await api.http.put(POLICY, json=on, headers=root)).status_code == 200
    off = {"remind_every_seconds": None, "escalate_after_seconds": None, "tenant": api.tenant}
    r = await api.http.put(POLICY, json=off, headers=root)
    assert r.status_code == 200, r.text
    assert (r.json()["remind_every_seconds"], r.json()["escalate_after_seconds"]) == (None, None)
    # Off for this tenant, whatever the global row says (a NULL there would inherit it).
    policy = await api.state.policies.effective(Process("lead_scoring"), api.tenant)
    assert policy.remind_every_seconds is None and policy.escalate_after_seconds is None
    log = await api.http.get(
        "/workflows/policies/changes",
        params={"tenant": api.tenant, "page_size": 1},
        headers=api.auth("admin"),
    )
    [entry] = log.json()["items"]
    assert entry["old"] == {"remind_every_seconds": 60, "escalate_after_seconds": 120}
    assert entry["new"] == {"remind_every_seconds": "off", "escalate_after_seconds": "off"}


INVALID: list[tuple[dict[str, Any], list[Any]]] = [
    ({"min_approvals": 0}, ["body", "min_approvals"]),
    ({"min_approvals": 6}, ["body", "min_approvals"]),
    ({"min_approvals": 2.0}, ["body", "min_approvals"]),
    ({"min_approvals": "2"}, ["body", "min_approvals"]),
    ({"min_approvals": True}, ["body", "min_approvals"]),
    ({"min_approvals": None}, ["body", "min_approvals"]),
    ({"confidence_threshold": 2}, ["body", "confidence_threshold"]),
    ({"confidence_threshold": -0.1}, ["body", "confidence_threshold"]),
    ({"confidence_threshold": "0.5"}, ["body", "confidence_threshold"]),
    ({"confidence_threshold": True}, ["body", "confidence_threshold"]),
    ({"confidence_threshold": None}, ["body", "confidence_threshold"]),
    ({"approval_timeout_seconds": 0}, ["body", "approval_timeout_seconds"]),
    ({"approval_timeout_seconds": YEAR + 1}, ["body", "approval_timeout_seconds"]),
    ({"approval_timeout_seconds": 1.5}, ["body", "approval_timeout_seconds"]),
    ({"approval_timeout_seconds": None}, ["body", "approval_timeout_seconds"]),
    ({"on_timeout": "maybe"}, ["body", "on_timeout"]),
    ({"on_timeout": None}, ["body", "on_timeout"]),
    ({"hitl_enabled": "yes"}, ["body", "hitl_enabled"]),
    ({"hitl_enabled": 1}, ["body", "hitl_enabled"]),
    ({"hitl_enabled": None}, ["body", "hitl_enabled"]),
    ({"requester_may_approve": "false"}, ["body", "requester_may_approve"]),
    ({"requester_may_approve": None}, ["body", "requester_may_approve"]),
    ({"remind_every_seconds": -1}, ["body", "remind_every_seconds"]),
    ({"remind_every_seconds": 0}, ["body", "remind_every_seconds"]),
    ({"remind_every_seconds": "off"}, ["body", "remind_every_seconds"]),
    ({"escalate_after_seconds": -1}, ["body", "escalate_after_seconds"]),
    ({"escalate_after_seconds": YEAR + 1}, ["body", "escalate_after_seconds"]),
    ({"colour": "red"}, ["body", "colour"]),
    ({"min_approvals": 2, "tenant": "a/b"}, ["body", "tenant"]),
    ({}, ["body"]),
]


@pytest.mark.parametrize(("body", "loc"), INVALID, ids=lambda v: str(v))
async def test_an_invalid_field_is_422_naming_it(
    api: Api, body: dict[str, Any], loc: list[Any]
) -> None:
    body = {"tenant": api.tenant, **body}
    r = await api.http.put(POLICY, json=body, headers=api.auth("super_admin"))
    assert r.status_code == 422, r.text
    assert r.json()["error"] == "ValidationFailed"
    assert [e["loc"] for e in r.json()["fields"]] == [loc]


@pytest.mark.parametrize("value", ["NaN", "Infinity"])
async def test_a_threshold_that_is_not_a_number_is_422(api: Api, value: str) -> None:
    raw = f'{{"confidence_threshold": {value}, "tenant": "{api.tenant}"}}'
    r = await api.http.put(
        POLICY,
        content=raw,
        headers={**api.auth("super_admin"), "Content-Type": "application/json"},
    )
    assert r.status_code == 422, r.text
    assert r.json()["fields"][0]["loc"] == ["body", "confidence_threshold"]


async def test_nothing_changes_when_a_write_is_refused(api: Api) -> None:
    before = await api.state.policies.changes(Process("lead_scoring"), tenant=api.tenant)
    r = await api.http.put(
        "/workflows/policies/astrology",
        json={"min_approvals": 2, "tenant": api.tenant},
        headers=api.auth("super_admin"),
    )
    assert r.status_code == 404 and r.json()["error"] == "UnknownProcess", r.text
    r = await api.http.put(POLICY, json={"tenant": api.tenant}, headers=api.auth("super_admin"))
    assert r.status_code == 422
    assert await api.state.policies.changes(Process("lead_scoring"), tenant=api.tenant) == before


# (method, path, body, lowest role that may): the routes of issue 12.
ROUTES = [
    ("PUT", POLICY, {"min_approvals": 1}, "super_admin"),
    ("GET", "/workflows/policies/changes", None, "admin"),
    ("GET", "/insights/decisions", None, "admin"),
]


@pytest.mark.parametrize(("method", "path", "body", "lowest"), ROUTES, ids=lambda v: str(v))
async def test_role_table(
    api: Api, method: str, path: str, body: dict[str, Any] | None, lowest: str
) -> None:
    for role in ROLES:
        kwargs: dict[str, Any] = (
            {"json": {**body, "tenant": api.tenant}} if body is not None else {}
        )
        r = await api.http.request(method, path, headers=api.auth(role), **kwargs)
        allowed = ROLES.index(role) >= ROLES.index(lowest)
        assert r.status_code == (200 if allowed else 403), (role, r.text)
        if not allowed:
            assert r.json()["error"] == "Forbidden"
    anonymous: dict[str, Any] = {"json": body} if body is not None else {}
    r = await api.http.request(method, path, **anonymous)
    assert r.status_code == 401
