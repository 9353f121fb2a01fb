"""``brain up``, ``brain worker`` and ``brain api``: the dev server, the worker and the API on
one event loop.

A signal sets the ``Stopper``'s event; the API and the worker then stop side by side, and
the dev server last, all within the stop bound (cli/stopping.py). The dev server runs in its
own process group, so Ctrl-C reaches it only through ``DevServer.stop()``, after the worker
has let go of it.
"""

import asyncio
import contextlib
import errno
import os
import socket
from collections.abc import Awaitable, Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, Protocol

import typer
import uvicorn

from cli import home
from cli.local import banner, local_settings, local_stack
from cli.stopping import Stopper
from core.logs import json_logging
from core.settings import Settings
from store.db import migrate
from temporal.devserver import DevServer
from workers.main import run_worker

if TYPE_CHECKING:
    from fastapi import FastAPI

    from api.state import AppState

    AppFactory = Callable[[Settings], FastAPI]


class StatefulAppFactory(Protocol):
    """``api.app.create_app``: an app on clients built beforehand."""

    def __call__(self, settings: Settings, *, state: "AppState | None" = None) -> "FastAPI": ...


# Of the stop bound, the share the dev server keeps for itself in `brain up` (its guard gives
# it 2 s to exit on SIGTERM); the worker and the API stop in the rest.
DEV_SERVER_SHARE = 0.25


class StackError(RuntimeError):
    """A part of the stack failed to start or stopped on its own."""


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: the stack's ``stop`` event drives it."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def api_server(
    app: "FastAPI", host: str, port: int, log_level: str, stop_within: float
) -> uvicorn.Server:
    # With JSON logs, uvicorn's loggers must reach the root handler, not print text.
    log_config = None if json_logging() else uvicorn.config.LOGGING_CONFIG
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        log_config=log_config,
        # Requests in flight get half of the API's stop budget, then are cancelled; the app's
        # lifespan shutdown (closing its clients) has the other half.
        timeout_graceful_shutdown=max(int(stop_within / 2), 1),
    )
    return _Server(config)


async def serve(server: uvicorn.Server) -> None:
    try:
        await server.serve()
    except SystemExit as exc:
        # uvicorn exits the process when it cannot bind or its lifespan fails to start.
        raise StackError(f"the API did not start (uvicorn exit {exc.code}); see above") from None
    if not server.started:
        raise StackError("the API did not start; see above")


def _build_app(create_app: "AppFactory", settings: Settings) -> "FastAPI":
    """The app, or a ``StackError`` saying which setting it refuses to run with."""
    from api.app import InsecureSettings

    try:
        return create_app(settings)
    except InsecureSettings as err:
        raise StackError(str(err)) from None


