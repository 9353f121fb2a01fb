"""The ``brain`` command: run the stack or its parts, start and decide runs, manage policies.

Configuration comes from ``BRAIN_*`` environment variables and ``.env`` (core/settings.py).
"""

import asyncio
import contextlib
import json
import logging
import os
import sys
import time
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated

import typer

from cli import runs
from cli.common import echo_json, fail, require_real_jwt_secret
from cli.credentials import whoami
from cli.examples import example
from cli.insights import insights
from cli.migrate import migrate
from cli.ops import ops_app
from cli.policy import policy_app
from cli.replay_check import replay_check
from cli.webhooks import webhooks_app
from core.logs import setup_logging
from core.settings import InvalidSettings, Settings, get_settings
from core.startup import StartupError
from core.telemetry import setup_tracing, shutdown_tracing
from temporal.devserver import DevServerError

app = typer.Typer(
    name="brain",
    help="Durable AI business processes on Temporal, with a human in the loop.",
    no_args_is_help=True,
    add_completion=False,
    # A plain traceback: the pretty one is pages long and would print locals (settings).
    pretty_exceptions_enable=False,
)
app.add_typer(policy_app, name="policy")
app.add_typer(ops_app, name="ops")
app.add_typer(webhooks_app, name="webhooks")
app.command("replay-check")(replay_check)
app.command()(migrate)
app.command()(runs.start)
app.command()(example)
app.command()(runs.approve)
app.command()(runs.reject)
app.command()(runs.status)
app.command()(insights)
app.command()(whoami)


class AIProvider(StrEnum):
    RULES = "rules"
    OPENAI = "openai"


class Role(StrEnum):
    VIEWER = "viewer"
    OPERATOR = "operator"
    APPROVER = "approver"
    ADMIN = "admin"
    SUPER_ADMIN = "super_admin"


class LogFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


LogFormatOption = Annotated[
    LogFormat | None,
    typer.Option("--log-format", help="text, or JSON lines (default BRAIN_LOG_FORMAT, text)."),
]


def _observed(level: int, log_format: LogFormat | None, service: str) -> Settings:
    """Settings, with logging and tracing (from OTEL_*) set up for this process."""
    settings = get_settings()
    setup_logging(log_format.value if log_format else settings.log_format, level)
    setup_tracing(service)
    return settings


@app.command()
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

    settings = _observed(logging.WARNING, log_format, "brain")
    # The one command that may use the built-in JWT secret: one machine, local use.
    settings = settings.model_copy(update={"allow_dev_secret": True})
    if ai is not None:
        settings = settings.model_copy(update={"ai_provider": ai.value})
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


@app.command()
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


@app.command()
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


@app.command()
def token(
    sub: Annotated[str, typer.Option(help="Subject: who the token speaks for.")],
    tenant: Annotated[str, typer.Option(help="Tenant of the token.")],
    role: Annotated[Role, typer.Option(help="Role; each includes the ones before it.")],
    ttl: Annotated[int, typer.Option(min=1, help="Lifetime in seconds.")] = 3600,
    raw: Annotated[bool, typer.Option("--raw", help="Print only the token (scripts).")] = False,
) -> None:
    """Mint an API token (HS256 with BRAIN_JWT_SECRET): {"token", "expires_at"}."""
    # Imported here, as the API's other modules are: the commands that do not need FastAPI
    # start without loading it.
    from api.auth import mint_token

    settings = get_settings()
    if not settings.jwt_hs256_enabled:
        fail(
            "HS256Disabled",
            "BRAIN_JWT_HS256_ENABLED is false: the API accepts no token minted here",
        )
    if ttl > settings.jwt_max_ttl_seconds:
        # The API would refuse such a token: better to say so now than at the first request.
        raise typer.BadParameter(
            f"{ttl} s is longer than the maximum token lifetime, "
            f"BRAIN_JWT_MAX_TTL_SECONDS={settings.jwt_max_ttl_seconds}",
            param_hint="'--ttl'",
        )
    issued_at = int(time.time())
    try:
        minted = mint_token(
            sub=sub,
            tenant=tenant,
            role=role.value,
            ttl_seconds=ttl,
            secret=settings.jwt_secret.get_secret_value(),
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            issued_at=issued_at,
        )
    except ValueError as err:
        fail("InvalidToken", str(err))
    if raw:
        typer.echo(minted)
    else:
        expires_at = datetime.fromtimestamp(issued_at + ttl, UTC).isoformat()
        echo_json({"token": minted, "expires_at": expires_at})


def _exit_code(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    typer.echo(str(code), err=True)
    return 1


def main() -> None:
    """Console-script entry point.

    Leaves with ``os._exit`` after flushing: a process that used a Temporal client can abort
    while the interpreter finalizes (exit 134, ``PyGILState_Release``;
    temporalio/sdk-python#300) after all its work succeeded. Nothing is left to finalize:
    every command closes its own resources before returning.
    """
    try:
        app()
        code = 0
    except SystemExit as exc:
        code = _exit_code(exc.code)
    except KeyboardInterrupt:
        code = 130
    except (InvalidSettings, StartupError) as exc:
        # What an operator must fix (a setting, a certificate, a refused connection), said
        # once and without a traceback to bury it; never a setting's value (it may be secret).
        typer.echo(
            json.dumps({"error": type(exc).__name__, "detail": str(exc)}, indent=2), err=True
        )
        code = 1
    except Exception as exc:
        # typer's hook prints the traceback (without locals).
        sys.excepthook(type(exc), exc, exc.__traceback__)
        code = 1
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
