"""Redis stopped (issue 10): the API keeps working, reads, starts, decisions and policy
changes, at its usual speed, and /health says it is degraded. The shared Redis is left
alone: one case points the API at a port where nothing listens, the other runs a Redis of
its own and SIGKILLs it mid-use."""

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable

import httpx
import pytest
import pytest_asyncio

from core.redis import make_redis
from tests.api.conftest import close_api, open_api
from tests.api.support import Api
from tests.cli.procs import free_ports
from tests.faults.conftest import api_settings
from tests.support import Brain, eventually

# Once is enough: Redis is the part under test; the database is the session's SQLite.
pytestmark = pytest.mark.parametrize("database", ["sqlite"], indirect=True)

# Redis calls time out after 0.5 s and a failed Redis is skipped for seconds after: a
# request never waits on it for long, even on a loaded machine.
FAST = 3.0


async def _timed(call: Awaitable[httpx.Response], *ok: int) -> httpx.Response:
    began = time.monotonic()
    r = await call
    took = time.monotonic() - began
    assert r.status_code in ok, r.text
    assert took < FAST, f"{r.request.method} {r.request.url.path} took {took:.1f} s"
    return r


@pytest_asyncio.fixture
async def redis_server() -> AsyncIterator[tuple[asyncio.subprocess.Process, str]]:
    """A private ``redis-server`` that keeps nothing on disk."""
    (port,) = free_ports(1)
    proc = await asyncio.create_subprocess_exec(
        "redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
        "--appendonly", "no",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    url = f"redis://127.0.0.1:{port}/0"
    probe = make_redis(url)

    async def answers() -> bool:
        with contextlib.suppress(Exception):
            return bool(await probe.ping())
        return False

    try:
        await eventually(answers, within=20)
        yield proc, url
    finally:
        await probe.aclose()
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def _works_without_redis(api: Api) -> None:
    """Everything a user does, each answered at once."""
    health = await _timed(api.http.get("/health"), 200)
    assert (health.json()["status"], health.json()["redis"]) == ("degraded", "down")
    started = await _timed(api.http.post(
        "/workflows/lead_scoring", json={"lead": {"name": "Grace Hopper", "email":
        "grace@navy.example", "company": "US Navy"}}, headers=api.auth("operator"),
    ), 201)  # fmt: skip
    wid = started.json()["workflow_id"]
    await api.wait_state(wid, "awaiting_approval")
    await _timed(api.http.get(f"/workflows/{wid}", headers=api.auth("viewer")), 200)
    inbox = await _timed(api.http.get("/approvals", headers=api.auth("viewer")), 200)
    assert wid in [a["workflow_id"] for a in inbox.json()["items"]]
    await _timed(api.http.get("/workflows/policies", headers=api.auth()), 200)
    changed = await _timed(api.http.put(
        "/workflows/confidence/lead_scoring", json={"threshold": 0.5, "tenant": api.tenant},
        headers=api.auth(),
    ), 200)  # fmt: skip
    assert changed.json()["confidence_threshold"] == 0.5
    listed = await _timed(api.http.get("/workflows/policies", headers=api.auth()), 200)
    mine = [p for p in listed.json()["items"] if p["tenant"] == api.tenant]
    assert [p["confidence_threshold"] for p in mine if p["process"] == "lead_scoring"] == [0.5]
    decided = await _timed(api.decide(wid, sub="alice"), 200)
    assert decided.json()["actor"] == "alice"
    await api.wait_state(wid, "completed")
    assert len(await api.brain.audit(wid)) == 1


async def test_the_api_works_with_nothing_listening_where_redis_should_be(brain: Brain) -> None:
    (port,) = free_ports(1)
    api = await open_api(brain, api_settings(redis_url=f"redis://127.0.0.1:{port}/0"))
    try:
        await _works_without_redis(api)
    finally:
        await close_api(api)


async def test_the_api_keeps_working_when_its_redis_is_killed(
    brain: Brain, redis_server: tuple[asyncio.subprocess.Process, str]
) -> None:
    proc, url = redis_server
    api = await open_api(brain, api_settings(redis_url=url))
    try:
        # Warm: Redis in use for the rate limit and the policy cache.
        health = await _timed(api.http.get("/health"), 200)
        assert (health.json()["status"], health.json()["redis"]) == ("ok", "up")
        wid = (await api.parked())["workflow_id"]
        await _timed(api.http.get("/workflows/policies", headers=api.auth()), 200)
        proc.kill()
        await proc.wait()
        await _works_without_redis(api)
        # The run parked before Redis died is decided as usual.
        assert (await _timed(api.decide(wid, "reject", sub="bob"), 200)).json()["action"] == (
            "reject"
        )
        await api.wait_state(wid, "rejected")
    finally:
        await close_api(api)
