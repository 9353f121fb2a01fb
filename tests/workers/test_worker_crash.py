"""A worker killed while runs are parked: decisions wait durably, a new worker applies each
approval exactly once (one audit row, one business row)."""

import asyncio
import signal
import uuid
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from models.processes import Process, RunState
from models.workflow_io import ProcessResult
from processes.lead_scoring import LeadRow
from services.starting import start_process
from tests.cli.conftest import BRAIN, clean_env, example
from tests.conftest import Database
from tests.support import Brain, eventually
from workflows.process_workflow import LeadScoringWorkflow


def _spawn_worker(
    client: Client, db: Database, task_queue: str, home: Path
) -> Coroutine[Any, Any, asyncio.subprocess.Process]:
    # Appended, so a failure can show what both workers said.
    log = (home / "worker.log").open("ab")
    return asyncio.create_subprocess_exec(
        str(BRAIN),
        "worker",
        env=clean_env(
            temporal_address=client.service_client.config.target_host,
            database_url=db.url,
            task_queue=task_queue,
            home=str(home),
            # `brain worker` refuses the built-in development secret.
            jwt_secret="worker-crash-test-secret-0123456789abcdef",
        ),
        cwd=str(home),
        stdout=log,
        stderr=log,
    )


async def _polled(client: Client, task_queue: str) -> bool:
    """True once a worker polls the task queue for workflow tasks."""
    described = await client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace=client.namespace,
            task_queue=TaskQueue(name=task_queue),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        )
    )
    return bool(described.pollers)


async def test_killed_worker_loses_nothing_and_applies_once(
    client: Client, database: Database, tmp_path: Path
) -> None:
    task_queue = f"brain-crash-{uuid.uuid4().hex[:8]}"
    tenant = f"t-{uuid.uuid4().hex[:8]}"
    body = example("lead_scoring", "unsure")
    worker = await _spawn_worker(client, database, task_queue, tmp_path)
    try:
        ids = [
            (
                await start_process(
                    client,
                    database.sessions,
                    process=Process("lead_scoring"),
                    tenant=tenant,
                    requested_by="tester",
                    body=body,
                    task_queue=task_queue,
                )
            ).workflow_id
            for _ in range(3)
        ]
        brain = Brain(client, task_queue, database, policies=None, model=None)  # type: ignore[arg-type]

        async def all_parked() -> bool:
            rows = [await brain.run_row(i) for i in ids]
            return all(r is not None and r.state == "awaiting_approval" for r in rows)

        await eventually(all_parked, within=60)
    finally:
        worker.send_signal(signal.SIGKILL)
        await worker.wait()

    # No worker: signals are still accepted durably.
    for workflow_id in ids:
        await client.get_workflow_handle(workflow_id).signal(
            LeadScoringWorkflow.approve, {"by": "ops"}
        )
    await asyncio.sleep(1)
    rows = [await brain.run_row(i) for i in ids]
    states = [r.state if r is not None else None for r in rows]
    assert states == ["awaiting_approval"] * 3

    worker = await _spawn_worker(client, database, task_queue, tmp_path)
    try:
        # Its start-up (imports, migrations) must not eat into the time the runs get.
        await eventually(lambda: _polled(client, task_queue), within=90)
        for workflow_id in ids:
            handle = client.get_workflow_handle(workflow_id, result_type=ProcessResult)
            try:
                result = await asyncio.wait_for(handle.result(), 90)
            except TimeoutError:
                tail = (tmp_path / "worker.log").read_text(errors="replace")[-4000:]
                raise AssertionError(
                    f"{workflow_id} not applied within 90 s; worker exit code "
                    f"{worker.returncode}; worker log:\n{tail}"
                ) from None
            assert result.state is RunState.COMPLETED
            [audit] = await brain.audit(workflow_id)
            assert (audit.actor, audit.channel) == ("ops", "signal")
            assert len(await brain.rows(LeadRow, workflow_id)) == 1
    finally:
        worker.send_signal(signal.SIGTERM)
        await worker.wait()
