"""The baseline: the same process written with the bare ``temporalio`` SDK.

One AI activity (the same rules model Brain uses), an optional wait for a decision (an
Update or a Signal), one apply activity that writes one row to the same database. No gate,
no policy, no audit, no runs table, no API: what the engine adds is the difference.

``python -m bench.baseline`` runs its worker (the bench starts it in a subprocess, as it
starts Brain's, so neither shares an event loop with the load generator).
"""

import asyncio
import json
import os
import signal
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from pydantic import BaseModel
from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

with workflow.unsafe.imports_passed_through():
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import AsyncEngine

    from models.ai import AIResult
    from store import statement_counts

TASK_QUEUE = "bench-baseline"
_TABLE = "bench_baseline_applied"


class BaselineInput(BaseModel):
    lead: dict[str, Any]
    wait_for_decision: bool = False


class BaselineDecision(BaseModel):
    approve: bool = True
    by: str = "bench"


class ApplyInput(BaseModel):
    workflow_id: str
    proposal: dict[str, Any] | None


class BaselineActivities:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    @activity.defn(name="baseline_propose")
    async def propose(self, run_input: BaselineInput) -> AIResult:
        from activities.rules_model import RulesModel
        from models.processes import Process

        ai = await RulesModel().propose(Process("lead_scoring"), {"lead": run_input.lead})
        if run_input.wait_for_decision:
            # How the bench sees a baseline run park (it writes nothing there): its AI step
            # is done; the workflow task that starts the wait follows at once.
            statement_counts.bump("baseline_parked")
        return ai

    @activity.defn(name="baseline_apply")
    async def apply(self, req: ApplyInput) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                # Idempotent by the run's id: the tuned baseline's local activity may run
                # again if its workflow task is lost.
                text(
                    f"INSERT INTO {_TABLE} (workflow_id, payload) VALUES (:w, :p) "
                    "ON CONFLICT (workflow_id) DO NOTHING"
                ),
                {"w": req.workflow_id, "p": json.dumps(req.proposal)},
            )


@workflow.defn(name="BaselineWorkflow")
class BaselineWorkflow:
    def __init__(self) -> None:
        self._decision: BaselineDecision | None = None
        self._waiting = False

    @workflow.run
    async def run(self, run_input: BaselineInput) -> str:
        ai: AIResult = await workflow.execute_activity_method(
            BaselineActivities.propose, run_input, start_to_close_timeout=timedelta(seconds=60)
        )
        if run_input.wait_for_decision:
            self._waiting = True
            await workflow.wait_condition(lambda: self._decision is not None)
            assert self._decision is not None
            if not self._decision.approve:
                return "rejected"
        await self.apply(ApplyInput(workflow_id=workflow.info().workflow_id, proposal=ai.proposal))
        return "completed"

    async def apply(self, req: ApplyInput) -> None:
        """The database step: an activity here; a local one in the tuned baseline."""
        await workflow.execute_activity_method(
            BaselineActivities.apply, req, start_to_close_timeout=timedelta(seconds=60)
        )

    @workflow.update
    def decide(self, decision: BaselineDecision) -> str:
        self._decision = decision
        return "ok"

    @decide.validator
    def _validate(self, decision: BaselineDecision) -> None:
        if self._decision is not None:
            raise ValueError("already decided")

    @workflow.signal
    def approve(self, decision: BaselineDecision) -> None:
        if self._decision is None:
            self._decision = decision

    @workflow.query
    def waiting(self) -> bool:
        return self._waiting and self._decision is None


async def create_table(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            text(
                f"CREATE TABLE IF NOT EXISTS {_TABLE} "
                "(workflow_id VARCHAR(300) PRIMARY KEY, payload TEXT)"
            )
        )


async def run_worker(
    task_queue: str = TASK_QUEUE,
    workflow_class: type = BaselineWorkflow,
    door: Callable[[Client], Awaitable[Callable[[], Awaitable[None]]]] | None = None,
) -> None:
    """Serve ``task_queue`` until SIGTERM. ``door``: opened once the worker polls, with the
    worker's own client (the tuned baseline starts its runs there); returns its closer."""
    from temporalio.worker import Worker

    from store.db import make_engine
    from temporal.sandbox import WORKFLOW_RUNNER

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    # Not Brain: its own table (bench/stack.py creates it), no tenants: the owner's connection.
    engine = make_engine(os.environ["BRAIN_DATABASE_URL"], app_role=False)
    client = await Client.connect(
        os.environ["BRAIN_TEMPORAL_ADDRESS"], data_converter=pydantic_data_converter
    )
    acts = BaselineActivities(engine)
    try:
        async with Worker(
            client,
            task_queue=task_queue,
            workflows=[workflow_class],
            activities=[acts.propose, acts.apply],
            workflow_runner=WORKFLOW_RUNNER,
        ):
            close = await door(client) if door is not None else None
            await stop.wait()
            if close is not None:
                await close()
    finally:
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(run_worker())
    # The SDK's runtime can abort while the interpreter finalizes (sdk-python#300).
    os._exit(0)
