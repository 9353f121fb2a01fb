"""A real local webhook receiver for the bench: an HTTP server on 127.0.0.1 that answers 204
to every POST and notes when each event arrived, against the ``created_at`` the publisher
stamped on it (same machine, same clock): the event-to-delivery latency."""

import asyncio
import contextlib
import json
import time
from datetime import datetime
from typing import Any


class Receiver:
    def __init__(self) -> None:
        self.port = 0
        self.latencies: dict[str, float] = {}  # event id -> seconds from event to delivery
        self.posts = 0
        self._server: asyncio.Server | None = None
        self._arrived = asyncio.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()

    def reset(self) -> None:
        self.latencies.clear()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.decode("latin-1").split("\r\n")[1:]:
                    name, _, value = line.partition(":")
                    if name.lower() == "content-length":
                        length = int(value.strip())
                body = await reader.readexactly(length) if length else b""
                arrived = time.time()
                self.posts += 1
                self._note(body, arrived)
                writer.write(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
        writer.close()

    def _note(self, body: bytes, arrived: float) -> None:
        try:
            event: dict[str, Any] = json.loads(body)
            created = datetime.fromisoformat(event["created_at"]).timestamp()
        except (ValueError, KeyError, TypeError):
            return
        self.latencies.setdefault(str(event.get("id")), arrived - created)
        self._arrived.set()

    async def wait_for(self, count: int, within: float) -> bool:
        deadline = time.monotonic() + within
        while len(self.latencies) < count and time.monotonic() < deadline:
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), deadline - time.monotonic())
        return len(self.latencies) >= count
