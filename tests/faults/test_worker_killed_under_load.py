"""Two ``brain worker`` processes on one task queue under the auto-path load, one SIGKILLed
mid-load (issue 10): every run completes exactly once (its row, one audit entry, one
business row), the survivor taking over what the dead one held."""

import asyncio
import signal
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from models.processes import Channel, Process, RunState
from models.tables import DecisionRow, RunRow
from models.workflow_io import ProcessResult
from processes.campaign_tuning import DEFINITION as CAMPAIGN_TUNING
from processes.campaign_tuning import CampaignChangeRow
from services.starting import start_process
from temporal import retry
from tests.cli.conftest import BRAIN, clean_env
from tests.conftest import Database
from tests.support import SECRET, eventually

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.parametrize("database", ["postgres"], indirect=True),
]

RUNS = 40
# An activity held by a SIGKILLed worker is retried only when its start-to-close timeout
# passes (the steps have no heartbeat): the bound is the longest of them, plus the load.
SETTLE = max(retry.AI_STEP_START_TO_CLOSE, retry.APPLY_STEP_TIMEOUT).total_seconds() + 45


async def _spawn(
    client: Client, db: Database, task_queue: str, log: Path
) -> asyncio.subprocess.Process:
    with log.open("ab") as out:
        return await asyncio.create_subprocess_exec(
            str(BRAIN), "worker",
            env=clean_env(
                temporal_address=client.service_client.config.target_host,
                database_url=db.url, task_queue=task_queue, home=str(log.parent),
                jwt_secret=SECRET, redis_url="",
            ),
            cwd=str(log.parent), stdout=out, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip


async def _pollers(client: Client, task_queue: str) -> int:
    described = await client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace=client.namespace,
            task_queue=TaskQueue(name=task_queue),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
        )
    )
    return len({p.identity for p in described.pollers})


async def test_a_worker_killed_under_load_loses_no_run_and_repeats_none(
    client: Client, database: Database, tmp_path: Path
) -> None:
    task_queue = f"brain-load-{uuid.uuid4().hex[:8]}"
    tenant = f"t-{uuid.uuid4().hex[:8]}"
    workers = [
        await _spawn(client, database, task_queue, tmp_path / f"worker-{n}.log") for n in (1, 2)
    ]
    try:
        await eventually(lambda: _at_least(client, task_queue, 2), within=90)

        async def start() -> str:
            started = await start_process(
                client, database.sessions, process=Process("campaign_tuning"), tenant=tenant,
                requested_by="load", body=dict(CAMPAIGN_TUNING.examples["confident"]),
                task_queue=task_queue,
            )  # fmt: skip
            return started.workflow_id

        ids = list(await asyncio.gather(*(start() for _ in range(RUNS // 2))))

        async def some_completed() -> bool:
            return await _completed(database, tenant) >= 3

        await eventually(some_completed, within=60)
        # Mid-load: work in flight on both, half the runs not even started yet.
        workers[0].send_signal(signal.SIGKILL)
        await workers[0].wait()
        killed_at = time.monotonic()
        ids += await asyncio.gather(*(start() for _ in range(RUNS - len(ids))))
        for workflow_id in ids:
            handle = client.get_workflow_handle(workflow_id, result_type=ProcessResult)
            left = SETTLE - (time.monotonic() - killed_at)
            try:
                result = await asyncio.wait_for(handle.result(), max(left, 1))
            except TimeoutError:
                raise AssertionError(f"{workflow_id} not done {SETTLE:.0f} s after the kill; "
                                     + _logs(tmp_path)) from None  # fmt: skip
            assert result.state is RunState.COMPLETED, result
            assert result.decision is not None and result.decision.channel is Channel.AUTO
    finally:
        for proc in workers:
            if proc.returncode is None:
                proc.send_signal(signal.SIGKILL)
                await proc.wait()

    assert len(set(ids)) == RUNS
    async with database.sessions() as s:
        runs = (await s.execute(select(RunRow).where(col(RunRow.tenant) == tenant))).scalars().all()
        audits = await _per_workflow(s, DecisionRow, tenant)
        changes = await _per_workflow(s, CampaignChangeRow, tenant)
    assert sorted(r.workflow_id for r in runs) == sorted(ids)
    assert {r.state for r in runs} == {RunState.COMPLETED.value}
    assert audits == dict.fromkeys(ids, 1)
    assert changes == dict.fromkeys(ids, 1)


async def _at_least(client: Client, task_queue: str, n: int) -> bool:
    return await _pollers(client, task_queue) >= n


async def _completed(database: Database, tenant: str) -> int:
    async with database.sessions() as s:
        query = select(func.count()).where(
            col(RunRow.tenant) == tenant, col(RunRow.state) == RunState.COMPLETED.value
        )
        return int(await s.scalar(query) or 0)


async def _per_workflow(
    session: AsyncSession, table: type[DecisionRow | CampaignChangeRow], tenant: str
) -> dict[str, int]:
    query = (
        select(col(table.workflow_id), func.count())
        .where(col(table.tenant) == tenant)
        .group_by(col(table.workflow_id))
    )
    return {wid: n for wid, n in (await session.execute(query)).all()}


def _logs(home: Path) -> str:
    return "\n".join(
        f"--- {log.name} ---\n{log.read_text(errors='replace')[-2000:]}"
        for log in sorted(home.glob("worker-*.log"))
    )
