"""Reads from the runs and decisions tables: one run, lists, filters, paging, tenants."""

import pytest

from tests.api.support import Api, new_tenant


async def test_get_workflow_has_the_spec_fields(api: Api) -> None:
    run = await api.parked()
    for field in (
        "workflow_id", "process", "tenant", "state", "proposal", "confidence", "approval",
        "decision", "result",
    ):  # fmt: skip
        assert field in run
    assert run["proposal"]["score"] == 82 and run["confidence"] == 0.95
    assert run["approval"]["hitl_enabled"] is True and run["decision"] is None


async def test_list_workflows_newest_first_with_paging(api: Api) -> None:
    started = [(await api.start())["workflow_id"] for _ in range(5)]
    seen: list[str] = []
    token = None
    while True:
        params = {"page_size": 2, **({"page_token": token} if token else {})}
        page = (await api.http.get("/workflows", params=params, headers=api.auth("viewer"))).json()
        seen += [w["workflow_id"] for w in page["items"]]
        token = page["next_page_token"]
        if token is None:
            break
    assert seen == started[::-1]


async def test_list_filters(api: Api) -> None:
    lead = (await api.parked())["workflow_id"]
    api.script("content_generation")
    content = (await api.start("content_generation"))["workflow_id"]
    await api.wait_state(content, "completed")
    viewer = api.auth("viewer")

    async def ids(**params: str) -> list[str]:
        r = await api.http.get("/workflows", params=params, headers=viewer)
        assert r.status_code == 200, r.text
        return [w["workflow_id"] for w in r.json()["items"]]

    assert await ids(process="lead_scoring") == [lead]
    assert await ids(process="lead_processing") == [lead]  # seed alias
    assert await ids(state="completed") == [content]
    assert await ids(process="content_generation", state="awaiting_approval") == []


@pytest.mark.parametrize(
    "params",
    [
        {"process": "astrology"},
        {"state": "sleeping"},
        {"process": "lead_scoring' OR 1=1 --"},
        {"page_size": "0"},
        {"page_size": "1000"},
        {"page_token": "not-a-token"},
        {"page_token": "WzFd"},  # a valid encoding of the wrong key
    ],
)
async def test_bad_list_parameters_are_422(api: Api, params: dict[str, str]) -> None:
    r = await api.http.get("/workflows", params=params, headers=api.auth("viewer"))
    assert r.status_code == 422, r.text
    assert r.json()["error"] == "ValidationFailed" and r.json()["fields"][0]["loc"][0] == "query"


async def test_approvals_inbox_oldest_first(api: Api) -> None:
    first = (await api.parked())["workflow_id"]
    second = (await api.parked())["workflow_id"]
    r = await api.http.get("/approvals", headers=api.auth("viewer"))
    items = r.json()["items"]
    assert [a["workflow_id"] for a in items] == [first, second]
    assert items[0]["approval_id"] == first + ":1" and items[0]["tenant"] == api.tenant
    paged = await api.http.get("/approvals", params={"page_size": 1}, headers=api.auth("viewer"))
    token = paged.json()["next_page_token"]
    rest = await api.http.get(
        "/approvals", params={"page_size": 1, "page_token": token}, headers=api.auth("viewer")
    )
    assert [a["workflow_id"] for a in rest.json()["items"]] == [second]
    other = await api.http.get(
        "/approvals", params={"process": "product_sourcing"}, headers=api.auth("viewer")
    )
    assert other.json()["items"] == []
    bad = await api.http.get("/approvals", params={"process": "x"}, headers=api.auth("viewer"))
    assert bad.status_code == 422


async def test_audit_filters_and_tenancy(api: Api) -> None:
    wid = (await api.parked())["workflow_id"]
    assert (await api.decide(wid, sub="alice")).status_code == 200
    await api.wait_state(wid, "completed")
    mine = await api.http.get(
        "/audit", params={"process": "lead_scoring"}, headers=api.auth("viewer")
    )
    [entry] = mine.json()["items"]
    assert entry["workflow_id"] == wid and entry["approval_id"] == wid + ":1"
    fields = ("run_id", "tenant", "confidence", "threshold", "hitl_enabled", "original_proposal")
    for field in (*fields, "edits", "final_proposal", "decided_at", "channel", "actor"):
        assert field in entry
    theirs = await api.http.get(
        "/audit", params={"workflow_id": wid}, headers=api.auth("viewer", new_tenant())
    )
    assert theirs.json()["items"] == []
    assert (
        await api.http.get("/audit", params={"process": "?"}, headers=api.auth("viewer"))
    ).status_code == 422


ID_PATHS = [
    ("GET", "/workflows/{id}", "viewer", None),
    ("POST", "/workflows/{id}/approve", "approver", {}),
    ("POST", "/workflows/{id}/reject", "approver", {"comment": "x"}),
    ("POST", "/workflows/{id}/cancel", "operator", None),
]


@pytest.mark.parametrize(("method", "path", "role", "body"), ID_PATHS)
async def test_another_tenants_run_is_404_like_a_missing_one(
    api: Api, method: str, path: str, role: str, body: dict | None
) -> None:
    wid = (await api.parked())["workflow_id"]
    stranger = api.auth(role, new_tenant())
    theirs = await api.http.request(method, path.format(id=wid), json=body, headers=stranger)
    missing_id = wid.replace(api.tenant, "t-nobody")
    missing = await api.http.request(
        method, path.format(id=missing_id), json=body, headers=stranger
    )
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json()["error"] == missing.json()["error"] == "WorkflowNotFound"
    assert set(theirs.json()) == set(missing.json())
    # Nothing happened to the run; its own tenant still sees it parked.
    assert (await api.get(wid))["state"] == "awaiting_approval"


async def test_a_super_admin_of_another_tenant_may_act(api: Api) -> None:
    wid = (await api.parked())["workflow_id"]
    root = api.auth("super_admin", new_tenant(), sub="root")
    assert (await api.http.get(f"/workflows/{wid}", headers=root)).status_code == 200
    r = await api.http.post(f"/workflows/{wid}/approve", json={}, headers=root)
    assert r.status_code == 200 and r.json()["actor"] == "root"
