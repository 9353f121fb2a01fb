"""``brain up``, ``brain worker`` and ``brain api``: the stack, or one of its parts, in this
process (the parts themselves: cli/stack.py)."""

import asyncio
import logging
from typing import Annotated

import typer

from cli.common import fail, require_real_jwt_secret
from cli.home import settings as cli_settings
from core.logs import setup_logging
from core.settings import AIProvider, LogFormat, Settings, get_settings
from core.telemetry import setup_tracing, shutdown_tracing
from temporal.devserver import DevServerError

LogFormatOption = Annotated[
    LogFormat | None,
    typer.Option("--log-format", help="text, or JSON lines (default BRAIN_LOG_FORMAT, text)."),
]


def _observed(
    level: int, log_format: LogFormat | None, service: str, *, home: bool = True
) -> Settings:
    """Settings, with logging and tracing (from OTEL_*) set up for this process. ``home``:
    with the addresses of a ``brain up`` on this home where no BRAIN_* variable sets them
    (``brain up`` itself is the one that writes them)."""
    settings = cli_settings() if home else get_settings()
    setup_logging(log_format or settings.log_format, level)
    setup_tracing(service)
    return settings


def up(
    api_port: Annotated[int, typer.Option(help="Port of the REST API.")] = 8001,
    temporal_port: Annotated[int, typer.Option(help="Port of Temporal's frontend (gRPC).")] = 7233,
    ui_port: Annotated[int, typer.Option(help="Port of the Temporal Web UI.")] = 8233,
    ai: Annotated[AIProvider | None, typer.Option(help="AI model (default: settings).")] = None,
    no_api: Annotated[bool, typer.Option("--no-api", help="Run without the REST API.")] = False,
    log_format: LogFormatOption = None,
) -> None:
    """Run everything on this machine: Temporal dev server + Web UI, a worker and the API.

    Ctrl-C or SIGTERM stops it within BRAIN_SHUTDOWN_TIMEOUT_SECONDS (exit 0; 124 when that
    bound cut the stop short); a second Ctrl-C stops it at once.
    """
    from api.app import create_app
    from cli.stack import StackError, run_stack

    settings = _observed(logging.WARNING, log_format, "brain", home=False)
    # The one command that may use the built-in JWT secret: one machine, local use.
    settings = settings.model_copy(update={"allow_dev_secret": True})
    if ai is not None:
        settings = settings.model_copy(update={"ai_provider": ai})
    try:
        code = asyncio.run(
            run_stack(
                settings,
                temporal_port=temporal_port,
                ui_port=ui_port,
                api_port=api_port,
                create_app=None if no_api else create_app,
            )
        )
    except (StackError, DevServerError) as err:
        fail(type(err).__name__, str(err))
    finally:
        shutdown_tracing()
    raise typer.Exit(code)


def worker(log_format: LogFormatOption = None) -> None:
    """Run a worker against the configured cluster (BRAIN_TEMPORAL_*); run more to scale out.

    BRAIN_METRICS_PORT (e.g. 9464) serves its metrics, and the SDK's, for Prometheus.
    SIGTERM stops it within BRAIN_SHUTDOWN_TIMEOUT_SECONDS, as for `brain up`.
    """
    from cli.stack import run_worker_alone

    settings = _observed(logging.INFO, log_format, "brain-worker")
    require_real_jwt_secret(settings)
    try:
        code = asyncio.run(run_worker_alone(settings))
    finally:
        shutdown_tracing()
    raise typer.Exit(code)


def api(
    host: Annotated[str | None, typer.Option(help="Interface (default BRAIN_API_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default BRAIN_API_PORT).")] = None,
    workers: Annotated[
        int, typer.Option(min=1, help="API processes on one port (one per core is typical).")
    ] = 1,
    log_format: LogFormatOption = None,
) -> None:
    """Run the REST API alone against the configured cluster and database."""
    from api.app import create_app
    from cli.stack import StackError, run_api

    settings = _observed(logging.INFO, log_format, "brain-api")
    require_real_jwt_secret(settings)
    updates = {k: v for k, v in (("api_host", host), ("api_port", port)) if v is not None}
    if workers > 1:
        from cli.api_processes import run_api_processes

        try:
            code = run_api_processes(settings.model_copy(update=updates), workers)
        finally:
            shutdown_tracing()
        raise typer.Exit(code)
    try:
        code = asyncio.run(run_api(settings.model_copy(update=updates), create_app))
    except StackError as err:
        fail(type(err).__name__, str(err))
    finally:
        shutdown_tracing()
    raise typer.Exit(code)
