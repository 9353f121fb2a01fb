"""A real HTTP server that speaks the chat-completions API, answering from a per-test script.

The client under test goes through its whole stack (HTTP, headers, JSON, status codes,
timeouts), so what the tests see is what a real endpoint would produce::

    with FakeOpenAIServer() as server:
        server.script(answer({...}), rate_limited(), hang(5))
        client = openai.AsyncOpenAI(base_url=server.base_url, api_key="k", max_retries=0)
        ...
        server.requests[0].body["model"]
"""

import asyncio
import itertools
import json
import re
import socket
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    received_at: float  # time.monotonic(), comparable with the test's clock


@dataclass(frozen=True)
class Reply:
    """One scripted response; build it with the helpers below."""

    kind: Literal["completion", "http", "hang"]
    content: str | dict[str, Any] | None = None  # dict: JSON-encoded; None: made from the schema
    refusal: str | None = None
    finish_reason: str = "stop"
    logprob: float = -0.01  # for every token, when the request asks for logprobs
    usage: tuple[int, int] | None = None
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    error: dict[str, Any] | None = None
    seconds: float = 0.0


def answer(
    content: dict[str, Any] | None = None,
    *,
    logprob: float = -0.01,
    usage: tuple[int, int] | None = None,
) -> Reply:
    """A good structured answer; without ``content``, an example built from the sent schema."""
    return Reply("completion", content=content, logprob=logprob, usage=usage)


def refusal(text: str = "I'm sorry, I can't help with that.") -> Reply:
    return Reply("completion", content="", refusal=text)


def truncated(partial: str = '{"rationale": "The lead works at a') -> Reply:
    return Reply("completion", content=partial, finish_reason="length")


def content_filtered() -> Reply:
    return Reply("completion", content="", finish_reason="content_filter")


def malformed(text: str = '{"rationale": "ok", "score": 80, "tier": ') -> Reply:
    return Reply("completion", content=text)


def schema_violation(content: dict[str, Any] | None = None) -> Reply:
    return Reply("completion", content=content or {"verdict": "looks good", "confidence": 0.9})


def http_error(
    status: int, message: str = "error", *, code: str | None = None, **headers: str
) -> Reply:
    error = {"message": message, "type": "fake_error", "param": None, "code": code}
    return Reply("http", status=status, headers=headers, error=error)


def rate_limited(retry_after: str | None = "1") -> Reply:
    headers = {"retry-after": retry_after} if retry_after is not None else {}
    return http_error(429, "Rate limit reached", code="rate_limit_exceeded", **headers)


def server_error(status: int = 500) -> Reply:
    return http_error(status, "The server had an error while processing your request.")


def unauthorized() -> Reply:
    return http_error(401, "Incorrect API key provided.", code="invalid_api_key")


def hang(seconds: float = 30.0) -> Reply:
    """Answer nothing for ``seconds`` (or until the server stops)."""
    return Reply("hang", seconds=seconds)


