"""The worker entry point: build the clients, bind the activities to them, run the Worker.

``brain worker`` runs it alone against any cluster; ``brain up`` runs it beside the dev
server and the API on one event loop, passing its own ``stop`` event.

Stopping is bounded (README, Stopping). ``Worker.shutdown()`` waits for every activity in
flight, and the SDK never cancels a local activity (it runs inside its workflow task): one
that does not return would hold the shutdown forever. Past the bound the worker is left as
it is; the server times out the tasks it held and gives them to the next worker.
"""

import asyncio
import logging
import signal
from collections.abc import Coroutine
from datetime import timedelta
from typing import Any, TypeVar

from temporalio.client import Client
from temporalio.runtime import Runtime
from temporalio.service import RPCError
from temporalio.worker import Worker

from activities.providers import build_provider
from activities.webhooks.delivery_workflow import ensure_deliverer
from activities.webhooks.parts import WebhookParts, webhook_parts
from core.metrics import worker_telemetry
from core.redis import make_redis
from core.settings import Settings
from services.reconcile import ensure_reconciler
from store.connect_errors import checked_migrate
from store.db import make_engine, make_sessionmaker
from store.policies import PolicyStore
from store.policy_cache import RedisPolicyCache
from temporal.client import connect
from temporal.door_key import door_key
from temporal.sandbox import WORKFLOW_RUNNER
from temporal.search_attributes import ensure_registered
from workers.probes import WorkerProbes
from workers.registry import WORKFLOWS, build_activities

log = logging.getLogger(__name__)
T = TypeVar("T")


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
    stop_within: float | None = None,
) -> bool:
    """Poll ``settings.task_queue`` until ``stop`` is set (or, without one, SIGINT/SIGTERM).

    ``ready`` is set once the worker polls, so a caller can tell the user it is up.
    ``stop_within`` (default ``BRAIN_SHUTDOWN_TIMEOUT_SECONDS``): seconds from ``stop`` to
    give up on the shutdown. Returns False if it had to: the caller should then leave the
    process without waiting for what the worker left running.
    """
    if stop is None:
        stop = asyncio.Event()
        stop_on_signals(stop)
    if stop_within is None:
        stop_within = settings.shutdown_timeout_seconds
    runtime, stop_metrics = None, None
    probes = WorkerProbes(asyncio.get_running_loop(), stop)
    if settings.metrics_port is not None:
        # Brain's metrics and the SDK's own, on one endpoint, with the worker's probes.
        runtime, stop_metrics = worker_telemetry(
            settings.metrics_port, settings.metrics_host, routes=probes.routes()
        )
    try:
        return await _serve(settings, stop, ready, runtime, max(stop_within, 0.0), probes)
    finally:
        if stop_metrics is not None:
            stop_metrics()


async def _serve(
    settings: Settings,
    stop: asyncio.Event,
    ready: asyncio.Event | None,
    runtime: Runtime | None,
    stop_within: float,
    probes: WorkerProbes,
) -> bool:
    client = await _unless_stopped(_connect_and_migrate(settings, runtime), stop)
    if client is None:
        return True  # stopped while starting: nothing ran yet
    engine = make_engine(settings.effective_database_url)
    redis = make_redis(settings.redis_url) if settings.redis_url else None
    clean = True
    hooks: WebhookParts | None = None
    try:
        sessions = make_sessionmaker(engine)
        policies = PolicyStore(sessions, RedisPolicyCache(redis) if redis else None)
        # Runs write their events to the webhook outbox (SPEC §6); the queue's deliverer
        # runs on one of its workers.
        hooks = webhook_parts(sessions, settings)
        # With the client, this worker also runs the policy broadcasts' activities.
        activities = build_activities(
            sessions,
            policies,
            build_provider(settings),
            client=client,
            events=hooks.outbox,
            door_key=door_key(settings),
        )
        activities += hooks.activities
        worker = Worker(
            client,
            task_queue=settings.task_queue,
            workflows=WORKFLOWS,
            activities=activities,
            workflow_runner=WORKFLOW_RUNNER,
            # Activities in flight get half the bound to finish, then are cancelled; the
            # other half is for them to return and for the worker to report back.
            graceful_shutdown_timeout=timedelta(seconds=stop_within / 2),
        )
        await ensure_reconciler(client, settings.task_queue)  # runs closed outside Brain
        await ensure_deliverer(client, settings.task_queue)  # the webhook outbox
        probes.attach(client, engine, worker, settings.task_queue)
        log.info(
            "worker polling %s on %s (namespace %s)",
            settings.task_queue,
            settings.temporal_address,
            settings.temporal_namespace,
        )
        clean = await _run_until_stopped(worker, stop, ready, stop_within)
        return clean
    finally:
        # After a cut-short stop the process leaves at once, and its connections with it;
        # closing them could wait on the very thing that held the worker.
        if clean:
            if hooks is not None:
                await hooks.aclose()
            if redis is not None:
                await redis.aclose()
            await engine.dispose()


async def _connect_and_migrate(settings: Settings, runtime: Runtime | None) -> Client:
    """Raises ``StartupError`` (core/startup.py), naming the setting, when Temporal or the
    database refuses the connection."""
    client = await connect(settings, runtime=runtime)
    await _check_search_attributes(client, settings.temporal_namespace)
    await checked_migrate(settings.effective_database_url)
    return client


async def _unless_stopped(aw: Coroutine[Any, Any, T], stop: asyncio.Event) -> T | None:
    """``aw``'s result, or None if ``stop`` comes first: starting waits on Temporal and the
    database, which may not answer, and a stop must not wait for them."""
    task = asyncio.create_task(aw)
    stopped = asyncio.create_task(stop.wait())
    await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
    stopped.cancel()
    if task.done():
        return task.result()
    task.cancel()
    return None


async def _run_until_stopped(
    worker: Worker, stop: asyncio.Event, ready: asyncio.Event | None, stop_within: float
) -> bool:
    """``Worker.run()`` until ``stop``, then its shutdown, given ``stop_within`` seconds.
    Not ``async with Worker``: its exit awaits the shutdown without a bound."""
    running = asyncio.create_task(worker.run(), name="temporal worker")
    stopped = asyncio.create_task(stop.wait())
    if ready is not None:
        ready.set()
    await asyncio.wait({running, stopped}, return_when=asyncio.FIRST_COMPLETED)
    stopped.cancel()
    if running.done():  # a fatal error (it cannot return before a shutdown)
        running.result()
        return True
    shutdown = asyncio.create_task(worker.shutdown(), name="worker shutdown")
    done, _ = await asyncio.wait({shutdown, running}, timeout=stop_within)
    if shutdown not in done:
        log.warning(
            "The worker did not stop within %g s: an activity in flight has not returned "
            "(the SDK never cancels a local one; others may ignore the cancel). Leaving it "
            "to Temporal: the server times out its tasks and hands them to the next worker.",
            stop_within,
        )
        return False
    if running.done():
        running.result()  # a fatal error raises
    return True


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
