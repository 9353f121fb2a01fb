"""Starting runs: per-process bodies, aliases, 422s that start nothing, idempotency."""

import copy
from typing import Any

import pytest

from tests.api.support import BODIES, Api, new_tenant


@pytest.mark.parametrize("process", sorted(BODIES))
async def test_start_each_process(api: Api, process: str) -> None:
    api.script(process)
    started = await api.start(process)
    assert started["process"] == process and started["state"] == "running"
    assert started["workflow_id"].startswith(f"{process}:{api.tenant}:") and started["run_id"]
    run = await api.wait_state(started["workflow_id"], "awaiting_approval", "completed")
    assert run["tenant"] == api.tenant and run["process"] == process


@pytest.mark.parametrize(
    ("alias", "process"),
    [("lead_processing", "lead_scoring"), ("campaign_optimization", "campaign_tuning")],
)
async def test_seed_aliases_start_the_process(api: Api, alias: str, process: str) -> None:
    r = await api.http.post(
        f"/workflows/{alias}", json=BODIES[process], headers=api.auth("operator")
    )
    assert r.status_code == 201 and r.json()["process"] == process


async def test_unknown_process_is_404(api: Api) -> None:
    r = await api.http.post("/workflows/astrology", json={}, headers=api.auth("operator"))
    assert r.status_code == 404 and r.json()["error"] == "UnknownProcess"


def _with(process: str, path: list[Any], value: Any) -> dict[str, Any]:
    body = copy.deepcopy(BODIES[process])
    target = body
    for part in path[:-1]:
        target = target[part]
    if value is _DROP:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return body


_DROP = object()
INVALID = [
    ("lead_scoring", ["lead", "email"], "not-an-email"),
    ("lead_scoring", ["lead", "name"], _DROP),
    ("lead_scoring", ["lead", "company_size"], 0),
    ("lead_scoring", ["lead", "source"], "carrier-pigeon"),
    ("product_sourcing", ["quantity"], 0),
    ("product_sourcing", ["suppliers"], []),
    ("product_sourcing", ["suppliers", 0, "rating"], 6),
    ("product_sourcing", ["max_unit_price"], -1),
    ("campaign_tuning", ["total_budget"], 0),
    ("campaign_tuning", ["channels"], []),
    ("campaign_tuning", ["channels", 0, "spend"], -5),
    ("content_generation", ["brief", "length_words"], 10),
    ("content_generation", ["brief", "channel"], "fax"),
    ("content_generation", ["brief", "topic"], _DROP),
]


@pytest.mark.parametrize(("process", "path", "value"), INVALID)
async def test_invalid_input_is_422_naming_the_field_and_starts_nothing(
    api: Api, process: str, path: list[Any], value: Any
) -> None:
    tenant = new_tenant()
    r = await api.http.post(
        f"/workflows/{process}",
        json=_with(process, path, value),
        headers=api.auth("operator", tenant),
    )
    assert r.status_code == 422, r.text
    assert r.json()["error"] == "ValidationFailed"
    assert any(e["loc"][: len(path) + 1] == ["body", *path] for e in r.json()["fields"]), r.text
    listed = await api.http.get("/workflows", headers=api.auth("viewer", tenant))
    assert listed.json()["items"] == []


@pytest.mark.parametrize("process", sorted(BODIES))
async def test_a_tenant_in_the_body_is_refused(api: Api, process: str) -> None:
    body = {**BODIES[process], "tenant": "someone-else"}
    r = await api.http.post(f"/workflows/{process}", json=body, headers=api.auth("operator"))
    assert r.status_code == 422
    assert ["body", "tenant"] in [e["loc"] for e in r.json()["fields"]]


async def test_malformed_json_is_422(api: Api) -> None:
    r = await api.http.post(
        "/workflows/lead_scoring",
        content=b"{not json",
        headers={**api.auth("operator"), "Content-Type": "application/json"},
    )
    assert r.status_code == 422 and r.json()["error"] == "ValidationFailed"


async def test_idempotent_start(api: Api) -> None:
    first = await api.start(key="order-42")
    r = await api.http.post(
        "/workflows/lead_scoring",
        json=BODIES["lead_scoring"],
        headers={**api.auth("operator"), "Idempotency-Key": "order-42"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["workflow_id"] == first["workflow_id"]
    assert r.json()["run_id"] == first["run_id"]

    # Also after the run has closed: the same run, never a second one.
    wid = first["workflow_id"]
    await api.wait_state(wid, "awaiting_approval")
    assert (await api.decide(wid)).status_code == 200
    await api.wait_state(wid, "completed")
    r = await api.http.post(
        "/workflows/lead_scoring",
        json=BODIES["lead_scoring"],
        headers={**api.auth("operator"), "Idempotency-Key": "order-42"},
    )
    assert r.status_code == 200 and r.json()["workflow_id"] == wid
    assert r.json()["state"] == "completed"

    other = _with("lead_scoring", ["lead", "name"], "Grace Hopper")
    r = await api.http.post(
        "/workflows/lead_scoring",
        json=other,
        headers={**api.auth("operator"), "Idempotency-Key": "order-42"},
    )
    assert r.status_code == 422 and r.json()["error"] == "IdempotencyKeyReused"
    listed = await api.http.get("/workflows", headers=api.auth("viewer"))
    assert [w["workflow_id"] for w in listed.json()["items"]] == [wid]


async def test_idempotency_keys_are_per_tenant(api: Api) -> None:
    mine = await api.start(key="k1")
    theirs = await api.start(key="k1", tenant=new_tenant())
    assert mine["workflow_id"] != theirs["workflow_id"]


@pytest.mark.parametrize("key", ["has space", "a/b", "x" * 201])
async def test_unsafe_idempotency_key_is_422(api: Api, key: str) -> None:
    r = await api.http.post(
        "/workflows/lead_scoring",
        json=BODIES["lead_scoring"],
        headers={**api.auth("operator"), "Idempotency-Key": key},
    )
    assert r.status_code == 422
