"""What a client can count on everywhere (SPEC §8): unknown query parameters are a 422 naming
them, every timestamp is RFC 3339 UTC with ``Z``, and every error is ``{"error", "detail":
"<text>", "fields"?}`` with the field list on 422s only."""

import re
from datetime import datetime
from typing import Any

import pytest

from tests.api.support import Api

# A JSON string that is a date-time, in any of the forms a client could meet.
_LOOKS_LIKE_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d")


def _times(value: Any, path: str = "") -> list[tuple[str, str]]:
    """Every (path, string) in a JSON document that holds a date-time."""
    if isinstance(value, dict):
        return [t for k, v in value.items() for t in _times(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [t for i, v in enumerate(value) for t in _times(v, f"{path}[{i}]")]
    if isinstance(value, str) and _LOOKS_LIKE_TIME.match(value):
        return [(path, value)]
    return []


def _all_z(document: Any) -> list[tuple[str, str]]:
    """The date-times of ``document`` that are not RFC 3339 UTC with ``Z`` (none, or fails
    when it holds no date-time at all: the check would prove nothing)."""
    found = _times(document)
    assert found, f"no timestamp in {document}"
    wrong = []
    for path, text in found:
        parsed = datetime.fromisoformat(text)
        if not text.endswith("Z") or parsed.utcoffset() is None or parsed.utcoffset():
            wrong.append((path, text))
    return wrong


@pytest.mark.parametrize(
    ("path", "params", "unknown"),
    [
        ("/workflows", {"limit": "3"}, ["limit"]),
        ("/workflows", {"page_size": "2", "limit": "3", "offset": "1"}, ["limit", "offset"]),
        ("/audit", {"workflow": "x"}, ["workflow"]),
        ("/approvals", {"proces": "lead_scoring"}, ["proces"]),
        ("/workflows/policies", {"tenant": "acme"}, ["tenant"]),
        ("/workflows/policies/changes", {"since": "2026-01-01"}, ["since"]),
        ("/insights/decisions", {"from": "2026-01-01"}, ["from"]),
        ("/agents/status", {"queue": "brain"}, ["queue"]),
        ("/ops/failed", {"state": "failed"}, ["state"]),
        ("/webhooks", {"url": "x"}, ["url"]),
    ],
)
async def test_unknown_query_parameters_are_422_naming_them(
    api: Api, path: str, params: dict[str, str], unknown: list[str]
) -> None:
    r = await api.http.get(path, params=params, headers=api.auth("super_admin"))
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["error"] == "ValidationFailed"
    assert [f["loc"] for f in body["fields"]] == [["query", name] for name in unknown]
    assert all(f["type"] == "unknown_parameter" for f in body["fields"])
    assert all(name in body["detail"] for name in unknown), body["detail"]


async def test_unknown_parameters_are_refused_on_writes_and_unauthenticated_routes(
    api: Api,
) -> None:
    health = await api.http.get("/health", params={"verbose": "1"})
    assert health.status_code == 422 and health.json()["fields"][0]["loc"] == ["query", "verbose"]
    wid = (await api.parked())["workflow_id"]
    r = await api.http.post(
        f"/workflows/{wid}/approve", params={"force": "true"}, json={}, headers=api.auth()
    )
    assert r.status_code == 422 and r.json()["fields"][0]["loc"] == ["query", "force"], r.text
    # Refused before the route ran: nothing was decided.
    assert (await api.get(wid))["state"] == "awaiting_approval"
    # The parameters a route declares still work, aliases included (`state` for run_state).
    listed = await api.http.get(
        "/workflows", params={"state": "awaiting_approval", "page_size": 1}, headers=api.auth()
    )
    assert listed.status_code == 200, listed.text


async def test_every_timestamp_is_utc_with_z(api: Api) -> None:
    """On both databases: SQLite hands naive datetimes back, PostgreSQL aware ones."""
    parked = await api.parked()
    wid = parked["workflow_id"]
    admin = api.auth("super_admin")
    assert _all_z(parked) == []
    params: dict[str, str]
    for path, params in [
        ("/workflows", {}),
        ("/approvals", {}),
    ]:
        r = await api.http.get(path, params=params, headers=admin)
        assert r.status_code == 200, r.text
        assert _all_z(r.json()) == [], path

    changed = await api.http.put(
        "/workflows/policies/lead_scoring",
        json={"tenant": api.tenant, "approval_timeout_seconds": 3600},
        headers=admin,
    )
    assert changed.status_code == 200, changed.text
    changes = await api.http.get(
        "/workflows/policies/changes", params={"tenant": api.tenant}, headers=admin
    )
    assert _all_z(changes.json()) == []

    decided = await api.decide(wid, comment="fine")
    assert decided.status_code == 200, decided.text
    assert _all_z(decided.json()) == []
    assert _all_z(await api.wait_state(wid, "completed")) == []
    audit = await api.http.get("/audit", params={"workflow_id": wid}, headers=admin)
    assert audit.json()["items"] and _all_z(audit.json()) == []

    other = (await api.parked())["workflow_id"]
    canceled = await api.http.post(f"/workflows/{other}/cancel", headers=admin)
    assert canceled.status_code == 202, canceled.text
    assert _all_z(canceled.json()) == []
    insights = await api.http.get(
        "/insights/decisions", params={"since": "2026-01-01T00:00:00+02:00"}, headers=admin
    )
    assert insights.json()["since"] == "2025-12-31T22:00:00Z", insights.text


async def test_errors_have_one_shape_with_a_text_detail(api: Api) -> None:
    wid = (await api.parked())["workflow_id"]
    refusals = [
        await api.http.get("/workflows"),  # 401
        await api.http.get("/ops/failed", headers=api.auth("viewer")),  # 403
        await api.http.get("/workflows/lead_scoring:nope:1", headers=api.auth()),  # 404
        await api.decide(wid, edits={"score": "high"}),  # 422 from the gate's validator
        await api.http.get("/workflows", params={"page_size": "x"}, headers=api.auth()),  # 422
    ]
    await api.decide(wid, sub="first")
    refusals.append(await api.decide(wid, sub="second"))  # 409
    assert [r.status_code for r in refusals] == [401, 403, 404, 422, 422, 409]
    for r in refusals:
        body = r.json()
        assert isinstance(body["error"], str) and isinstance(body["detail"], str), body
        assert body["detail"], body
        if r.status_code == 422:
            assert set(body) == {"error", "detail", "fields"}
            for field in body["fields"]:
                assert set(field) == {"loc", "msg", "type"}
                # The text names the first failing field, so a person reading it knows.
            first = ".".join(map(str, body["fields"][0]["loc"]))
            assert first in body["detail"], body
        else:
            assert set(body) == {"error", "detail"}, body
