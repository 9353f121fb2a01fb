"""Health of the API and its dependencies: ``/health`` (SPEC §4), and the probes an
orchestrator uses, ``/health/live`` and ``/health/ready`` (README, Production). Redis is
optional: its outage degrades ``/health``, never fails it, and readiness ignores it."""

import asyncio
from typing import Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import StateDep
from api.schemas import Health
from models.probes import Liveness, Readiness
from services.readiness import readiness, up
from store.db import ping

router = APIRouter(tags=["health"])


async def _disabled() -> None:
    return None


@router.get(
    "/health",
    name="health",
    response_model=Health,
    responses={503: {"model": Health, "description": "Temporal or the database is down"}},
)
async def health(state: StateDep) -> Health | JSONResponse:
    temporal, database, redis = await asyncio.gather(
        up(state.client.service_client.check_health()),
        up(ping(state.engine)),
        up(state.redis.ping()) if state.redis is not None else _disabled(),
    )
    redis_status: Literal["up", "down", "disabled"] = (
        "disabled" if redis is None else ("up" if redis else "down")
    )
    down = not (temporal and database)
    body = Health(
        status="down" if down else ("degraded" if redis_status == "down" else "ok"),
        temporal="up" if temporal else "down",
        database="up" if database else "down",
        redis=redis_status,
    )
    if down:
        return JSONResponse(body.model_dump(), status_code=503)
    return body


@router.get("/health/live", name="health_live", response_model=Liveness)
async def live() -> Liveness:
    """200 while the process answers; asks nothing else (a restart cures no outage)."""
    return Liveness()


@router.get(
    "/health/ready",
    name="health_ready",
    response_model=Readiness,
    response_model_exclude_none=True,
    responses={503: {"model": Readiness, "description": "a dependency does not answer"}},
)
async def ready(state: StateDep) -> Readiness | JSONResponse:
    """200 when Temporal, the database and the task queue answer (each within 3 s), else 503:
    take this process out of the load balancer until they do."""
    body = await readiness(state.client, state.engine, state.task_queue)
    if body.status != "ready":
        return JSONResponse(body.model_dump(exclude_none=True), status_code=503)
    return body
