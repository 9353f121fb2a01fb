"""The Brain REST API (SPEC §4): ``create_app()`` and its lifespan."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TypedDict

from fastapi import Depends, FastAPI
from fastapi.routing import APIRoute
from opentelemetry.trace import TracerProvider

from api import errors
from api.background import DRAIN_SECONDS
from api.docs import document_edge_errors, install_docs
from api.edge import BodyLimit, require_json_body
from api.routes import (
    agents,
    approvals,
    audit,
    health,
    insights,
    metrics,
    ops,
    policies,
    slack,
    webhooks,
    workflows,
)
from api.state import AppState, build_state, close_state
from api.tenancy import TenantScopeReset
from api.tokens import TokenVerifier
from api.unknown_query import document_unknown_query, no_unknown_query
from core.settings import DEV_JWT_SECRET_REFUSED, Settings, get_settings
from core.telemetry import instrument_app
from temporal.door_key import NoDoorKey, door_key

PREFIX = "/api/brain"


class InsecureSettings(RuntimeError):
    """Settings the API must not run with: the built-in development JWT secret while HS256
    tokens are on, no door key of its own, incomplete OIDC settings."""


class Lifespan(TypedDict):
    brain: AppState


def _operation_id(route: APIRoute) -> str:
    # Route names are unique and readable: a generated client gets ``approve``, not
    # ``approve_api_brain_workflows__workflow_id__approve_post``.
    return route.name


def create_app(
    settings: Settings | None = None,
    *,
    state: AppState | None = None,
    tracer_provider: TracerProvider | None = None,
) -> FastAPI:
    """``state``: prebuilt clients (tests); otherwise the lifespan builds them from settings.
    ``tracer_provider``: where request spans go (default: the global one, see core/telemetry)."""
    settings = settings or get_settings()
    if (
        settings.jwt_hs256_enabled
        and settings.uses_dev_jwt_secret
        and not settings.allow_dev_secret
    ):
        raise InsecureSettings(DEV_JWT_SECRET_REFUSED)
    try:
        key = state.door_key if state is not None and state.door_key else door_key(settings)
        verifier = TokenVerifier(settings)
    except (NoDoorKey, ValueError) as err:
        raise InsecureSettings(str(err)) from None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[Lifespan]:
        built = state or await build_state(settings)
        app.state.brain = built
        try:
            yield {"brain": built}
        finally:
            # A Slack click answered but still deciding gets its outcome posted first.
            await built.background.drain(DRAIN_SECONDS)
            await close_state(built)

    app = FastAPI(
        title="Brain",
        version="0.1.0",
        summary="Durable AI business processes with a human in the loop",
        lifespan=lifespan,
        generate_unique_id_function=_operation_id,
        # Served by api/docs.py from local files instead of FastAPI's CDN pages.
        docs_url=None,
        redoc_url=None,
        # On every route: a query parameter the route does not declare is a 422.
        dependencies=[Depends(no_unknown_query)],
        # FastAPI's own OpenTelemetry is off: Brain's tracing (core/telemetry.py) instruments
        # the app when OTEL_* configures an exporter, and the native spans, metrics and logs
        # cost every request a share of its CPU even with nothing to send them to.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    app.state.verifier = verifier
    if state is not None:
        state.door_key = key
        # In-process tests skip the ASGI lifespan (httpx's ASGITransport does not run it).
        app.state.brain = state
    errors.install(app)
    # Fixed paths before parameterised ones: /workflows/policies is not a workflow id.
    json_only = [Depends(require_json_body)]
    for module in (
        health, policies, approvals, workflows, audit, insights, agents, ops, webhooks, slack
    ):  # fmt: skip
        app.include_router(module.router, prefix=PREFIX, dependencies=json_only)
    # Slack posts its clicks as a form, signed by Slack rather than with a token.
    app.include_router(slack.interactions_router, prefix=PREFIX)
    # Where Prometheus looks by default, outside the versioned API (admin token: SPEC §4).
    app.include_router(metrics.router)
    install_docs(app)
    document_edge_errors(app)
    document_unknown_query(app)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    # Every request starts with no tenant; authenticating binds the caller's (api/tenancy.py).
    app.add_middleware(TenantScopeReset)
    instrument_app(app, tracer_provider)
    return app
