"""The worker entry point: build the clients, bind the activities to them, run the Worker.

``brain worker`` runs it alone against any cluster; ``brain up`` runs it beside the dev
server and the API on one event loop, passing its own ``stop`` event.
"""

import asyncio
import logging
import signal

from redis.asyncio import Redis
from temporalio.client import Client
from temporalio.runtime import Runtime
from temporalio.service import RPCError
from temporalio.worker import Worker

from activities.providers import build_provider
from core.metrics import worker_telemetry
from core.settings import Settings
from store.db import make_engine, make_sessionmaker, migrate
from store.policies import PolicyStore
from store.policy_cache import RedisPolicyCache
from temporal.client import connect
from temporal.door import derive_key
from temporal.sandbox import WORKFLOW_RUNNER
from temporal.search_attributes import ensure_registered
from workers.registry import WORKFLOWS, build_activities

log = logging.getLogger(__name__)


def stop_on_signals(stop: asyncio.Event) -> None:
    """SIGINT and SIGTERM set ``stop`` instead of interrupting whatever is awaiting."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)


async def run_worker(
    settings: Settings,
    *,
    stop: asyncio.Event | None = None,
    ready: asyncio.Event | None = None,
) -> None:
    """Poll ``settings.task_queue`` until ``stop`` is set (or, without one, SIGINT/SIGTERM).

    ``ready`` is set once the worker polls, so a caller can tell the user it is up.
    """
    if stop is None:
        stop = asyncio.Event()
        stop_on_signals(stop)
    runtime, stop_metrics = None, None
    if settings.metrics_port is not None:
        # Brain's metrics and the SDK's own, on one endpoint.
        runtime, stop_metrics = worker_telemetry(settings.metrics_port, settings.metrics_host)
    try:
        await _serve(settings, stop, ready, runtime)
    finally:
        if stop_metrics is not None:
            stop_metrics()


async def _serve(
    settings: Settings,
    stop: asyncio.Event,
    ready: asyncio.Event | None,
    runtime: Runtime | None,
) -> None:
    client = await connect(settings, runtime=runtime)
    await _check_search_attributes(client, settings.temporal_namespace)
    await migrate(settings.effective_database_url)
    engine = make_engine(settings.effective_database_url)
    redis = Redis.from_url(settings.redis_url) if settings.redis_url else None
    try:
        sessions = make_sessionmaker(engine)
        policies = PolicyStore(sessions, RedisPolicyCache(redis) if redis else None)
        # With the client, this worker also runs the policy broadcasts' activities.
        activities = build_activities(
            sessions,
            policies,
            build_provider(settings),
            client=client,
            door_key=derive_key(settings.jwt_secret.get_secret_value()),
        )
        async with Worker(
            client,
            task_queue=settings.task_queue,
            workflows=WORKFLOWS,
            activities=activities,
            workflow_runner=WORKFLOW_RUNNER,
        ):
            log.info(
                "worker polling %s on %s (namespace %s)",
                settings.task_queue,
                settings.temporal_address,
                settings.temporal_namespace,
            )
            if ready is not None:
                ready.set()
            await stop.wait()
    finally:
        if redis is not None:
            await redis.aclose()
        await engine.dispose()


async def _check_search_attributes(client: Client, namespace: str) -> None:
    # An unregistered attribute stalls every workflow task, so register what is missing.
    # Temporal Cloud refuses the operator call: there they are registered with tcld or the
    # Cloud UI, and a warning is all we can give.
    try:
        added = await ensure_registered(client, namespace)
    except RPCError as err:
        log.warning(
            "could not check Brain's search attributes on %s (%s); make sure BrainProcess, "
            "BrainTenant, BrainState (Keyword) and BrainConfidence (Double) are registered",
            namespace,
            err.message,
        )
        return
    if added:
        log.info("registered search attributes %s on %s", ", ".join(added), namespace)
