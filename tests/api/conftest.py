"""The API in-process (httpx ASGITransport) over the test's dev server, worker, database and
the real Redis on 127.0.0.1:6379."""

from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from pydantic import SecretStr

from api.app import create_app
from api.ratelimit import AuthFailureLimiter, RateLimiter
from api.state import AppState
from core.redis import make_redis
from core.settings import Settings
from store.policies import PolicyStore
from store.policy_cache import RedisPolicyCache
from tests.api.support import SECRET, Api
from tests.support import Brain

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def settings() -> Settings:
    # Limits out of the way: tests of one app send many requests, and many bad tokens, from
    # one address; tests/api/test_ratelimit.py sets its own.
    return Settings(
        jwt_secret=SecretStr(SECRET),
        redis_url=REDIS_URL,
        rate_limit_per_minute=100_000,
        auth_failures_per_minute=0,
        _env_file=None,
    )


def app_state(brain: Brain, settings: Settings, **overrides: object) -> AppState:
    redis = make_redis(settings.redis_url) if settings.redis_url else None
    values: dict[str, object] = {
        "client": brain.client,
        "engine": brain.db.engine,
        "sessions": brain.db.sessions,
        "task_queue": brain.task_queue,
        "policies": PolicyStore(brain.db.sessions, RedisPolicyCache(redis) if redis else None),
        "redis": redis,
        "limiter": RateLimiter(redis, settings.rate_limit_per_minute),
        "auth_failures": AuthFailureLimiter(redis),
        **overrides,
    }
    return AppState(**values)  # type: ignore[arg-type]


async def open_api(brain: Brain, settings: Settings, **overrides: object) -> Api:
    state = app_state(brain, settings, **overrides)
    app = create_app(settings, state=state)
    http = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://brain/api/brain"
    )
    return Api(http, brain, settings, state)


async def close_api(api: Api) -> None:
    await api.http.aclose()
    if api.state.redis is not None:
        await api.state.redis.aclose()


@pytest_asyncio.fixture
async def api(brain: Brain, settings: Settings) -> AsyncIterator[Api]:
    opened = await open_api(brain, settings)
    try:
        yield opened
    finally:
        await close_api(opened)