def ensure_port_free(host: str, port: int, what: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            reason = "is already in use" if exc.errno == errno.EADDRINUSE else f"failed: {exc}"
            raise StackError(f"port {port} ({what}) on {host} {reason}") from exc


async def run_api(settings: Settings, create_app: "StatefulAppFactory") -> int:
    """``brain api``: the API alone, until SIGINT/SIGTERM; returns the exit code.

    Its clients are built before uvicorn starts, so that Temporal or the database refusing
    them raises ``StartupError``, which the CLI prints as a message naming the setting,
    rather than uvicorn's traceback of a failed lifespan; the app's lifespan closes them."""
    from api.state import build_state

    stopper = Stopper(settings.shutdown_timeout_seconds)
    stopper.install()
    state = await build_state(settings)
    server = api_server(
        _build_app(lambda s: create_app(s, state=state), settings),
        settings.api_host,
        settings.api_port,
        "info",
        stopper.timeout,
    )
    await _run_until_stopped({asyncio.create_task(serve(server), name="api")}, stopper, server)
    return stopper.finish()


async def run_worker_alone(settings: Settings) -> int:
    """``brain worker``: returns the exit code. A worker that fails raises as it is (one that
    cannot connect: ``StartupError``, which the CLI prints naming the setting)."""
    stopper = Stopper(settings.shutdown_timeout_seconds)
    stopper.install()
    # The last second of the bound is for closing the database and Redis clients.
    clean = await run_worker(settings, stop=stopper.event, stop_within=stopper.timeout - 1)
    stopper.cut_short |= not clean
    return stopper.finish()


async def run_stack(
    settings: Settings,
    *,
    temporal_port: int,
    ui_port: int,
    api_port: int,
    create_app: "AppFactory | None",
) -> int:
    """``brain up``: returns the exit code (0 after a clean Ctrl-C, cli/stopping.py)."""
    stopper = Stopper(settings.shutdown_timeout_seconds)
    stopper.install()
    if create_app is not None:
        ensure_port_free(settings.api_host, api_port, "Brain API")
    dev = DevServer(settings.home, temporal_port, ui_port, namespace=settings.temporal_namespace)
    stopper.on_force(dev.kill)
    typer.echo(f"Starting the Temporal dev server (state in {dev.db_file}) ...")
    try:
        code = await _run_parts(settings, dev, stopper, api_port, create_app)
    finally:
        # First: from now on the other commands stop using this stack.
        home.remove(settings.home, os.getpid())
        # SIGKILLed, if need be, when the clock runs out (and by the force hook after it).
        await dev.stop(grace=stopper.remaining(reserve=0.2) if stopper.stopping else None)
    typer.echo("Brain stopped (cut short)." if stopper.cut_short else "Brain stopped.")
    return stopper.finish(code)


async def _run_parts(
    settings: Settings,
    dev: DevServer,
    stopper: Stopper,
    api_port: int,
    create_app: "AppFactory | None",
) -> int:
    """The dev server, then the worker and the API, until stopped; 130 if stopped while
    starting."""
    stop = stopper.event
    dev_share = stopper.timeout * DEV_SERVER_SHARE
    if not await _unless_stopped(dev.start(), stop):
        return 130
    local = local_settings(
        settings, temporal_address=dev.address, ui_url=dev.ui_url, api_port=api_port
    )
    if not await _unless_stopped(migrate(local.effective_database_url), stop):
        return 130
    worker_ready = asyncio.Event()
    # The worker decides a little before the clock does, so it can say what it left.
    worker_within = stopper.timeout - dev_share - 0.5
    worker = run_worker(local, stop=stop, ready=worker_ready, stop_within=worker_within)
    tasks = {
        asyncio.create_task(worker, name="worker"),
        asyncio.create_task(_watch(dev, stop), name="temporal dev server"),
    }
    app, server = None, None
    started = False
    try:
        if create_app is not None:
            app = _build_app(create_app, local)
            server = api_server(app, local.api_host, api_port, "warning", worker_within)
            tasks.add(asyncio.create_task(serve(server), name="api"))
        if await _unless_stopped(_started(worker_ready, server), stop, watch=tasks):
            stack = local_stack(dev, local, with_api=app is not None)
            written = home.write(local.home, stack)
            banner(stack, local, app, stopper.timeout, str(written))
        started = True
    finally:
        if not started:
            stopper.stop()
        await _run_until_stopped(tasks, stopper, server, reserve=dev_share)
    return 0


async def _unless_stopped(
    aw: Awaitable[Any], stop: asyncio.Event, watch: Iterable[asyncio.Task[Any]] = ()
) -> bool:
    """Await ``aw``; True if it completed. False, with ``aw`` cancelled, when ``stop`` is set
    or a task in ``watch`` ends first (the caller then collects that task's failure)."""
    task = asyncio.ensure_future(aw)
    stopper = asyncio.create_task(stop.wait())
    await asyncio.wait({task, stopper, *watch}, return_when=asyncio.FIRST_COMPLETED)
    stopper.cancel()
    if task.done():
        task.result()
        return True
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return False


async def _run_until_stopped(
    tasks: set[asyncio.Task[Any]],
    stopper: Stopper,
    server: uvicorn.Server | None,
    reserve: float = 0.0,
) -> None:
    """Run until a signal or until one part ends; then stop every part within the bound (less
    ``reserve``) and raise the first failure, if any."""
    stopped = asyncio.create_task(stopper.event.wait())
    done, _ = await asyncio.wait({*tasks, stopped}, return_when=asyncio.FIRST_COMPLETED)
    stopped.cancel()
    # A part that returns once it sees the stop (the dev server's watch) did not end early.
    early = [] if stopper.event.is_set() else [t for t in done if t is not stopped]
    stopper.stop()
    if server is not None:
        server.should_exit = True
    await stopper.wait(tasks, reserve)
    for task in tasks:
        if not task.done() or task.cancelled():
            continue
        if (error := task.exception()) is not None:
            raise StackError(f"the {task.get_name()} failed: {error!r}") from error
        if task.result() is False:  # the worker: it stopped, but not in time
            stopper.cut_short = True
    if early:
        raise StackError(f"the {early[0].get_name()} stopped on its own")


async def _started(worker_ready: asyncio.Event, server: uvicorn.Server | None) -> None:
    await worker_ready.wait()
    # uvicorn exposes only a flag, not an event.
    while server is not None and not server.started:  # noqa: ASYNC110
        await asyncio.sleep(0.05)


async def _watch(dev: DevServer, stop: asyncio.Event) -> None:
    """End (and so stop the stack) if the dev server dies under us."""
    while not stop.is_set():
        if not dev.running:
            raise StackError(f"the Temporal dev server exited; see {dev.log_file}")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 1.0)
