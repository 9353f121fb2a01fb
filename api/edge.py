"""What the API refuses before any route looks at a request: bodies over the size limit (413)
and bodies that are not JSON (415).

The size limit is pure ASGI middleware: ``BaseHTTPMiddleware`` would run every request in a
task of its own for nothing. FastAPI's own ``max_body_size`` is not used because it answers
plain text (``Content Too Large``) instead of the API's ``{"error", "detail"}``.
"""

from fastapi import Request
from fastapi.routing import APIRoute
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import PayloadTooLarge, UnsupportedMediaType, render


class BodyLimit:
    """413 for a body over ``max_bytes``: at once when ``Content-Length`` says so (no byte of
    the body is read), else as soon as the bytes streamed in (chunked) pass the limit."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await render(PayloadTooLarge(self._detail()))(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # An HTTPException, since FastAPI turns anything else raised while it
                    # reads a body into a 400; api/errors.py renders it as PayloadTooLarge.
                    raise HTTPException(413, self._detail())
            return message

        await self.app(scope, counted, send)

    def _detail(self) -> str:
        return f"the request body is larger than {self.max_bytes} bytes"


def _content_length(scope: Scope) -> int | None:
    try:
        return int(Headers(scope=scope).get("content-length", ""))
    except ValueError:
        # Absent, or not a number: the server (h11, httptools) refuses the latter itself.
        return None


def _is_json(content_type: str | None) -> bool:
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


async def require_json_body(request: Request) -> None:
    """415 for a non-empty body that is not declared JSON, on a route that takes a body.

    FastAPI would hand such a body to validation as bytes and answer a 422 about
    dictionaries. An empty body passes whatever its type: approve and reject take an
    optional body, and a client that sends none often sends no Content-Type either.
    """
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or route.body_field is None:
        return
    content_type = request.headers.get("content-type")
    # FastAPI has already read the body for this route; this is its cached copy.
    if _is_json(content_type) or not await request.body():
        return
    raise UnsupportedMediaType(
        f"send the body as application/json, not {content_type or 'without a Content-Type'}"
    )
