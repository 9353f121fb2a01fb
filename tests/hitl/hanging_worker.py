"""A Brain worker, as its own process, whose first decision task hangs after the decision
was taken (the worker is then SIGKILLed mid-task):
``python -m tests.hitl.hanging_worker ADDRESS TASK_QUEUE DATABASE_URL``. Prints ``ready`` once
it polls, and ``holding`` when the decision task hangs."""

import asyncio
import sys
import time
from typing import Any

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import (
    HandleSignalInput,
    Interceptor,
    Worker,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
)

from activities.rules_model import RulesModel
from store.db import make_engine, make_sessionmaker
from store.policies import PolicyStore
from temporal.door import derive_key
from temporal.sandbox import WORKFLOW_RUNNER
from temporal.tenant_scope import TenantScopeInterceptor
from tests.support import SECRET
from workers.registry import WORKFLOWS, build_activities


class _Hang(WorkflowInboundInterceptor):
    async def handle_signal(self, input: HandleSignalInput) -> None:
        await super().handle_signal(input)
        if input.signal in ("approve", "reject"):
            print("holding", flush=True)  # noqa: T201  (the parent waits for this line)
            # Blocks the workflow task until the worker is killed: the task never completes.
            time.sleep(600)  # noqa: ASYNC251  (blocking on purpose)


class HangOnDecision(Interceptor):
    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[WorkflowInboundInterceptor]:
        return _Hang


async def main(address: str, task_queue: str, database_url: str) -> None:
    client = await Client.connect(
        address, data_converter=pydantic_data_converter, interceptors=[TenantScopeInterceptor()]
    )
    sessions = make_sessionmaker(make_engine(database_url))
    activities: list[Any] = build_activities(
        sessions, PolicyStore(sessions), RulesModel(), client=client, door_key=derive_key(SECRET)
    )
    async with Worker(
        client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        activities=activities,
        workflow_runner=WORKFLOW_RUNNER,
        interceptors=[HangOnDecision()],
        # The hanging task would otherwise trip the SDK's deadlock detector first.
        debug_mode=True,
    ):
        print("ready", flush=True)  # noqa: T201
        await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
