"""``GET /workflows/policies/changes`` (SPEC §2, §4): who changed which policy, when, from
what to what; an admin sees its tenant's changes and the global ones, a super admin any."""

from typing import Any

from models.hitl import PolicyFields
from models.processes import Process
from tests.api.support import Api, new_tenant

CHANGES = "/workflows/policies/changes"


async def _log(api: Api, role: str = "admin", **params: Any) -> Any:
    """The log as ``role`` of the test's tenant sees it; ``params`` are query parameters."""
    r = await api.http.get(CHANGES, params=params, headers=api.auth(role))
    assert r.status_code == 200, r.text
    return r.json()


async def _changes(api: Api) -> tuple[str, int]:
    """Three changes of the test's tenant, one of another tenant, one of a global row (to a
    value it already has: the global rows are shared by every test of the session)."""
    store = api.state.policies
    other = new_tenant()
    await store.set(
        Process("lead_scoring"), api.tenant, PolicyFields(min_approvals=2), changed_by="root"
    )
    await store.set(
        Process("lead_scoring"), other, PolicyFields(min_approvals=4), changed_by="root"
    )
    await store.set(
        Process("content_generation"), "*", PolicyFields(on_timeout="reject"), changed_by="root"
    )
    await store.set(
        Process("lead_scoring"),
        api.tenant,
        PolicyFields(min_approvals=3, remind_every_seconds=60),
        changed_by="ops",
    )
    last = await store.set(
        Process("product_sourcing"),
        api.tenant,
        PolicyFields(requester_may_approve=False),
        changed_by="ops",
    )
    return other, last.version


async def test_an_admin_sees_its_tenant_and_the_global_changes_newest_first(api: Api) -> None:
    _, version = await _changes(api)
    items = (await _log(api))["items"]
    assert {i["tenant"] for i in items} <= {api.tenant, "*"}
    mine = [i for i in items if i["tenant"] == api.tenant]
    assert [(i["process"], i["changed_by"]) for i in mine] == [
        ("product_sourcing", "ops"),
        ("lead_scoring", "ops"),
        ("lead_scoring", "root"),
    ]
    newest = mine[0]
    assert newest["version"] == version
    assert (newest["old"], newest["new"]) == (
        {"requester_may_approve": None},
        {"requester_may_approve": False},
    )
    assert mine[1]["old"] == {"min_approvals": 2, "remind_every_seconds": None}
    assert mine[1]["new"] == {"min_approvals": 3, "remind_every_seconds": 60}
    assert any(i["tenant"] == "*" and i["process"] == "content_generation" for i in items)
    ids = [i["id"] for i in items]
    assert ids == sorted(ids, reverse=True)

    only_mine = (await _log(api, tenant=api.tenant))["items"]
    assert only_mine == mine
    narrowed = (await _log(api, tenant=api.tenant, process="lead_processing"))["items"]
    assert [i["changed_by"] for i in narrowed] == ["ops", "root"]
    globals_only = (await _log(api, tenant="*"))["items"]
    assert globals_only and {i["tenant"] for i in globals_only} == {"*"}


async def test_an_admin_may_not_read_another_tenants_changes(api: Api) -> None:
    other, _ = await _changes(api)
    r = await api.http.get(CHANGES, params={"tenant": other}, headers=api.auth("admin"))
    assert r.status_code == 403 and r.json()["error"] == "Forbidden"
    # Their own admin sees them, and not this tenant's.
    r = await api.http.get(CHANGES, headers=api.auth("admin", tenant=other))
    theirs = r.json()["items"]
    assert api.tenant not in {i["tenant"] for i in theirs}
    assert any(i["tenant"] == other for i in theirs)


async def test_a_super_admin_reads_any_tenant(api: Api) -> None:
    other, _ = await _changes(api)
    everything = (await _log(api, "super_admin", page_size=200))["items"]
    assert {api.tenant, other, "*"} <= {i["tenant"] for i in everything}
    theirs = (await _log(api, "super_admin", tenant=other))["items"]
    assert [(i["tenant"], i["new"]) for i in theirs] == [(other, {"min_approvals": 4})]
    globals_only = (await _log(api, "super_admin", tenant="*"))["items"]
    assert {i["tenant"] for i in globals_only} == {"*"}


async def test_pages_never_skip_or_repeat(api: Api) -> None:
    await _changes(api)
    expected = [i["id"] for i in (await _log(api, tenant=api.tenant))["items"]]
    seen, token = [], None
    while True:
        params: dict[str, Any] = {"tenant": api.tenant, "page_size": 2}
        if token:
            params["page_token"] = token
        page = await _log(api, **params)
        seen += [i["id"] for i in page["items"]]
        token = page["next_page_token"]
        if token is None:
            break
    assert seen == expected and len(seen) == 3
    bad = await api.http.get(
        CHANGES, params={"page_token": "not-a-token"}, headers=api.auth("admin")
    )
    assert bad.status_code == 422
    unknown = await api.http.get(
        CHANGES, params={"process": "astrology"}, headers=api.auth("admin")
    )
    assert unknown.status_code == 422
