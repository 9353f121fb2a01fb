"""What the CLI commands share: a Temporal client, the database, JSON in and out, errors.

Light to import: every command imports this module, so what only some of them need (the
database, the processes, the Temporal client) is imported where it is used (cli/lazy.py).
"""

import asyncio
import getpass
import json
import sys
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import typer

from cli.home import stack
from core.settings import DEV_JWT_SECRET_REFUSED, Settings
from models.timestamps import rfc3339
from store.tenancy import ALL_TENANTS

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
    from temporalio.client import Client

    from models.processes import Process
    from store.policies import PolicyStore

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def _plain(value: Any) -> Any:
    # Timestamps as the API writes them (RFC 3339 UTC with Z); anything else as text.
    return rfc3339(value) if isinstance(value, datetime) else str(value)


def echo_json(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2, default=_plain))


def fail(
    error: str, detail: str, fields: list[dict[str, Any]] | None = None, code: int = 1
) -> NoReturn:
    """Print the API's error shape, ``{"error", "detail": "<text>", "fields"?}``, on stderr
    and exit ``code``. ``fields``: ``{"loc", "msg", "type"}`` each, for invalid input."""
    body: dict[str, Any] = {"error": error, "detail": detail}
    if fields:
        body["fields"] = fields
    typer.echo(json.dumps(body, indent=2, default=_plain), err=True)
    raise typer.Exit(code)


def invalid(error: str, errors: Any, *prefix: str | int) -> NoReturn:
    """Fail with pydantic's errors as the API's 422 shows them."""
    from api.field_errors import field_errors, summary

    fields = field_errors(list(errors), tuple(prefix))
    fail(error, summary(fields), fields)


def default_actor() -> str:
    """Who to record when ``--by`` is not given: the OS user running the command."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "cli"


def parse_process(name: str) -> "Process":
    from processes import registry

    try:
        return registry.parse(name)
    except registry.UnknownProcess:
        known = ", ".join(registry.processes())
        raise typer.BadParameter(
            f"unknown process {name!r}; one of {known} (or a seed alias)"
        ) from None


def read_json_file(path: str) -> Any:
    """A JSON document from ``path``, or from stdin when ``path`` is ``-``."""
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text()
    except OSError as err:
        raise typer.BadParameter(f"cannot read {path}: {err.strerror}") from None
    return parse_json(text, path)


def parse_json(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise typer.BadParameter(f"{what} is not valid JSON: {err}") from None


async def temporal(settings: Settings) -> "Client":
    from temporal.client import connect

    try:
        return await connect(settings)
    except RuntimeError as err:
        fail(
            "TemporalUnavailable",
            f"cannot reach Temporal at {settings.temporal_address} "
            f"(namespace {settings.temporal_namespace}): {err}. Is `brain up` running, or "
            "BRAIN_TEMPORAL_ADDRESS set?",
        )


@asynccontextmanager
async def database(
    settings: Settings, *, migrate_first: bool = True, tenant: str = ALL_TENANTS
) -> "AsyncIterator[async_sessionmaker[AsyncSession]]":
    """Sessions on the app database; migrated first so a fresh clone just works.

    ``tenant``: whose rows the sessions may touch under row-level security. The CLI is the
    operators' tool and holds the database's own credentials, so its default is every
    tenant (``*``); a command about one tenant's data passes that tenant."""
    from store.connect_errors import checked_migrate
    from store.db import make_engine, make_sessionmaker
    from store.tenancy import tenant_scope

    url = settings.effective_database_url
    if migrate_first:
        # A refused connection: StartupError, printed naming the setting (cli/main.py).
        await checked_migrate(url)
    engine = make_engine(url)
    try:
        with tenant_scope(tenant):
            yield make_sessionmaker(engine)
    finally:
        await engine.dispose()


@asynccontextmanager
async def policy_store(settings: Settings) -> "AsyncIterator[PolicyStore]":
    """The policy store with the Redis cache when configured, so a change invalidates the
    entries the workers and the API read."""
    from core.redis import make_redis
    from store.policies import PolicyStore
    from store.policy_cache import RedisPolicyCache

    redis = make_redis(settings.redis_url) if settings.redis_url else None
    try:
        async with database(settings) as sessions:
            yield PolicyStore(sessions, RedisPolicyCache(redis) if redis else None)
    finally:
        if redis is not None:
            await redis.aclose()


def require_real_jwt_secret(settings: Settings) -> None:
    """Refuse to run (``brain api``, ``brain worker``) with the built-in development JWT
    secret while HS256 tokens are on (SPEC §4): with it anyone can mint a super-admin token;
    and without a door key of this deployment's own (temporal/door_key.py): with the
    built-in one anyone could sign a decision as the REST door. Only ``brain up``, on one
    machine, may use it."""
    from temporal.door_key import NoDoorKey, door_key

    if settings.jwt_hs256_enabled and settings.uses_dev_jwt_secret:
        fail("InsecureJwtSecret", DEV_JWT_SECRET_REFUSED)
    try:
        door_key(settings)
    except NoDoorKey as err:
        fail("NoDoorKey", str(err))


def tenant_or_local(given: str | None) -> str:
    """``--tenant``, or the local tenant of the ``brain up`` running on this home."""
    if given is not None:
        return given
    found = stack()
    if found is None:
        raise typer.BadParameter(
            "give the tenant (no `brain up` is running on this BRAIN_HOME to take it from)",
            param_hint="'--tenant'",
        )
    return found.tenant
