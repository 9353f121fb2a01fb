"""What row-level security costs per transaction, counted on the wire: a TCP relay between
the engine and PostgreSQL counts round trips (each time the client speaks after the server
answered). Taking the role is free (a startup parameter); setting the tenant is one round
trip per transaction (Bind/Execute/Sync of the cached ``set_config``), and nothing else
changes. For scale: a checkout's pre-ping is 3 (asyncpg pings inside its own transaction),
BEGIN, the query and ROLLBACK 3 more."""

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col

from models.tables import RunRow
from store.db import make_engine, make_sessionmaker
from store.tenancy import tenant_scope

pytestmark = pytest.mark.postgres
TRANSACTIONS = 20


@pytest.fixture
def backend() -> str:
    return "postgres"


class RoundTrips:
    """A relay to 127.0.0.1:5432 counting the client's turns to speak."""

    def __init__(self) -> None:
        self.count = 0
        self.port = 0
        self._client_spoke_last = False
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        assert self._server is not None
        self._server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", 5432)
        await asyncio.gather(
            self._pipe(reader, up_writer, client=True),
            self._pipe(up_reader, writer, client=False),
            return_exceptions=True,
        )

    async def _pipe(
        self, src: asyncio.StreamReader, dst: asyncio.StreamWriter, *, client: bool
    ) -> None:
        try:
            while data := await src.read(65536):
                if client and not self._client_spoke_last:
                    self.count += 1
                self._client_spoke_last = client
                dst.write(data)
                await dst.drain()
        finally:
            dst.close()


@pytest.fixture
async def relay() -> AsyncIterator[RoundTrips]:
    trips = RoundTrips()
    await trips.start()
    yield trips
    await trips.close()


async def _trips_per_transaction(relay: RoundTrips, engine: AsyncEngine) -> float:
    sessions = make_sessionmaker(engine)
    query = select(func.count()).select_from(RunRow).where(col(RunRow.tenant) == "acme")

    async def once() -> None:
        with tenant_scope("acme"):
            async with sessions() as session:
                await session.scalar(query)

    await once()  # connect, and prepare the statements once (asyncpg caches them)
    before = relay.count
    for _ in range(TRANSACTIONS):
        await once()
    return (relay.count - before) / TRANSACTIONS


async def test_rls_costs_one_round_trip_per_transaction(
    relay: RoundTrips, engine: AsyncEngine, db_url: str
) -> None:
    url = db_url.replace("127.0.0.1:5432", f"127.0.0.1:{relay.port}")
    costs = {}
    for app_role in (False, True):
        # As the app's engines are built (pool_pre_ping included).
        measured = make_engine(url, app_role=app_role)
        try:
            costs[app_role] = await _trips_per_transaction(relay, measured)
        finally:
            await measured.dispose()
    assert costs[True] - costs[False] == 1.0, costs
