"""Who is working: pollers per task queue (Temporal's DescribeTaskQueue) and the AI model."""

import asyncio
from datetime import UTC

from fastapi import APIRouter
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest

from api.deps import SettingsDep, StateDep, Viewer
from api.errors import responses
from api.schemas import AgentsStatus, ModelInUse, Poller, TaskQueueStatus
from api.state import AppState
from core.settings import Settings

router = APIRouter(tags=["agents"])


async def _pollers(state: AppState, queue: str, kind: TaskQueueType.ValueType) -> list[Poller]:
    described = await state.client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace=state.namespace, task_queue=TaskQueue(name=queue), task_queue_type=kind
        )
    )
    return [
        Poller(
            identity=p.identity,
            last_access_time=(
                p.last_access_time.ToDatetime(tzinfo=UTC)
                if p.HasField("last_access_time")
                else None
            ),
            rate_per_second=p.rate_per_second or None,
        )
        for p in described.pollers
    ]


def _model(settings: Settings) -> ModelInUse:
    if settings.ai_provider == "openai":
        return ModelInUse(
            provider="openai", model=settings.openai_model, per_process=dict(settings.openai_models)
        )
    from processes.kit.rules import RULES_MODEL_NAME

    return ModelInUse(provider="rules", model=RULES_MODEL_NAME)


@router.get("/agents/status", name="agents_status", responses=responses(401, 403, 429, 503))
async def agents_status(principal: Viewer, state: StateDep, settings: SettingsDep) -> AgentsStatus:
    queue = state.task_queue
    workflow, activity = await asyncio.gather(
        _pollers(state, queue, TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW),
        _pollers(state, queue, TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY),
    )
    return AgentsStatus(
        task_queues=[
            TaskQueueStatus(name=queue, workflow_pollers=workflow, activity_pollers=activity)
        ],
        ai=_model(settings),
    )
