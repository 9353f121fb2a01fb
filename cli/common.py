"""What the CLI commands share: a Temporal client, the database, JSON in and out, errors."""

import asyncio
import getpass
import json
import sys
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import typer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from core.redis import make_redis
from core.settings import DEV_JWT_SECRET_REFUSED, Settings
from models.processes import Process
from store.connect_errors import checked_migrate
from store.db import make_engine, make_sessionmaker
from store.policies import PolicyStore
from store.policy_cache import RedisPolicyCache
from store.tenancy import ALL_TENANTS, tenant_scope
from temporal.client import connect
from temporal.door_key import NoDoorKey, door_key

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def echo_json(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2, default=str))


def fail(error: str, detail: Any, code: int = 1) -> NoReturn:
    """Print ``{"error", "detail"}`` (the API's error shape) on stderr and exit ``code``."""
    typer.echo(json.dumps({"error": error, "detail": detail}, indent=2, default=str), err=True)
    raise typer.Exit(code)


def default_actor() -> str:
    """Who to record when ``--by`` is not given: the OS user running the command."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "cli"


def parse_process(name: str) -> Process:
    try:
        return Process.parse(name)
    except ValueError:
        known = ", ".join(p.value for p in Process)
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


async def temporal(settings: Settings) -> Client:
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
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on the app database; migrated first so a fresh clone just works.

    ``tenant``: whose rows the sessions may touch under row-level security. The CLI is the
    operators' tool and holds the database's own credentials, so its default is every
    tenant (``*``); a command about one tenant's data passes that tenant."""
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
async def policy_store(settings: Settings) -> AsyncIterator[PolicyStore]:
    """The policy store with the Redis cache when configured, so a change invalidates the
    entries the workers and the API read."""
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
    if settings.jwt_hs256_enabled and settings.uses_dev_jwt_secret:
        fail("InsecureJwtSecret", DEV_JWT_SECRET_REFUSED)
    try:
        door_key(settings)
    except NoDoorKey as err:
        fail("NoDoorKey", str(err))
