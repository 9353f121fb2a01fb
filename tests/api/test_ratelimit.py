"""The rate limit in the real Redis, per caller: a tenant and a subject. Subjects are names
each tenant chooses, so ``alice`` of one tenant must not spend ``alice`` of another's."""

import asyncio
import time
from collections.abc import AsyncIterator

import pytest_asyncio

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
