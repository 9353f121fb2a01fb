"""A worker's probes, on its metrics port (``BRAIN_METRICS_PORT``): ``/health/live`` and
``/health/ready``, answering as the API's do (models/probes.py).

The metrics server answers on threads of its own, so the probes ask the worker's event loop:
liveness is that loop running a no-op within ``LIVE_TIMEOUT`` (a loop stuck in blocking code
is a process to restart, though its HTTP thread would still answer); readiness runs the
shared checks (services/readiness.py) on that loop, with the worker's own clients, once the
worker polls.
"""

import asyncio
import concurrent.futures
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client
from temporalio.worker import Worker

from core.metrics import Route
from models.probes import Liveness, Readiness
from services.readiness import CHECK_TIMEOUT, readiness

LIVE_TIMEOUT = 2.0
T = TypeVar("T")


@dataclass(frozen=True)
class _Parts:
    client: Client
    engine: AsyncEngine
    worker: Worker
    task_queue: str


def _answer(status: int, body: BaseModel) -> tuple[int, bytes]:
    return status, body.model_dump_json(exclude_none=True).encode()


class WorkerProbes:
    """``stop``: the worker's stop event; once set, the worker is not ready any more, whatever
    the checks say (only its flag is read, from the server's threads)."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        stop: asyncio.Event,
        live_timeout: float = LIVE_TIMEOUT,
    ) -> None:
        self._loop = loop
        self._stop = stop
        self._live_timeout = live_timeout
        self._parts: _Parts | None = None

    def attach(self, client: Client, engine: AsyncEngine, worker: Worker, task_queue: str) -> None:
        """The worker is about to poll: readiness now checks its clients."""
        self._parts = _Parts(client, engine, worker, task_queue)

    def routes(self) -> dict[str, Route]:
        return {"/health/live": self.live, "/health/ready": self.ready}

    def _on_loop(self, coro: Coroutine[Any, Any, T], timeout: float) -> T:
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result(timeout)
        finally:
            future.cancel()  # a no-op once done; otherwise nobody waits for it any more

    def live(self) -> tuple[int, bytes]:
        try:
            self._on_loop(asyncio.sleep(0), self._live_timeout)
        except (concurrent.futures.TimeoutError, RuntimeError):
            # RuntimeError: the loop is closed. The body says little: it is the status code
            # a supervisor acts on.
            return 503, b'{"status":"down"}'
        return _answer(200, Liveness())

    def ready(self) -> tuple[int, bytes]:
        parts = self._parts
        if self._stop.is_set():
            return _answer(503, Readiness(status="not_ready", worker="stopping"))
        if parts is None or not parts.worker.is_running:
            return _answer(503, Readiness(status="not_ready", worker="starting"))
        try:
            checked = self._on_loop(
                readiness(parts.client, parts.engine, parts.task_queue), CHECK_TIMEOUT + 1
            )
        except (concurrent.futures.TimeoutError, RuntimeError):
            return _answer(503, Readiness(status="not_ready", worker="polling"))
        body = checked.model_copy(update={"worker": "polling"})
        return _answer(200 if body.status == "ready" else 503, body)
