"""One error hierarchy for the API, rendered by one handler as ``{"error", "detail",
"fields"?}`` (SPEC §8): ``detail`` is always text a person can read; a 422 also lists the
failing fields in ``fields``, each ``{"loc", "msg", "type"}``. The CLI prints the same shape.

Routes raise these; Temporal and pydantic failures are translated into them at the edge
(``api/decisions.py``, the handlers below), so no route returns a raw status integer.
"""

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy.exc import InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from temporalio.service import RPCError, RPCStatusCode

from api.field_errors import MAX_FIELD_ERRORS as MAX_FIELD_ERRORS
from api.field_errors import field_errors, summary

log = logging.getLogger(__name__)


class FieldError(BaseModel):
    loc: list[str | int] = Field(
        description="Where: `body`, `query`, `header` or `path`, then the field"
    )
    msg: str
    type: str


class ErrorBody(BaseModel):
    error: str = Field(description="The error's type, e.g. `ValidationFailed`, `AlreadyDecided`")
    detail: str = Field(description="What went wrong, as text")
    fields: list[FieldError] | None = Field(
        None, description="422 only: the failing fields (at most 20, then a count)"
    )


class BrainError(Exception):
    status_code = 500

    def __init__(self, detail: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers
        self.fields: list[dict[str, Any]] | None = None

    @property
    def error(self) -> str:
        return type(self).__name__


class Unauthorized(BrainError):
    status_code = 401

    def __init__(self, detail: str = "invalid or missing bearer token") -> None:
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"})


class Forbidden(BrainError):
    status_code = 403


class FourEyes(Forbidden):
    """Four-eyes: whoever requested the run may not approve it."""


class UntrustedDoor(Forbidden):
    pass


class NotEligible(Forbidden):
    """The gate's policy does not name the caller (approver groups and subjects)."""


class DoorClosed(Forbidden):
    """The gate's policy does not accept decisions through this door."""


class NotFound(BrainError):
    status_code = 404


class UnknownProcess(NotFound):
    pass


class WorkflowNotFound(NotFound):
    pass


class Conflict(BrainError):
    status_code = 409


class NothingPending(Conflict):
    pass


class StaleApproval(Conflict):
    pass


class AlreadyDecided(Conflict):
    pass


class AlreadyVoted(Conflict):
    pass


class WorkflowClosed(Conflict):
    pass


class NotCancelable(Conflict):
    pass


class ValidationFailed(BrainError):
    """422: ``fields`` lists ``{"loc", "msg", "type"}``; ``detail`` says the same in a line."""

    status_code = 422

    def __init__(self, fields: list[dict[str, Any]], detail: str | None = None) -> None:
        super().__init__(detail or summary(fields))
        self.fields = fields


class InvalidEdits(ValidationFailed):
    pass


class IdempotencyKeyReused(ValidationFailed):
    pass


class PayloadTooLarge(BrainError):
    status_code = 413


class UnsupportedMediaType(BrainError):
    status_code = 415


class RateLimited(BrainError):
    status_code = 429

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after)})


class Unavailable(BrainError):
    status_code = 503

    def __init__(self, detail: str, *, retry_after: int | None = None) -> None:
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
        super().__init__(detail, headers=headers)


class NotConfirmed(Unavailable):
    """No worker confirmed the decision in time; retrying the same request is safe."""


def invalid(errors: ValidationError, *prefix: str | int) -> ValidationFailed:
    return ValidationFailed(field_errors(errors.errors(include_url=False), prefix))


_DESCRIPTIONS = {
    401: "Missing, malformed, badly signed or expired token",
    403: "The token's role is too low",
    404: "Unknown process, or no such workflow for the caller's tenant",
    409: "Nothing pending, stale approval id, already decided, or the run is closed",
    413: "The request body is larger than the server accepts (BRAIN_MAX_BODY_BYTES)",
    415: "The request body is not JSON (Content-Type must be application/json)",
    422: "Validation failed (an invalid or unknown parameter, an invalid body); `fields` "
    "lists the failing fields (at most 20, then a count)",
    429: "Rate limited, or too many decisions in flight for this run; see Retry-After",
    503: "A dependency is down or no worker confirmed in time; see Retry-After",
}


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the error codes a route can answer."""
    return {code: {"model": ErrorBody, "description": _DESCRIPTIONS[code]} for code in codes}


def _render(
    status: int,
    error: str,
    detail: str,
    headers: dict[str, str] | None = None,
    fields: list[dict[str, Any]] | None = None,
) -> JSONResponse:
    body = ErrorBody.model_validate({"error": error, "detail": detail, "fields": fields})
    return JSONResponse(
        body.model_dump(mode="json", exclude_none=True), status_code=status, headers=headers
    )


def render(exc: BrainError) -> JSONResponse:
    """The response for ``exc``, by the handler or where no handler runs (ASGI middleware)."""
    return _render(exc.status_code, exc.error, exc.detail, exc.headers, exc.fields)


async def _brain_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, BrainError)
    return render(exc)


async def _request_invalid(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return render(ValidationFailed(field_errors(list(exc.errors()))))


_HTTP_NAMES = {
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    # Raised as HTTPException by the body limit (api/edge.py): FastAPI lets only those through
    # a body read unchanged.
    413: PayloadTooLarge.__name__,
}


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400:
        # FastAPI's answer to a body it cannot even decode: still a validation error.
        fields = [{"loc": ["body"], "msg": str(exc.detail), "type": "body_unreadable"}]
        return render(ValidationFailed(fields))
    name = _HTTP_NAMES.get(exc.status_code, "HTTPError")
    return _render(exc.status_code, name, str(exc.detail), dict(exc.headers or {}) or None)


async def _rpc_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RPCError)
    if exc.status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED):
        log.warning("temporal unavailable: %s", exc)
        return _render(503, "Unavailable", "Temporal is unavailable", {"Retry-After": "5"})
    return await _unexpected(request, exc)


async def _database_down(_: Request, exc: Exception) -> JSONResponse:
    log.warning("database unavailable: %s", exc)
    return _render(503, "Unavailable", "the database is unavailable", {"Retry-After": "5"})


async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=exc)
    return _render(500, "InternalError", "an unexpected error occurred")


def install(app: FastAPI) -> None:
    app.add_exception_handler(BrainError, _brain_error)
    app.add_exception_handler(RequestValidationError, _request_invalid)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RPCError, _rpc_error)
    for db_error in (OperationalError, InterfaceError, ConnectionError):
        app.add_exception_handler(db_error, _database_down)
    app.add_exception_handler(Exception, _unexpected)
