"""PostgreSQL "stopped" for 20 s while runs park and decisions arrive (issue 10): the API
answers 503 at once (reads, decisions, starts; /health says the database is down), nothing
is lost, and once the database is back every decision applies exactly once."""

import asyncio
import time
from collections.abc import Awaitable
from typing import Any

import httpx
import pytest

from processes.lead_scoring import LeadRow
from tests.api.support import BODIES
from tests.faults.conftest import Proxied
from tests.support import eventually
from workflows.lead_scoring_workflow import LeadScoringWorkflow

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
    start_headers = {**api.auth("operator"), "Idempotency-Key": "during-the-outage"}

    async def start_during() -> httpx.Response:
        return await api.http.post(
            "/workflows/lead_scoring", json=BODIES["lead_scoring"], headers=start_headers
        )

    await proxy.down()
    down_at = time.monotonic()
    # A signal is accepted durably whatever the database: it decides now, applies later.
    await api.brain.client.get_workflow_handle(ops_s).signal(
        LeadScoringWorkflow.approve, {"by": "ops"}
    )
    # A start reaches Temporal, but its row cannot be written: 503, and the retry with the
    # same key later finds the very same run.
    _unavailable(await _timed(start_during()))
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
    started = await _until_answered(start_during, 200, 201)
    dave_s = started.json()["workflow_id"]
    await api.wait_state(dave_s, "awaiting_approval", within=60)
    assert (await api.decide(dave_s, sub="dave")).status_code == 200
    assert (await start_during()).json()["workflow_id"] == dave_s

    expected = {
        alice_s: ("alice", "approve"),
        ops_s: ("ops", "approve"),
        bob_s: ("bob", "approve"),
        carol_s: ("carol", "reject"),
        dave_s: ("dave", "approve"),
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
