"""Fault scenarios on real parts, without touching the shared servers: Brain (its API state
and a worker) runs on a scratch PostgreSQL database reached through a TCP proxy that can
play a stopped server (``pgproxy``); Redis outages use a port of their own."""

from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
import pytest_asyncio
from sqlalchemy import select
from sqlmodel import col
from temporalio.client import Client

from core.settings import Settings
from models.tables import DecisionRow, RunRow
from store.db import make_engine, make_sessionmaker, migrate
from store.policies import PolicyStore
from store.scratch import scratch_postgres
from tests.api.conftest import close_api, open_api
from tests.api.support import Api
from tests.conftest import PG_ADMIN_DSN, Database
from tests.faults.pgproxy import TcpProxy, pg_proxy
from tests.support import SECRET, Brain, running_brain


def api_settings(**changes: object) -> Settings:
    values: dict[str, object] = {
        "jwt_secret": SECRET,
        "redis_url": "",
        "rate_limit_per_minute": 100_000,
        **changes,
    }
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


@dataclass
class Proxied:
    """Brain whose every database connection goes through ``proxy``; ``direct`` reaches the
    same database around it (for the test's own reads while the proxy is down)."""

    brain: Brain
    api: Api
    proxy: TcpProxy
    direct: Database

    async def as_owner(self, sql: str) -> None:
        """Run ``sql`` as the tables' owner, around the proxy (to break the schema)."""
        conn = await asyncpg.connect(self.direct.url.replace("postgresql+asyncpg", "postgresql"))
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    async def audit(self, workflow_id: str) -> list[DecisionRow]:
        async with self.direct.sessions() as s:
            query = select(DecisionRow).where(col(DecisionRow.workflow_id) == workflow_id)
            return list((await s.execute(query)).scalars())

    async def run_row(self, workflow_id: str) -> RunRow | None:
        async with self.direct.sessions() as s:
            return await s.get(RunRow, workflow_id)


@pytest_asyncio.fixture
async def proxied(client: Client) -> AsyncIterator[Proxied]:
    async with scratch_postgres("brain_fault", PG_ADMIN_DSN) as url, pg_proxy() as proxy:
        await migrate(url)
        via = proxy.url_for(url)
        # The API and the worker each with a pool of its own, as in production.
        worker_engine, api_engine = make_engine(via), make_engine(via)
        direct_engine = make_engine(url)
        try:
            async with running_brain(client, Database(via, worker_engine), queue="fault") as brain:
                sessions = make_sessionmaker(api_engine)
                api = await open_api(
                    brain,
                    api_settings(),
                    engine=api_engine,
                    sessions=sessions,
                    policies=PolicyStore(sessions),
                )
                try:
                    yield Proxied(brain, api, proxy, Database(url, direct_engine))
                finally:
                    await close_api(api)
        finally:
            for engine in (worker_engine, api_engine, direct_engine):
                await engine.dispose()
