"""A worker running only the webhook parts, as its own process, for the crash test:
``python -m tests.webhooks.worker_main ADDRESS TASK_QUEUE DATABASE_URL``. Prints ``ready``
once it polls, then runs until killed."""

import asyncio
import sys

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Worker

from store.db import make_engine, make_sessionmaker
from temporal.sandbox import WORKFLOW_RUNNER
from temporal.tenant_scope import TenantScopeInterceptor
from tests.webhooks.conftest import FAST, worker_settings
from workers.webhooks import webhook_worker_parts


async def main(address: str, task_queue: str, database_url: str) -> None:
    client = await Client.connect(
        address, data_converter=pydantic_data_converter, interceptors=[TenantScopeInterceptor()]
    )
    sessions = make_sessionmaker(make_engine(database_url))
    workflows, activities = webhook_worker_parts(
        sessions, client, worker_settings(task_queue), schedule=FAST
    )
    async with Worker(
        client,
        task_queue=task_queue,
        workflows=workflows,
        activities=activities,
        workflow_runner=WORKFLOW_RUNNER,
    ):
        print("ready", flush=True)  # noqa: T201  (the parent waits for this line)
        await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
