"""Rate limits. Per caller (tenant and subject), a fixed-window limit in Redis. Redis is
optional: when it is absent or down, requests are not limited (availability over
strictness), and a failed Redis is not asked again for a few seconds, so an outage costs no
latency per request. Per client address, a limit on failed authentication
(``AuthFailureLimiter``), which holds without Redis too.
"""

import ipaddress
import logging
import math
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
            count = await _count_in_window(self._redis, key)
        except _ERRORS as e:
            log.warning("rate limit skipped, redis unavailable: %s", e)
            self._skip_until = time.monotonic() + _BACKOFF_SECONDS
            return
        if count > self._limit:
            retry_after = max(1, int((window + 1) * _WINDOW_SECONDS - now + 0.999))
            raise RateLimited(
                f"more than {self._limit} requests per minute", retry_after=retry_after
            )


async def _count_in_window(redis: Redis, key: str) -> int:
    """One more on ``key``, a counter of one fixed window (it expires just after it)."""
    async with redis.pipeline(transaction=True) as pipe:
        pipe.incr(key)
        pipe.expire(key, _WINDOW_SECONDS + 1)
        count, _ = await pipe.execute()
    return int(count)


class AuthFailureLimiter:
    """Requests that fail authentication, counted per client address in fixed one-minute
    windows: past ``limit`` in a window, the address gets 429 with ``Retry-After`` for the
    rest of it, whatever it sends, so guessing tokens (or sending a provider's token with
    made-up key ids, each of which could make Brain ask the provider) costs the guesser
    time rather than Brain.

    Counted in Redis when configured, so every API process sees the same count; in this
    process otherwise, and whenever Redis fails (failures are still limited, per process).
    An address seen over the limit is remembered here until the window ends, so a blocked
    address costs no Redis round trip and a valid request costs none at all. IPv6 addresses
    count by their /64: one host usually holds a whole /64.
    """

    _MAX_LOCAL = 100_000

    def __init__(self, redis: Redis | None) -> None:
        self._redis = redis
        self._local: dict[str, tuple[int, int]] = {}
        self._blocked: dict[str, float] = {}
        self._skip_redis_until = 0.0

    def check(self, address: str) -> None:
        """``RateLimited`` when ``address`` is blocked for the current window."""
        until = self._blocked.get(client_key(address))
        if until is None:
            return
        now = time.time()
        if now >= until:
            self._blocked.pop(client_key(address), None)
            return
        raise _too_many(until - now)

    async def failed(self, address: str, limit: int) -> None:
        """Count one failure of ``address``; ``RateLimited`` once it is past ``limit``."""
        if limit <= 0:
            return
        key = client_key(address)
        now = time.time()
        window = int(now // _WINDOW_SECONDS)
        count = await self._count_in_redis(key, window)
        if count is None:
            count = self._count_here(key, window)
        if count > limit:
            until = (window + 1) * _WINDOW_SECONDS
            if len(self._blocked) >= self._MAX_LOCAL:
                self._blocked = {k: u for k, u in self._blocked.items() if u > now}
            self._blocked[key] = until
            raise _too_many(until - now)

    async def _count_in_redis(self, key: str, window: int) -> int | None:
        if self._redis is None or time.monotonic() < self._skip_redis_until:
            return None
        # The window comes last, so an IPv6 key's colons cannot make two keys collide.
        name = f"brain:authfail:{key}:{window}"
        try:
            return await _count_in_window(self._redis, name)
        except _ERRORS as e:
            log.warning("failed-auth limit counted in this process, redis unavailable: %s", e)
            self._skip_redis_until = time.monotonic() + _BACKOFF_SECONDS
            return None

    def _count_here(self, key: str, window: int) -> int:
        if len(self._local) >= self._MAX_LOCAL:
            self._local = {k: v for k, v in self._local.items() if v[0] == window}
            if len(self._local) >= self._MAX_LOCAL:
                self._local.clear()  # a flood from that many addresses: start over
        seen_window, count = self._local.get(key, (window, 0))
        count = count + 1 if seen_window == window else 1
        self._local[key] = (window, count)
        return count


def client_key(address: str) -> str:
    """The address that failures count against: IPv4 as it is, IPv6 by its /64."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:100]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def _too_many(seconds_left: float) -> RateLimited:
    return RateLimited(
        "too many requests that failed authentication from this address",
        retry_after=max(1, math.ceil(seconds_left)),
    )
