"""The one Redis client factory, for the API, the worker and the CLI.

Redis is an optimisation (the policy cache, the rate limit): every caller answers a failure
from the database or lets the request through. So a client fails fast: short socket and
connect timeouts, one immediate retry instead of redis-py's retries with backoff (seconds
per call), and a health check before using a connection idle for a while, so one a
restarted Redis dropped is noticed before a command is lost on it.
"""

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

HEALTH_CHECK_INTERVAL_SECONDS = 30


def make_redis(url: str, timeout_seconds: float = 0.5) -> Redis:
    return Redis.from_url(
        url,
        socket_connect_timeout=timeout_seconds,
        socket_timeout=timeout_seconds,
        retry=Retry(NoBackoff(), 1),
        health_check_interval=HEALTH_CHECK_INTERVAL_SECONDS,
    )
