"""PostgreSQL "stopped" for 20 s while runs park and decisions arrive (issue 10): the API
answers 503 at once (reads and decisions; /health says the database is down), a start
answers 201 (its run has started and writes its row later), nothing is lost, and once the
database is back every decision applies exactly once."""

import asyncio
import time
from collections.abc import Awaitable
from typing import Any

import httpx
import pytest

from processes.lead_scoring import LeadRow
from tests.api.support import BODIES, Api
from tests.faults.conftest import Proxied
from tests.support import eventually
from workflows.process_workflow import LeadScoringWorkflow

pytestmark = pytest.mark.postgres

OUTAGE_SECONDS = 20.0
# The API's own timeouts are 10 s (database connect, a worker's confirmation): a 503 must
# come well before either.
FAST = 3.0


async def _timed(call: Awaitable[httpx.Response]) -> httpx.Response:
    began = time.monotonic()
    r = await call
    took = time.monotonic() - began
    assert took < FAST, f"{r.request.method} {r.request.url.path} took {took:.1f} s"
    return r


def _unavailable(r: httpx.Response) -> None:
    assert r.status_code == 503, r.text
    assert r.json()["error"] == "Unavailable" and r.headers.get("Retry-After")


async def _until_answered(call: Any, *ok: int) -> httpx.Response:
    """Retry a request the way a client does after a 503, until it is answered."""

    async def answered() -> httpx.Response | None:
        r = await call()
        return r if r.status_code in ok else None

    return await eventually(answered, within=60)


async def test_postgres_down_for_20_seconds_loses_nothing(proxied: Proxied) -> None:
    api, proxy = proxied.api, proxied.proxy
    alice_s, ops_s, bob_s, carol_s = [(await api.parked())["workflow_id"] for _ in range(4)]
    keyed = {**api.auth("operator"), "Idempotency-Key": "during-the-outage"}

    async def start_during(headers: dict[str, str] = keyed) -> httpx.Response:
        return await api.http.post(
            "/workflows/lead_scoring", json=BODIES["lead_scoring"], headers=headers
        )

    await proxy.down()
    down_at = time.monotonic()
    # A signal is accepted durably whatever the database: it decides now, applies later.
    await api.brain.client.get_workflow_handle(ops_s).signal(
        LeadScoringWorkflow.approve, {"by": "ops"}
    )
    # A start reaches Temporal, though its row cannot be written: the run has started, so
    # the answer says so (an error would have the client retry and start a second run).
    started = [await _timed(start_during()), await _timed(start_during(api.auth("operator")))]
    assert [r.status_code for r in started] == [201, 201], [r.text for r in started]
    dave_s, erin_s = (r.json()["workflow_id"] for r in started)
    checks = 0
    while time.monotonic() - down_at < OUTAGE_SECONDS:
        _unavailable(await _timed(api.http.get(f"/workflows/{alice_s}", headers=api.auth())))
        _unavailable(await _timed(api.http.get("/approvals", headers=api.auth("viewer"))))
        _unavailable(await _timed(api.decide(alice_s, sub="alice")))
        _unavailable(await _timed(api.decide(carol_s, "reject", sub="carol")))
        health = await _timed(api.http.get("/health"))
        assert health.status_code == 503 and health.json()["database"] == "down", health.text
        assert health.json()["temporal"] == "up"
        checks += 1
        await asyncio.sleep(1.0)
    assert checks >= 3
    row = await proxied.run_row(ops_s)
    assert row is not None and row.state == "awaiting_approval"
    await proxy.up()

    # The same requests again, as clients retry a 503.
    alice = await _until_answered(lambda: api.decide(alice_s, sub="alice"), 200)
    bob = await _until_answered(lambda: api.decide(bob_s, sub="bob"), 200)
    carol = await _until_answered(lambda: api.decide(carol_s, "reject", sub="carol"), 200)
    assert (alice.json()["actor"], bob.json()["actor"]) == ("alice", "bob")
    assert carol.json()["action"] == "reject"
    # The runs started blind park once their first step can write their row.
    for workflow_id, who in ((dave_s, "dave"), (erin_s, "erin")):
        await eventually(_parked(api, workflow_id), within=60)
        assert (await api.decide(workflow_id, sub=who)).status_code == 200
    again = await start_during()
    assert (again.status_code, again.json()["workflow_id"]) == (200, dave_s)

    expected = {
        alice_s: ("alice", "approve"),
        ops_s: ("ops", "approve"),
        bob_s: ("bob", "approve"),
        carol_s: ("carol", "reject"),
        dave_s: ("dave", "approve"),
        erin_s: ("erin", "approve"),
    }
    for workflow_id, (actor, action) in expected.items():
        final = "completed" if action == "approve" else "rejected"
        # The signalled run's apply step retried through the outage, backing off: allow it.
        await api.wait_state(workflow_id, final, within=60)
        [audit] = await proxied.audit(workflow_id)
        assert (audit.actor, audit.decision) == (actor, action)
        rows = await api.brain.rows(LeadRow, workflow_id)
        assert len(rows) == (1 if action == "approve" else 0)
    listed = await api.http.get("/workflows", headers=api.auth("viewer"))
    assert sorted(w["workflow_id"] for w in listed.json()["items"]) == sorted(expected)


def _parked(api: Api, workflow_id: str) -> Any:
    """A run started while the database was away: no row (404) until its first step wrote
    one, then parked."""

    async def check() -> bool:
        r = await api.http.get(f"/workflows/{workflow_id}", headers=api.auth())
        assert r.status_code in (200, 404), r.text
        return r.status_code == 200 and r.json()["state"] == "awaiting_approval"

    return check
