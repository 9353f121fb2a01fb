"""A worker SIGKILLed while it delivers: the event still arrives once another worker
process runs, with the same webhook-id (at least once; receivers deduplicate on it). The
killed worker's delivery session stops heartbeating, Temporal runs it again on the new
worker, and the killed attempt's claim lapses."""

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from temporalio.client import Client

from activities.webhooks.delivery_workflow import deliverer_id
from tests.conftest import Database
from tests.webhooks.conftest import Hooks, new_tenant, publisher
from tests.webhooks.receiver import HANG, Receiver

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 60


@asynccontextmanager
async def worker_process(
    client: Client, task_queue: str, database_url: str
) -> AsyncIterator[asyncio.subprocess.Process]:
    address = client.service_client.config.target_host
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.webhooks.worker_main", address, task_queue, database_url,
        cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        async with asyncio.timeout(START_TIMEOUT):
            while (line := await proc.stdout.readline()) != b"ready\n":
                assert line, "the worker process exited before it was ready"
        yield proc
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
async def test_a_worker_killed_mid_delivery_delivers_after_a_restart(
    client: Client, database: Database, receiver: Receiver
) -> None:
    task_queue = f"webhooks-crash-{new_tenant()}"
    hooks = Hooks(client, database, task_queue, publisher(database, task_queue))
    receiver.script = [HANG]  # the first attempt never gets an answer
    sub = await hooks.subscribe(receiver.url)
    event = hooks.event()

    async with worker_process(client, task_queue, database.url) as first:
        assert await hooks.publisher.publish(event) == 1
        await receiver.wait_for(1, within=10)
        os.kill(first.pid, signal.SIGKILL)
        await first.wait()
        assert first.returncode == -signal.SIGKILL
    pending = await hooks.deliveries(sub)
    assert [r.state for r in pending] == ["pending"]

    async with worker_process(client, task_queue, database.url):
        # The session's heartbeat times out (10 s), the claim's lease (6 s in the test
        # schedule) has lapsed by then: the event is sent again.
        requests = await receiver.wait_for(2, within=30)
        row = await hooks.delivery(sub, "delivered")
    await client.get_workflow_handle(deliverer_id(task_queue)).terminate("test over")
    assert [r.headers["webhook-id"] for r in requests] == [event.id, event.id]
    assert (row.attempts, row.last_status) == (2, 200)
