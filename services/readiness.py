"""The readiness checks the API and the workers share (``/health/ready``).

Each check is bounded by ``CHECK_TIMEOUT`` and they run side by side, so an answer comes
within about that long whatever is down: a supervisor's probe timeout must be longer (the
README's Production section and deploy/ use 5 s).
"""

import asyncio
import logging
from collections.abc import Awaitable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from models.probes import Readiness, Up
from store.db import ping

log = logging.getLogger(__name__)

CHECK_TIMEOUT = 3.0


async def up(check: Awaitable[Any]) -> bool:
    """True if ``check`` returns something truthy within ``CHECK_TIMEOUT``; any failure is
    False."""
    try:
        return bool(await asyncio.wait_for(check, CHECK_TIMEOUT))
    except Exception as e:
        log.debug("health check failed: %s", e)
        return False


async def _describe(client: Client, task_queue: str) -> bool:
    await client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace=client.namespace,
            task_queue=TaskQueue(name=task_queue),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        )
    )
    return True


def _up(ok: bool) -> Up:
    return "up" if ok else "down"


async def readiness(client: Client, engine: AsyncEngine, task_queue: str) -> Readiness:
    temporal, database, queue = await asyncio.gather(
        up(client.service_client.check_health()),
        up(ping(engine, CHECK_TIMEOUT)),
        up(_describe(client, task_queue)),
    )
    return Readiness(
        status="ready" if temporal and database and queue else "not_ready",
        temporal=_up(temporal),
        database=_up(database),
        task_queue=_up(queue),
    )
