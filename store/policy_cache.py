"""Redis read-through cache for effective policies. Redis is optional: every failure is
logged and answered as a miss, so the store falls back to the database."""

import logging
from typing import Any

from pydantic import ValidationError
from redis.asyncio import Redis
from redis.exceptions import RedisError

from models.hitl import Policy
from models.processes import Process

log = logging.getLogger(__name__)

# Connection refused and timeouts surface as OSError subclasses from some code paths.
_ERRORS = (RedisError, OSError, TimeoutError)


class RedisPolicyCache:
    def __init__(self, redis: Redis, ttl_seconds: int = 30) -> None:
        self._redis = redis
        self._ttl = ttl_seconds
        # Log an outage once, not once per policy read.
        self._down = False

    async def get(self, key: str) -> Policy | None:
        try:
            raw = await self._redis.get(key)
        except _ERRORS as e:
            self._failed("get", e)
            return None
        self._up()
        if raw is None:
            return None
        try:
            return Policy.model_validate_json(raw)
        except ValidationError:
            # Written by an older or newer version of the model: recompute it.
            log.info("dropping unreadable cached policy %s", key)
            return None

    async def set(self, key: str, policy: Policy) -> None:
        try:
            await self._redis.set(key, policy.model_dump_json(), ex=self._ttl)
        except _ERRORS as e:
            self._failed("set", e)
            return
        self._up()

    async def invalidate(self, process: Process) -> None:
        # Per process, not per key: a change to the global row changes every tenant's policy.
        pattern = f"brain:policy:{Process(process).value}:*"
        try:
            keys: list[Any] = [k async for k in self._redis.scan_iter(match=pattern, count=500)]
            if keys:
                await self._redis.delete(*keys)
        except _ERRORS as e:
            # Entries left behind expire within the TTL.
            self._failed("invalidate", e)
            return
        self._up()

    def _failed(self, op: str, e: BaseException) -> None:
        if not self._down:
            log.warning("redis policy cache unavailable (%s: %s); using the database", op, e)
            self._down = True
        else:
            log.debug("redis policy cache %s failed: %s", op, e)

    def _up(self) -> None:
        if self._down:
            log.info("redis policy cache available again")
            self._down = False
