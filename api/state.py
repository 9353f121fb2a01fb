"""What the API holds for its lifetime: built once by the lifespan, or injected by tests."""

import contextlib
import logging
from dataclasses import dataclass, field

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from temporalio.client import Client

from api.background import Background
from api.ratelimit import AuthFailureLimiter, RateLimiter
from core.gate_metrics import GateMetrics, default_metrics
from core.redis import make_redis
from core.settings import Settings
from store.connect_errors import checked_migrate
from store.db import make_engine, make_sessionmaker
from store.policies import PolicyStore
from store.policy_cache import RedisPolicyCache
from temporal.client import connect
from temporal.door_key import door_key

log = logging.getLogger(__name__)

# SPEC §3: how long the REST door waits for a worker to confirm a decision.
CONFIRM_TIMEOUT_SECONDS = 10.0


@dataclass
class AppState:
    client: Client
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    task_queue: str
    policies: PolicyStore
    redis: Redis | None = None
    limiter: RateLimiter = field(default_factory=lambda: RateLimiter(None, 0))
    # Failed authentication per client address (its limit is a setting, read per request).
    auth_failures: AuthFailureLimiter = field(default_factory=lambda: AuthFailureLimiter(None))
    confirm_timeout: float = CONFIRM_TIMEOUT_SECONDS
    # Signs decisions sent to the ``decide`` Update (temporal/door.py); from the settings
    # (temporal/door_key.py) when not given.
    door_key: bytes | None = None
    # Where the decisions this API records are counted (default: the process's registry).
    metrics: GateMetrics = field(default_factory=default_metrics)
    # Work answered at once and finished after the response (a Slack click's decision).
    background: Background = field(default_factory=Background)
    # Set by ``build_state``: the lifespan disposes only what it built itself.
    owned: bool = False

    @property
    def namespace(self) -> str:
        return self.client.namespace


async def build_state(settings: Settings) -> AppState:
    """Raises ``StartupError`` (core/startup.py), naming the setting, when Temporal or the
    database refuses the connection."""
    url = settings.effective_database_url
    await checked_migrate(url)
    client = await connect(settings)
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    redis = make_redis(settings.redis_url) if settings.redis_url else None
    cache = RedisPolicyCache(redis) if redis is not None else None
    return AppState(
        client=client,
        sessions=sessions,
        task_queue=settings.task_queue,
        policies=PolicyStore(sessions, cache),
        engine=engine,
        redis=redis,
        limiter=RateLimiter(redis, settings.rate_limit_per_minute),
        auth_failures=AuthFailureLimiter(redis),
        door_key=door_key(settings),
        owned=True,
    )


async def close_state(state: AppState) -> None:
    if not state.owned:
        return
    if state.redis is not None:
        with contextlib.suppress(Exception):
            await state.redis.aclose()
    await state.engine.dispose()
