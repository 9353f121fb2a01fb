"""The AI step of every process, backed by whichever model provider is configured.

Runs from gate 5 on take ``propose_at_gates``: the model's proposal, then the policies of the
process's gates read and judged against it (``activities.gates``), in one activity, so a run
that passes every gate on its own needs no step of its own for the policy read. Runs from
before keep one activity per process, named by its definition (``score_lead`` … for the
first ones, ``propose_<process>`` for the rest), built from the set of definitions.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel
from sqlalchemy.exc import SQLAlchemyError
from temporalio import activity

from activities.gates import judge
from models.activity_io import ProposeAtGates, Proposed
from models.ai import AIResult
from models.processes import Process
from processes import registry
from processes.kit.definition import ProcessDefinition
from temporal import retry

if TYPE_CHECKING:
    from store.policies import PolicyStore


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


log = logging.getLogger(__name__)


class AIActivities:
    def __init__(self, provider: ModelProvider, policies: "PolicyStore | None" = None) -> None:
        self._provider = provider
        self._policies = policies

    @activity.defn
    async def propose_at_gates(self, req: ProposeAtGates) -> Proposed:
        """The proposal, and the verdicts of the process's gates on it. A policy read that
        fails answers no verdicts rather than failing the step: the model is not asked
        again for what the database could not do, and the run reads the policies itself."""
        definition = registry.definition(req.run.process)
        run_input = definition.parse_input(req.run_input)
        ai = await _heartbeating(self._provider.propose(req.run.process, run_input))
        if self._policies is None:
            return Proposed(ai=ai)
        try:
            policies = await self._policies.effective_gates(
                req.run.process, req.run.tenant, [g.name for g in definition.gates]
            )
        except (SQLAlchemyError, OSError) as err:
            log.warning("policies not read with the proposal (%s); the gate reads them", err)
            return Proposed(ai=ai)
        verdicts = judge(
            definition,
            req.run,
            ai,
            ai.proposal,
            run_input,
            0,
            policies,
            datetime.now(UTC),
            req.requested_by,
        )
        return Proposed(ai=ai, verdicts=verdicts)

    def activities(self) -> list[Callable[..., Any]]:
        return [self._activity_for(d) for d in registry.definitions()]

    def _activity_for(self, definition: ProcessDefinition) -> Callable[..., Any]:
        process = Process(definition.name)

        async def propose(run_input: dict[str, Any]) -> AIResult:
            call = self._provider.propose(process, definition.parse_input(run_input))
            return await _heartbeating(call)

        propose.__qualname__ = f"AIActivities.{definition.propose_activity}"
        return activity.defn(name=definition.propose_activity)(propose)
