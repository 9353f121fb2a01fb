"""A TCP proxy between Brain and PostgreSQL that can play "the server is stopped" without
touching the shared server: ``down()`` closes every open connection and stops listening,
so new connections are refused as by a stopped server; ``up()`` listens again on the same
port."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.engine import make_url

_CHUNK = 64 * 1024


class TcpProxy:
    def __init__(self, target_host: str = "127.0.0.1", target_port: int = 5432) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self.accepted = 0
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()
        self._pipes: set[asyncio.Task[None]] = set()

    @property
    def is_up(self) -> bool:
        return self._server is not None

    def url_for(self, url: str) -> str:
        """``url`` (SQLAlchemy) pointed at the proxy instead of the server."""
        return make_url(url).set(host="127.0.0.1", port=self.port).render_as_string(False)

    async def up(self) -> None:
        if self._server is not None:
            return
        # The first time on a free port; afterwards on the same one, as a restarted server.
        self._server = await asyncio.start_server(
            self._serve, "127.0.0.1", self.port, reuse_address=True
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def down(self) -> None:
        """Refuse new connections and drop the open ones, both directions at once."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for writer in list(self._open):
            _abort(writer)
        self._open.clear()
        for task in list(self._pipes):
            task.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)
        if server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), 5)

    async def _serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        if self._server is None:
            _abort(client_w)
            return
        try:
            server_r, server_w = await asyncio.open_connection(*self.target)
        except OSError:
            _abort(client_w)
            return
        self.accepted += 1
        self._open.update((client_w, server_w))
        pipes = [
            asyncio.create_task(_pipe(client_r, server_w)),
            asyncio.create_task(_pipe(server_r, client_w)),
        ]
        self._pipes.update(pipes)
        try:
            # Either side closing closes the other.
            await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in pipes:
                task.cancel()
                self._pipes.discard(task)
            for writer in (client_w, server_w):
                self._open.discard(writer)
                writer.close()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError, asyncio.IncompleteReadError):
        while data := await reader.read(_CHUNK):
            writer.write(data)
            await writer.drain()


def _abort(writer: asyncio.StreamWriter) -> None:
    # A reset, not a polite FIN: what a client sees when the server process dies.
    transport = writer.transport
    if not transport.is_closing():
        transport.abort()


@asynccontextmanager
async def pg_proxy(target_port: int = 5432) -> AsyncIterator[TcpProxy]:
    proxy = TcpProxy(target_port=target_port)
    await proxy.up()
    try:
        yield proxy
    finally:
        await proxy.down()