class FakeOpenAIServer:
    """uvicorn on 127.0.0.1 and a free port, in a background thread."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        # Requests that arrived with nothing left in the script: a test bug, reported loudly.
        self.unscripted: list[RecordedRequest] = []
        self._script: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._ids = itertools.count(1)
        self._socket: socket.socket | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        if self._socket is None:
            raise RuntimeError("the fake server is not running")
        port: int = self._socket.getsockname()[1]
        return port

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def script(self, *replies: Reply) -> None:
        with self._lock:
            self._script.extend(replies)

    def reset(self) -> None:
        with self._lock:
            self._script.clear()
            self.requests.clear()
            self.unscripted.clear()

    def start(self) -> "FakeOpenAIServer":
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))
        app = Starlette(routes=[Route("/{path:path}", self._handle, methods=["GET", "POST"])])
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
        self._server = uvicorn.Server(config)
        sockets = [self._socket]
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": sockets}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the fake OpenAI server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._socket is not None:
            self._socket.close()

    def __enter__(self) -> "FakeOpenAIServer":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    async def _handle(self, request: Request) -> JSONResponse:
        raw = await request.body()
        try:
            body = json.loads(raw) if raw else None
        except json.JSONDecodeError:
            body = raw.decode(errors="replace")
        recorded = RecordedRequest(
            method=request.method,
            path=request.url.path,
            headers=dict(request.headers),
            body=body,
            received_at=time.monotonic(),
        )
        with self._lock:
            self.requests.append(recorded)
            reply = self._script.popleft() if self._script else None
            if reply is None:
                self.unscripted.append(recorded)
        if not recorded.path.endswith("/chat/completions") or request.method != "POST":
            return _error_response(404, f"fake server: no route {recorded.path}")
        if reply is None:
            return _error_response(500, "fake server: the test scripted no reply for this")
        if reply.kind == "hang":
            await self._hang(reply.seconds)
            return _error_response(504, "fake server: hung on purpose")
        if reply.kind == "http":
            error = {"error": reply.error}
            return JSONResponse(error, status_code=reply.status, headers=reply.headers)
        return JSONResponse(self._completion(reply, body if isinstance(body, dict) else {}))

    async def _hang(self, seconds: float) -> None:
        # A thread-safe event, so stopping the server releases a hang at once.
        await asyncio.to_thread(self._stopping.wait, seconds)

    def _completion(self, reply: Reply, body: dict[str, Any]) -> dict[str, Any]:
        content = reply.content
        if content is None:
            content = _example(_sent_schema(body) or {})
        text = content if isinstance(content, str) else json.dumps(content)
        prompt = "".join(str(m.get("content", "")) for m in body.get("messages", []))
        tokens_in, tokens_out = reply.usage or (len(prompt) // 4 + 1, len(text) // 4 + 1)
        logprobs = None
        if body.get("logprobs") and text:
            logprobs = {
                "content": [
                    {
                        "token": t,
                        "logprob": reply.logprob,
                        "bytes": list(t.encode()),
                        "top_logprobs": [],
                    }
                    for t in _tokens(text)
                ],
                "refusal": None,
            }
        return {
            "id": f"chatcmpl-fake-{next(self._ids)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "fake-model"),
            "choices": [
                {
                    "index": 0,
                    "message": {
                        "role": "assistant",
                        "content": None if reply.refusal else text,
                        "refusal": reply.refusal,
                    },
                    "logprobs": logprobs,
                    "finish_reason": reply.finish_reason,
                }
            ],
            "usage": {
                "prompt_tokens": tokens_in,
                "completion_tokens": tokens_out,
                "total_tokens": tokens_in + tokens_out,
            },
            "system_fingerprint": "fp_fake",
        }


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAIServer]:
    """A fresh server per test; fails the test if a request found nothing scripted."""
    with FakeOpenAIServer() as server:
        yield server
        assert not server.unscripted, f"unscripted requests: {server.unscripted}"


def _error_response(status: int, message: str) -> JSONResponse:
    body = {"error": {"message": message, "type": "fake_error", "param": None, "code": None}}
    return JSONResponse(body, status_code=status)


def _sent_schema(body: dict[str, Any]) -> dict[str, Any] | None:
    response_format = body.get("response_format") or {}
    return (response_format.get("json_schema") or {}).get("schema")


def _example(schema: dict[str, Any], root: dict[str, Any] | None = None) -> Any:
    """A minimal instance of a JSON schema: enough for a structurally valid answer."""
    root = root or schema
    if "$ref" in schema:
        node: Any = root
        for part in schema["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        return _example(node, root)
    if "enum" in schema:
        return schema["enum"][0]
    if "anyOf" in schema:
        return _example(schema["anyOf"][0], root)
    kind = schema.get("type")
    if kind == "object":
        props = schema.get("properties", {})
        return {name: _example(sub, root) for name, sub in props.items()}
    if kind == "array":
        return [_example(schema.get("items", {}), root)]
    scalars: dict[str | None, Any] = {
        "string": "example",
        "number": 0.5,
        "integer": 1,
        "boolean": True,
    }
    return scalars.get(kind)


def _tokens(text: str) -> list[str]:
    # Rough word-piece split that, joined, spells ``text`` exactly, as real token lists do.
    return re.findall(r"\s+|\w+|[^\w\s]", text)
