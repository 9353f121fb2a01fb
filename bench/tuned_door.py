"""The tuned baseline's door: ``POST /start`` (body: a ``BaselineInput``) starts a run with
the worker's own client, eagerly, and answers ``{"workflow_id": ..., "eager": bool}``
(whether the server handed the first workflow task back); ``GET /health``. The load
generator then waits for the result with its own client, as it does for Brain's runs started
through Brain's REST door. A plain asyncio HTTP/1.1 server with keep-alive: its CPU is
counted with the tuned worker's, so it stays small."""

import asyncio
import contextlib
import json
import uuid
from collections.abc import Awaitable, Callable

from temporalio.client import Client

from bench.baseline import BaselineInput
from bench.baseline_tuned import TASK_QUEUE, TunedBaselineWorkflow

Closer = Callable[[], Awaitable[None]]


def door(port: int) -> Callable[[Client], Awaitable[Closer]]:
    """What ``bench.baseline.run_worker`` opens once its worker polls."""

    async def open_door(client: Client) -> Closer:
        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
                while True:
                    status, body = await _answer(client, reader)
                    writer.write(
                        f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
                        f"Content-Length: {len(body)}\r\n\r\n".encode()
                        + body
                    )
                    await writer.drain()
            writer.close()

        server = await asyncio.start_server(serve, "127.0.0.1", port)

        async def close() -> None:
            server.close()

        return close

    return open_door


async def _answer(client: Client, reader: asyncio.StreamReader) -> tuple[str, bytes]:
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    length = 0
    for line in head[1:]:
        name, _, value = line.partition(":")
        if name.lower() == "content-length":
            length = int(value.strip())
    raw = await reader.readexactly(length) if length else b""
    method, path = head[0].split(" ")[:2]
    if method == "GET" and path.endswith("/health"):
        return "200 OK", b"{}"
    if method != "POST" or not path.endswith("/start"):
        return "404 Not Found", b"{}"
    handle = await client.start_workflow(
        TunedBaselineWorkflow.run,
        BaselineInput.model_validate_json(raw),
        id=f"tuned-{uuid.uuid4().hex}",
        task_queue=TASK_QUEUE,
        request_eager_start=True,
    )
    # The SDK notes on the handle whether the server handed the first task back.
    eager = bool(getattr(handle, "__temporal_eagerly_started", False))
    return "200 OK", json.dumps({"workflow_id": handle.id, "eager": eager}).encode()
