"""A process from another package, end to end: the plugin under ``brain-returns/`` is
``pip install``ed beside Brain (package.py) and ``brain up`` runs with it on its path, on
PostgreSQL, as a company would run its own process without forking Brain.

One run through both of its declared gates: started over REST, parked at ``support``,
approved, parked at ``finance`` (the refund is over the finance policy's ``amount_over``),
approved, applied (its row, written once, in its own table, created by its own migration
under row-level security) and audited per gate; then ``brain replay-check`` replays the
run's history with the plugin's workflow class."""

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import text

from store.db import make_engine
from store.scratch import scratch_postgres
from tests.cli.conftest import clean_env
from tests.cli.up import Up, brain_up
from tests.conftest import PG_ADMIN_DSN
from tests.plugins.package import NAME, TABLE, env_with
from tests.polling import eventually

pytestmark = pytest.mark.postgres

# Parks at finance too: the unsure example refunds 89.0.
AMOUNT_OVER = 50


@pytest_asyncio.fixture(scope="module")
async def stack(
    plugin_site: Path, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[Up, str]]:
    """``brain up`` with the plugin installed, on a PostgreSQL database of its own."""
    cwd = tmp_path_factory.mktemp("plugin-up")
    async with scratch_postgres("brain_plugin", PG_ADMIN_DSN) as url:
        base = clean_env(home=str(cwd / ".brain"), redis_url="", database_url=url)
        async with brain_up(cwd, env_with(plugin_site, base)) as up:
            yield up, url


def _api(up: Up) -> httpx.AsyncClient:
    variables = up.variables()
    return httpx.AsyncClient(
        base_url=variables["BRAIN"],
        headers={"Authorization": f"Bearer {variables['TOKEN']}"},
        timeout=30,
    )


async def _parked_at(http: httpx.AsyncClient, workflow_id: str, gate: str) -> dict[str, Any]:
    async def parked() -> dict[str, Any] | None:
        view = (await http.get(f"/workflows/{workflow_id}")).json()
        approval = view.get("approval") or {}
        ready = view["state"] == "awaiting_approval" and approval.get("gate") == gate
        return view if ready else None

    found: dict[str, Any] = await eventually(parked, within=60)
    return found


async def test_a_plugin_process_runs_end_to_end(stack: tuple[Up, str]) -> None:
    up, url = stack
    example = await up.brain("example", NAME, "unsure")
    assert example.code == 0, example.err
    async with _api(up) as http:
        policies = (await http.get("/workflows/policies")).json()["items"]
        gates = [p["gate"] for p in policies if p["process"] == NAME and p["tenant"] == "*"]
        assert gates == ["support", "finance"], policies
        finance = await http.put(
            f"/workflows/policies/{NAME}", params={"gate": "finance"},
            json={"amount_over": AMOUNT_OVER},
        )  # fmt: skip
        assert finance.status_code == 200, finance.text

        started = await http.post(f"/workflows/{NAME}", json=example.json())
        assert started.status_code == 201, started.text
        workflow_id = started.json()["workflow_id"]
        assert workflow_id.startswith(f"{NAME}:")

        view = await _parked_at(http, workflow_id, "support")
        assert view["approval"]["confidence"] < view["approval"]["threshold"]
        inbox = (await http.get("/approvals", params={"process": NAME})).json()["items"]
        assert [a["workflow_id"] for a in inbox] == [workflow_id]
        approved = await http.post(f"/workflows/{workflow_id}/approve", json={"comment": "ok"})
        assert approved.status_code == 200, approved.text

        await _parked_at(http, workflow_id, "finance")
        approved = await http.post(f"/workflows/{workflow_id}/approve", json={})
        assert approved.status_code == 200, approved.text

        async def completed() -> dict[str, Any] | None:
            view = (await http.get(f"/workflows/{workflow_id}")).json()
            return view if view["state"] == "completed" else None

        done = await eventually(completed, within=60)
        assert done["result"]["resolution"] == "refund"
        assert done["result"]["refund_amount"] == 89.0

        audit = (await http.get("/audit", params={"process": NAME})).json()["items"]
        assert sorted((a["gate"], a["decision"], a["workflow_id"]) for a in audit) == [
            ("finance", "approve", workflow_id),
            ("support", "approve", workflow_id),
        ]

    assert await _rows_and_security(url, workflow_id) == (
        [("refund", 89.0, "A-1002")],
        True,
    )

    replayed = await up.brain("replay-check", "--workflow-id", workflow_id)
    assert replayed.code == 0, replayed.out + replayed.err
    report = json.loads(replayed.out)
    assert report["checked"] == 1 and report["results"][0]["ok"], replayed.out


async def _rows_and_security(url: str, workflow_id: str) -> tuple[list[Any], bool]:
    """The applied rows, read as the tables' owner, and whether RLS guards the table."""
    engine = make_engine(url, app_role=False)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                text(
                    f"SELECT resolution, refund_amount, order_id FROM {TABLE} "
                    "WHERE workflow_id = :id"
                ),
                {"id": workflow_id},
            )
            rls = await conn.scalar(
                text("SELECT relrowsecurity FROM pg_class WHERE relname = :t"), {"t": TABLE}
            )
        return [tuple(r) for r in rows], bool(rls)
    finally:
        await engine.dispose()
