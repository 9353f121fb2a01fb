"""Tenant isolation that does not rest on query filters (SPEC §4): on PostgreSQL every request
acts as its caller's tenant under row-level security, and a run's activities as the run's.
SQLite has no row-level security: these tests run on PostgreSQL only."""

from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import col

from api import queries
from models.tables import DecisionRow, RunRow
from processes.lead_scoring import LeadRow
from store.tenancy import tenant_scope
from tests.api.support import Api, new_tenant


@pytest.fixture(autouse=True)
def _postgres_only(api: Api) -> None:
    if api.state.engine.dialect.name != "postgresql":
        pytest.skip("row-level security is PostgreSQL's")


async def _unfiltered_list_runs(
    sessions: queries.Sessions, tenant: str, *, page_size: int, **_: Any
) -> tuple[list[RunRow], None]:
    """``queries.list_runs`` as if someone had dropped its tenant filter."""
    stmt = select(RunRow).order_by(col(RunRow.created_at).desc()).limit(page_size)
    async with sessions() as session:
        return list((await session.execute(stmt)).scalars()), None


async def test_listing_never_shows_another_tenants_runs_even_without_the_filter(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = new_tenant()
    mine = (await api.parked())["workflow_id"]
    theirs = (await api.parked(tenant=other))["workflow_id"]
    monkeypatch.setattr(queries, "list_runs", _unfiltered_list_runs)

    async def listed(role: str, tenant: str) -> set[str]:
        params = {"page_size": 200}
        r = await api.http.get("/workflows", params=params, headers=api.auth(role, tenant))
        assert r.status_code == 200, r.text
        items = r.json()["items"]
        assert {w["tenant"] for w in items} <= {tenant} or role == "super_admin"
        return {w["workflow_id"] for w in items}

    assert mine in await listed("viewer", api.tenant)
    assert theirs not in await listed("viewer", api.tenant)
    assert theirs in await listed("viewer", other)
    assert mine not in await listed("admin", other)
    # A super admin's requests take the explicit bypass: it sees both.
    assert {mine, theirs} <= await listed("super_admin", api.tenant)


async def test_a_request_without_a_token_sees_no_tenant(api: Api) -> None:
    # The test process itself acts as every tenant; a request must not inherit that.
    await api.parked()
    r = await api.http.get("/workflows", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401
    seen: list[str] = []

    async def probe() -> None:
        async with api.state.sessions() as session:
            seen.extend((await session.execute(select(col(RunRow.tenant)))).scalars())

    app = api.http._transport.app  # type: ignore[attr-defined]
    app.add_api_route("/api/brain/probe", probe, methods=["GET"])
    assert (await api.http.get("/probe")).status_code == 200
    assert seen == []


async def test_a_run_goes_end_to_end_and_its_rows_stay_its_tenants(api: Api) -> None:
    """Start, park, approve, apply: every step's activity acts as the run's tenant."""
    wid = (await api.parked())["workflow_id"]
    r = await api.decide(wid, sub="alice", role="approver")
    assert r.status_code == 200, r.text
    done = await api.wait_state(wid, "completed")
    assert done["result"]["tier"] == "hot"

    async def rows(tenant: str) -> dict[str, int]:
        found = {}
        with tenant_scope(tenant):
            async with api.state.sessions() as session:
                for table in (RunRow, DecisionRow, LeadRow):
                    stmt = select(table).where(col(table.workflow_id) == wid)
                    found[table.__tablename__] = len((await session.execute(stmt)).all())
        return found

    assert await rows(api.tenant) == {"runs": 1, "decisions": 1, "leads": 1}
    assert await rows(new_tenant()) == {"runs": 0, "decisions": 0, "leads": 0}
