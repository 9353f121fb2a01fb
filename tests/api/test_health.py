"""Health, agents, the rate limit, and Redis going away mid-test."""

import asyncio
import socket
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio
from temporalio.client import Client

from core.redis import make_redis
from core.settings import Settings
from store.db import make_engine, make_sessionmaker
from tests.api.conftest import close_api, open_api
from tests.api.support import Api
from tests.support import Brain, eventually


async def test_health_ok(api: Api) -> None:
    r = await api.http.get("/health")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "temporal": "up", "database": "up", "redis": "up"}


async def test_agents_status_lists_pollers_and_the_model(api: Api) -> None:
    async def polled() -> dict | None:
        r = await api.http.get("/agents/status", headers=api.auth("viewer"))
        assert r.status_code == 200, r.text
        [queue] = r.json()["task_queues"]
        # A worker shows once it has polled; this test's worker has only just started.
        return r.json() if queue["workflow_pollers"] and queue["activity_pollers"] else None

    status = await eventually(polled)
    assert status["task_queues"][0]["name"] == api.brain.task_queue
    assert status["ai"]["provider"] in ("rules", "openai") and status["ai"]["model"]


async def test_rate_limit_per_subject(brain: Brain, settings: Settings) -> None:
    limited = await open_api(brain, settings.model_copy(update={"rate_limit_per_minute": 3}))
    try:
        # Subjects of their own: the window is shared with every earlier run on this Redis.
        alice = limited.auth("viewer", sub=f"alice-{uuid.uuid4().hex}")
        bob = limited.auth("viewer", sub=f"bob-{uuid.uuid4().hex}")
        codes = [
            (await limited.http.get("/approvals", headers=alice)).status_code for _ in range(4)
        ]
        assert codes == [200, 200, 200, 429]
        r = await limited.http.get("/approvals", headers=alice)
        assert r.json()["error"] == "RateLimited" and 1 <= int(r.headers["Retry-After"]) <= 60
        assert (await limited.http.get("/approvals", headers=bob)).status_code == 200
    finally:
        await close_api(limited)


async def test_database_down_is_503(brain: Brain, settings: Settings) -> None:
    dead = make_engine("postgresql+asyncpg://postgres@127.0.0.1:1/nope")
    broken = await open_api(brain, settings, engine=dead, sessions=make_sessionmaker(dead))
    try:
        r = await broken.http.get("/health")
        assert r.status_code == 503 and r.json()["database"] == "down"
        assert r.json()["status"] == "down" and r.json()["temporal"] == "up"
        listed = await broken.http.get("/workflows", headers=broken.auth("viewer"))
        assert listed.status_code == 503 and listed.json()["error"] == "Unavailable"
    finally:
        await close_api(broken)
        await dead.dispose()


async def test_temporal_down_is_503(brain: Brain, settings: Settings) -> None:
    nowhere = await Client.connect("127.0.0.1:1", lazy=True)
    broken = await open_api(brain, settings, client=nowhere)
    try:
        r = await broken.http.get("/health")
        assert r.status_code == 503
        assert (r.json()["temporal"], r.json()["database"]) == ("down", "up")
    finally:
        await close_api(broken)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def redis_server() -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """A Redis of this test's own, so that stopping it touches nobody else's."""
    port = _free_port()
    proc = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield proc, port
    finally:
        proc.kill()
        proc.wait()


@pytest_asyncio.fixture
async def own_redis_api(
    brain: Brain, settings: Settings, redis_server: tuple[subprocess.Popen[bytes], int]
) -> AsyncIterator[Api]:
    _, port = redis_server
    url = f"redis://127.0.0.1:{port}/0"
    probe = make_redis(url)
    for _ in range(100):
        try:
            if await probe.ping():
                break
        except Exception:
            await asyncio.sleep(0.05)
    await probe.aclose()
    opened = await open_api(
        brain, settings.model_copy(update={"redis_url": url, "rate_limit_per_minute": 5})
    )
    try:
        yield opened
    finally:
        await close_api(opened)


async def test_redis_stopped_mid_test(
    own_redis_api: Api, redis_server: tuple[subprocess.Popen[bytes], int]
) -> None:
    api = own_redis_api
    assert (await api.http.get("/health")).json()["redis"] == "up"
    root = api.auth("super_admin", sub="root")
    assert (await api.http.get("/workflows/policies", headers=root)).status_code == 200
    keys = await api.state.redis.keys("brain:*")  # type: ignore[union-attr]
    assert keys, "neither the policy cache nor the rate limit used Redis"

    proc, _ = redis_server
    proc.kill()
    proc.wait()

    health = await api.http.get("/health")
    assert health.status_code == 200
    assert health.json() == {
        "status": "degraded",
        "temporal": "up",
        "database": "up",
        "redis": "down",
    }
    # Everything keeps working, without the cache and without the limit (5 a minute).
    wid = (await api.parked())["workflow_id"]
    for _ in range(6):
        assert (await api.http.get("/workflows/policies", headers=root)).status_code == 200
    r = await api.http.put(
        "/workflows/confidence/lead_scoring",
        json={"threshold": 0.8, "tenant": api.tenant},
        headers=root,
    )
    assert r.status_code == 200, r.text
    assert (await api.decide(wid)).status_code == 200
    await api.wait_state(wid, "completed")
