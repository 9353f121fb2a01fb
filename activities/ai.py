"""The AI step of every process, backed by whichever model provider is configured.

One activity per process, named by its definition (``score_lead`` … for the first ones,
``propose_<process>`` for the rest), built from the set of definitions.
"""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from pydantic import BaseModel
from temporalio import activity

from models.ai import AIResult
from models.processes import Process
from processes import registry
from processes.kit.definition import ProcessDefinition
from temporal import retry


class ModelProvider(Protocol):
    @property
    def name(self) -> str: ...

    async def propose(self, process: Process, run_input: BaseModel) -> AIResult: ...


async def _heartbeating(call: Awaitable[AIResult]) -> AIResult:
    """Await the model, heartbeating meanwhile: a worker that dies during a long call is
    noticed within the heartbeat timeout, and the step retried elsewhere."""
    task = asyncio.ensure_future(call)
    every = retry.AI_STEP_HEARTBEAT_EVERY.total_seconds()
    try:
        while not task.done():
            await asyncio.wait({task}, timeout=every)
            if not task.done():
                activity.heartbeat()
        return task.result()
    finally:
        task.cancel()  # the activity was cancelled (or timed out): stop the call too


class AIActivities:
    def __init__(self, provider: ModelProvider) -> None:
        self._provider = provider

    def activities(self) -> list[Callable[..., Any]]:
        return [self._activity_for(d) for d in registry.definitions()]

    def _activity_for(self, definition: ProcessDefinition) -> Callable[..., Any]:
        process = Process(definition.name)

        async def propose(run_input: dict[str, Any]) -> AIResult:
            call = self._provider.propose(process, definition.parse_input(run_input))
            return await _heartbeating(call)

        propose.__qualname__ = f"AIActivities.{definition.propose_activity}"
        return activity.defn(name=definition.propose_activity)(propose)
