"""A minimal HTTP/1.1 keep-alive client for the load generator's hot paths (reads, starts).

httpx spent about 4 ms of CPU per request here, twice what the API spent answering: with
50 clients on one event loop the load generator itself became the queue, and the tail it
measured was its own. This client costs a small fraction of that, so the latency it
reports is the server's. One connection per simulated client, as a browser tab would hold.
"""

import asyncio
import contextlib
import json
from typing import Any
from urllib.parse import urlsplit


class RawConnection:
    def __init__(self, base_url: str, headers: dict[str, str]) -> None:
        parts = urlsplit(base_url)
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port or 80
        self._prefix = parts.path.rstrip("/")
        self._headers = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def get(self, path: str) -> tuple[int, bytes]:
        return await self.request("GET", path)

    async def post(self, path: str, payload: Any) -> tuple[int, bytes]:
        return await self.request("POST", path, json.dumps(payload).encode())

    async def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
        reused = self._writer is not None
        try:
            return await self._exchange(method, path, body)
        except (asyncio.IncompleteReadError, ConnectionError) as err:
            # The server closes a keep-alive connection left idle past its timeout (uvicorn:
            # 5 s); it read nothing from it, so the request is sent again on a new one.
            await self.close()
            if not reused or (isinstance(err, asyncio.IncompleteReadError) and err.partial):
                raise
            return await self._exchange(method, path, body)

    async def _exchange(self, method: str, path: str, body: bytes) -> tuple[int, bytes]:
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self._host, self._port)
        assert self._reader is not None
        line = f"{method} {self._prefix}{path} HTTP/1.1\r\nHost: {self._host}:{self._port}\r\n"
        if body:
            line += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        self._writer.write(f"{line}{self._headers}\r\n".encode() + body)
        head = await self._reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.lower() == "content-length":
                length = int(value.strip())
            elif name.lower() == "transfer-encoding" and "chunked" in value.lower():
                raise RuntimeError("chunked responses are not supported by the bench client")
        answer = await self._reader.readexactly(length) if length else b""
        return status, answer

    async def close(self) -> None:
        if self._writer is not None:
            writer, self._writer = self._writer, None
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
