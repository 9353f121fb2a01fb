"""A per-caller (tenant and subject) fixed-window rate limit in Redis. Redis is optional:
when it is absent or down, requests are not limited (availability over strictness), and a
failed Redis is not asked again for a few seconds, so an outage costs no latency per request.
"""

import logging
import time

from redis.asyncio import Redis
from redis.exceptions import RedisError

from api.errors import RateLimited

log = logging.getLogger(__name__)

_WINDOW_SECONDS = 60
_BACKOFF_SECONDS = 5.0
_ERRORS = (RedisError, OSError, TimeoutError)


class RateLimiter:
    def __init__(self, redis: Redis | None, per_minute: int) -> None:
        self._redis = redis
        self._limit = per_minute
        self._skip_until = 0.0

    async def hit(self, tenant: str, subject: str) -> None:
        """Count one request for ``subject`` of ``tenant``; raise ``RateLimited`` over the
        limit. Subjects are names each tenant picks: ``alice`` of one tenant is not ``alice``
        of another, and must not spend her budget."""
        if self._redis is None or self._limit <= 0 or time.monotonic() < self._skip_until:
            return
        now = time.time()
        window = int(now // _WINDOW_SECONDS)
        # Tenants hold no ":" (api/auth.py TENANT_PATTERN), so no two callers share a key.
        key = f"brain:ratelimit:{tenant}:{subject}:{window}"
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.incr(key)
                pipe.expire(key, _WINDOW_SECONDS + 1)
                count, _ = await pipe.execute()
        except _ERRORS as e:
            log.warning("rate limit skipped, redis unavailable: %s", e)
            self._skip_until = time.monotonic() + _BACKOFF_SECONDS
            return
        if int(count) > self._limit:
            retry_after = max(1, int((window + 1) * _WINDOW_SECONDS - now + 0.999))
            raise RateLimited(
                f"more than {self._limit} requests per minute", retry_after=retry_after
            )
