"""Redis read-through cache for effective policies. Redis is optional: every failure is
logged and answered as a miss, so the store falls back to the database."""

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pydantic import ValidationError
from redis.asyncio import Redis
from redis.exceptions import RedisError

from models.hitl import Policy
from models.processes import Process

log = logging.getLogger(__name__)

T = TypeVar("T")
# Connection refused and socket timeouts can surface as OSError subclasses.
_ERRORS = (RedisError, OSError, TimeoutError)


def _pattern(process: Process) -> str:
    return f"brain:policy:{Process(process).value}:*"


class RedisPolicyCache:
    def __init__(self, redis: Redis, ttl_seconds: int = 30, retry_after_seconds: float = 5.0):
        self._redis = redis
        self._ttl = ttl_seconds
        self._retry_after = retry_after_seconds
        # After a failure Redis is skipped for a while: each attempt can cost a timeout.
        self._skip_until = 0.0
        # Invalidations lost to an outage, replayed before Redis is trusted again.
        self._pending: set[Process] = set()

    async def get(self, key: str) -> Policy | None:
        raw = await self._call("get", lambda: self._redis.get(key))
        if raw is None:
            return None
        try:
            return Policy.model_validate_json(raw)
        except ValidationError:
            # Written by another version of the model: recompute it.
            log.info("dropping unreadable cached policy %s", key)
            return None

    async def set(self, key: str, policy: Policy) -> None:
        await self._call(
            "set", lambda: self._redis.set(key, policy.model_dump_json(), ex=self._ttl)
        )

    async def invalidate(self, process: Process) -> None:
        # Per process, not per key: a change to the global row changes every tenant's policy.
        self._pending.add(Process(process))
        await self._call("invalidate", self._flush)

    async def _flush(self) -> None:
        for process in sorted(self._pending):
            keys: list[Any] = [
                k async for k in self._redis.scan_iter(match=_pattern(process), count=500)
            ]
            if keys:
                await self._redis.delete(*keys)
            self._pending.discard(process)

    async def _call(self, op: str, fn: Callable[[], Awaitable[T]]) -> T | None:
        if time.monotonic() < self._skip_until:
            return None
        try:
            if self._pending and op != "invalidate":
                await self._flush()
            result = await fn()
        except _ERRORS as e:
            if not self._skip_until:
                log.warning("redis policy cache unavailable (%s: %s); using the database", op, e)
            self._skip_until = time.monotonic() + self._retry_after
            return None
        if self._skip_until:
            log.info("redis policy cache available again")
            self._skip_until = 0.0
        return result
