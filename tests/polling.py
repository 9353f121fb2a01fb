"""Polling until a condition holds. Its own module, light on imports: ``tests.support``
re-exports it, and the webhook tests use it without importing the worker registry."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def eventually(check: Callable[[], Awaitable[T | None]], within: float = 10.0) -> T:
    """Poll an async check until it returns something truthy; return that."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        value = await check()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)
