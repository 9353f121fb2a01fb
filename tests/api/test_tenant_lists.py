"""Lists and the inbox cover the caller's tenant; a super admin may name another tenant, or
`*` for every tenant (SPEC §4). Anyone else naming another tenant is refused."""

from typing import Any

from tests.api.support import Api, new_tenant


async def _ids(api: Api, path: str, role: str, **params: str) -> set[str]:
    r = await api.http.get(path, params=params, headers=api.auth(role))
    assert r.status_code == 200, r.text
    return {item["workflow_id"] for item in r.json()["items"]}


async def test_a_super_admin_lists_any_tenant_and_every_tenant(api: Api) -> None:
    api.script("lead_scoring", confidence=0.6)
    other = new_tenant()
    mine = (await api.parked("lead_scoring"))["workflow_id"]
    theirs = (await api.parked("lead_scoring", tenant=other))["workflow_id"]
    for path in ("/workflows", "/approvals"):
        assert mine in await _ids(api, path, "super_admin")
        assert theirs not in await _ids(api, path, "super_admin")
        assert await _ids(api, path, "super_admin", tenant=other) == {theirs}
        everyone = await _ids(api, path, "super_admin", tenant="*", page_size="200")
        assert {mine, theirs} <= everyone
    r = await api.decide(theirs, "reject", role="super_admin")
    assert r.status_code == 200, r.text
    await api.wait_state(theirs, "rejected", tenant=other)  # recorded with its audit row
    assert await _ids(api, "/audit", "super_admin", tenant=other) == {theirs}
    assert theirs not in await _ids(api, "/audit", "super_admin")


async def test_anyone_else_naming_another_tenant_is_refused(api: Api) -> None:
    for role in ("viewer", "approver", "admin"):
        for path in ("/workflows", "/approvals", "/audit"):
            r = await api.http.get(path, params={"tenant": "*"}, headers=api.auth(role))
            assert r.status_code == 403, (role, path, r.text)
            own: dict[str, Any] = {"tenant": api.tenant}
            r = await api.http.get(path, params=own, headers=api.auth(role))
            assert r.status_code == 200, (role, path, r.text)


async def test_a_run_under_the_global_tenant_is_refused(api: Api) -> None:
    """`*` names the global policies; a run under it would act as every tenant."""
    from api.auth import mint_token
    from tests.support import SECRET

    token = mint_token("root", "*", "super_admin", 600, SECRET)
    r = await api.http.post(
        "/workflows/lead_scoring",
        json={"lead": {"name": "A", "email": "a@b.example", "company": "C"}},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 403, r.text
    assert "one tenant" in r.json()["detail"]
