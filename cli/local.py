"""What ``brain up`` sets up for one machine and tells its user: the parts' settings, the
links (the Web UI's inbox, the API and its docs), a token to paste, and the same for the
other ``brain`` commands in ``BRAIN_HOME/stack.json`` (cli/home.py)."""

import os
import shlex
import sys
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import typer

from cli.home import Stack
from core.settings import Settings
from models.processes import RunState
from temporal.devserver import DevServer
from temporal.search_attributes import BRAIN_STATE

if TYPE_CHECKING:
    from fastapi import FastAPI

API_PREFIX = "/api/brain"
LOCAL_TENANT = "local"
TOKEN_TTL_SECONDS = 24 * 3600


def local_settings(
    settings: Settings, *, temporal_address: str, ui_url: str, api_port: int
) -> Settings:
    """The settings of the parts ``brain up`` runs: its own dev server, no TLS, its ports."""
    update: dict[str, Any] = {
        "temporal_address": temporal_address,
        "temporal_tls": False,
        "temporal_tls_cert": None,
        "temporal_tls_key": None,
        # Either would turn TLS on (temporal/tls.py) against the plain dev server.
        "temporal_tls_ca": None,
        "temporal_tls_server_name": None,
        "temporal_api_key": None,
        "api_port": api_port,
        "webhook_allow_private": True,
    }
    # Webhook events link to this stack's API and Web UI, on the ports it was given, unless
    # the user named other addresses (a tunnel, a proxy): those win.
    links = {
        "public_api_url": api_base(settings.api_host, api_port) + API_PREFIX,
        "web_ui_url": ui_url,
    }
    update |= {k: v for k, v in links.items() if k not in settings.model_fields_set}
    return settings.model_copy(update=update)


def api_base(host: str, port: int) -> str:
    """Where a browser on this machine reaches an API listening on ``host``."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    return f"http://{shown}:{port}"


def inbox_url(web_ui_url: str, namespace: str) -> str:
    """The Web UI's list of runs waiting for a person (search attribute ``BrainState``)."""
    query = quote(f'{BRAIN_STATE.name}="{RunState.AWAITING_APPROVAL.value}"', safe="")
    return (
        f"{web_ui_url.rstrip('/')}/namespaces/{quote(namespace, safe='')}/workflows?query={query}"
    )


def local_stack(dev: DevServer, settings: Settings, with_api: bool) -> Stack:
    """This ``brain up`` as the other commands find it, with a super-admin token for its
    local tenant when the API runs."""
    now = datetime.now(UTC)
    stack = Stack(
        pid=os.getpid(),
        started_at=now,
        temporal_address=dev.address,
        temporal_namespace=settings.temporal_namespace,
        task_queue=settings.task_queue,
        database_url=settings.effective_database_url,
        redis_url=settings.redis_url,
        web_ui_url=dev.ui_url,
        tenant=LOCAL_TENANT,
        webhook_allow_private=settings.webhook_allow_private,
    )
    if not with_api:
        return stack
    # Here, not at the top: `brain worker` imports this module and needs no FastAPI.
    from api.auth import mint_token

    token = mint_token(
        sub="local-admin",
        tenant=LOCAL_TENANT,
        role="super_admin",
        ttl_seconds=TOKEN_TTL_SECONDS,
        secret=settings.jwt_secret.get_secret_value(),
    )
    base = api_base(settings.api_host, settings.api_port)
    return stack.model_copy(
        update={
            "api_url": base + API_PREFIX,
            "token": token,
            "token_expires_at": now + timedelta(seconds=TOKEN_TTL_SECONDS),
        }
    )


def banner(
    stack: Stack, settings: Settings, app: "FastAPI | None", stop_within: float, written: str
) -> None:
    lines = [
        "",
        "Brain is up.",
        f"  Temporal   {stack.temporal_address} (namespace {stack.temporal_namespace})",
        f"  Web UI     {stack.web_ui_url}",
        f"  Inbox      {inbox_url(stack.web_ui_url, stack.temporal_namespace)}",
        f"  Worker     task queue {stack.task_queue}, AI model: {settings.ai_provider}",
        f"  Database   {settings.database_url_for_display}",
    ]
    if app is None or stack.api_url is None:
        lines.append("  API        not running (--no-api)")
    else:
        base = api_base(settings.api_host, settings.api_port)
        lines.append(f"  API        {stack.api_url}  (health: {stack.api_url}/health)")
        if app.docs_url:
            redoc = f"  (ReDoc: {base}{app.redoc_url})" if app.redoc_url else ""
            lines.append(f"  API docs   {base}{app.docs_url}{redoc}")
        lines.append(f"  Token      super_admin, tenant {stack.tenant}, valid 24 h; for curl:")
        # One line to paste: the README's REST examples use $BRAIN and $TOKEN.
        lines.append(f"             export BRAIN={stack.api_url} TOKEN={stack.token}")
    lines += [
        f"  For brain  {written} (these addresses and the token; removed on stop)",
        "",
        f"Try:  {_home_prefix(settings)}{_prog()} start lead_scoring --example unsure",
        f"Ctrl-C stops everything within {stop_within:g} s; twice, at once.",
    ]
    typer.echo("\n".join(lines))


def _home_prefix(settings: Settings) -> str:
    """The other commands find this stack through its home: name it when it is not the
    default one (``.brain`` where they run)."""
    if "home" not in settings.model_fields_set:
        return ""
    return f"BRAIN_HOME={shlex.quote(str(settings.home.resolve()))} "


def _prog() -> str:
    # `make up` runs .venv/bin/brain, which is not on PATH: echo back what was run.
    return sys.argv[0] if os.sep in sys.argv[0] else "brain"
