"""A worker running only the webhook parts, as its own process, for the crash test:
``python -m tests.webhooks.worker_main ADDRESS TASK_QUEUE DATABASE_URL``. Prints ``ready``
once it polls and its queue's deliverer runs, then runs until killed."""

import asyncio
import sys

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Worker

from activities.webhooks.delivery_workflow import ensure_deliverer
from activities.webhooks.parts import WEBHOOK_WORKFLOWS, webhook_parts
from store.db import make_engine, make_sessionmaker
from temporal.sandbox import WORKFLOW_RUNNER
from temporal.tenant_scope import TenantScopeInterceptor
from tests.webhooks.conftest import FAST, worker_settings


async def main(address: str, task_queue: str, database_url: str) -> None:
    client = await Client.connect(
        address, data_converter=pydantic_data_converter, interceptors=[TenantScopeInterceptor()]
    )
    sessions = make_sessionmaker(make_engine(database_url))
    parts = webhook_parts(sessions, worker_settings(task_queue), schedule=FAST)
    async with Worker(
        client,
        task_queue=task_queue,
        workflows=WEBHOOK_WORKFLOWS,
        activities=parts.activities,
        workflow_runner=WORKFLOW_RUNNER,
    ):
        await ensure_deliverer(client, task_queue)
        print("ready", flush=True)  # noqa: T201  (the parent waits for this line)
        await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
