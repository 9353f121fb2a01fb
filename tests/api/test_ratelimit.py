"""The rate limit in the real Redis, per caller: a tenant and a subject. Subjects are names
each tenant chooses, so ``alice`` of one tenant must not spend ``alice`` of another's. And
the limit on failed authentication, per client address, in Redis or in the process."""

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio

from api.app import create_app
from core.settings import Settings
from tests.api.conftest import close_api, open_api
from tests.api.support import Api, new_tenant
from tests.support import Brain

LIMIT = 3


@pytest_asyncio.fixture
async def limited(brain: Brain, settings: Settings) -> AsyncIterator[Api]:
    opened = await open_api(brain, settings.model_copy(update={"rate_limit_per_minute": LIMIT}))
    try:
        yield opened
    finally:
        await close_api(opened)


async def _same_window() -> None:
    # The limit counts per wall-clock minute: start well inside one, so that no request of
    # the test lands in the next (which would start counting from zero).
    into = time.time() % 60
    if into > 55:
        await asyncio.sleep(60 - into + 0.1)


async def test_the_limit_is_per_tenant_and_subject(limited: Api) -> None:
    acme, globex = new_tenant(), new_tenant()

    async def get(tenant: str, sub: str) -> int:
        headers = limited.auth("viewer", tenant, sub=sub)
        return (await limited.http.get("/approvals", headers=headers)).status_code

    await _same_window()
    assert [await get(acme, "alice") for _ in range(LIMIT)] == [200] * LIMIT
    headers = limited.auth("viewer", acme, sub="alice")
    over = await limited.http.get("/approvals", headers=headers)
    assert over.status_code == 429, over.text
    assert over.json()["error"] == "RateLimited"
    assert 1 <= int(over.headers["Retry-After"]) <= 60
    # Another tenant's alice, and another subject of the same tenant, still have their budget.
    assert await get(globex, "alice") == 200
    assert await get(acme, "bob") == 200


def _client_at(api: Api, address: str) -> httpx.AsyncClient:
    """The same app and state, reached from ``address``."""
    app = create_app(api.settings, state=api.state)
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://brain/api/brain")


@pytest.mark.parametrize("store", ["redis", "in-process"])
async def test_failed_authentication_is_limited_per_client_address(
    brain: Brain, settings: Settings, store: str
) -> None:
    update: dict[str, int | str] = {"auth_failures_per_minute": LIMIT}
    if store == "in-process":
        update["redis_url"] = ""
    api = await open_api(brain, settings.model_copy(update=update))
    # Addresses of this test alone: the Redis count is shared with every other test.
    net = uuid.uuid4().hex
    guesser = f"10.{int(net[:2], 16)}.{int(net[2:4], 16)}.{int(net[4:6], 16)}"
    neighbour = f"2001:db8:{net[6:10]}:{net[10:14]}::1"
    same_net = f"2001:db8:{net[6:10]}:{net[10:14]}:ffff::2"  # the neighbour's /64
    try:
        async with _client_at(api, guesser) as bad, _client_at(api, neighbour) as good:
            await _same_window()
            wrong = {"Authorization": "Bearer not-a-token"}
            answers = [
                (await bad.get("/approvals", headers=wrong)).status_code for _ in range(LIMIT)
            ]
            assert answers == [401] * LIMIT
            over = await bad.get("/approvals", headers=wrong)
            assert over.status_code == 429, over.text
            assert over.json()["error"] == "RateLimited"
            assert 1 <= int(over.headers["Retry-After"]) <= 60
            # The address is blocked for the rest of the minute, even with a valid token
            # (a token guessed right must not be told apart), and no token is checked.
            valid = await bad.get("/approvals", headers=api.auth("viewer"))
            assert valid.status_code == 429, valid.text
            # Another address is not: nor is its budget spent by a good request.
            assert (await good.get("/approvals", headers=api.auth("viewer"))).status_code == 200
            assert (await good.get("/approvals")).status_code == 401
        async with _client_at(api, same_net) as sibling:
            # IPv6 counts by /64: one more failure from the same network is over the limit.
            for _ in range(LIMIT - 1):
                assert (await sibling.get("/approvals")).status_code == 401
            assert (await sibling.get("/approvals")).status_code == 429
    finally:
        await close_api(api)
