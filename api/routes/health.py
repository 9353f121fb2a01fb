"""Liveness of the API's dependencies. Redis is optional: its outage degrades, never fails."""

import asyncio
import logging
from collections.abc import Awaitable
from typing import Any, Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import StateDep
from api.schemas import Health
from store.db import ping

router = APIRouter(tags=["health"])
log = logging.getLogger(__name__)

_CHECK_TIMEOUT = 3.0


async def _up(check: Awaitable[Any]) -> bool:
    # Any failure, or no answer within the timeout, means "down" to a health check.
    try:
        return bool(await asyncio.wait_for(check, _CHECK_TIMEOUT))
    except Exception as e:
        log.debug("health check failed: %s", e)
        return False


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
        _up(state.client.service_client.check_health()),
        _up(ping(state.engine)),
        _up(state.redis.ping()) if state.redis is not None else _disabled(),
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
