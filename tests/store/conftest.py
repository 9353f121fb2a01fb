"""Store fixtures: every test runs on SQLite (a fresh file) and on PostgreSQL (one database for
the session, emptied before each test). PostgreSQL being down is a failure, not a skip."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from store.db import make_engine, make_sessionmaker, migrate
from store.policies import PolicyStore
from store.scratch import scratch_postgres


@pytest.fixture(scope="session")
async def pg_database() -> AsyncIterator[str]:
    async with scratch_postgres("brain_test_store") as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    backend: str = request.param
    return backend


@pytest.fixture
def _backend_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    # Sync on purpose: an async fixture cannot pull the session database lazily
    # (getfixturevalue would start a second event loop inside the running one).
    if backend == "sqlite":
        # A subdirectory that does not exist yet: make_engine must create it.
        return f"sqlite+aiosqlite:///{tmp_path / 'data' / 'brain.db'}"
    url: str = request.getfixturevalue("pg_database")
    return url


@pytest.fixture
async def db_url(backend: str, _backend_url: str) -> str:
    """An empty database (no tables) on the chosen backend."""
    if backend == "postgres":
        engine = create_async_engine(_backend_url)
        try:
            async with engine.begin() as conn:
                await conn.execute(text("DROP SCHEMA public CASCADE"))
                await conn.execute(text("CREATE SCHEMA public"))
        finally:
            await engine.dispose()
    return _backend_url


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    await migrate(db_url)
    engine = make_engine(db_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def store(engine: AsyncEngine) -> PolicyStore:
    return PolicyStore(make_sessionmaker(engine))
