"""HTTP failures of an OpenAI-compatible endpoint become typed Temporal errors.

Retryable (429, 5xx, timeouts, connection failures) carry the server's ``Retry-After`` as
``next_retry_delay``; a request the server will never accept (400, 401, 403, 404, an
exhausted quota) is non-retryable with a message that says what to fix.
"""

from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import openai
from temporalio.exceptions import ApplicationError

from temporal import errors


def to_application_error(exc: openai.APIError, model: str) -> ApplicationError:
    """Map by exception class and status code, never by message text."""
    if isinstance(exc, openai.APITimeoutError):
        return _unavailable("the model endpoint did not answer within the client timeout")
    if isinstance(exc, openai.APIConnectionError):
        return _unavailable("could not connect to the model endpoint")
    if not isinstance(exc, openai.APIStatusError):
        return _unavailable(f"the model endpoint answered unreadably ({type(exc).__name__})")
    status = exc.status_code
    if status == 429 and exc.code == "insufficient_quota":
        # Waiting does not refill a quota; a person must.
        return _rejected("the model account has run out of quota (429 insufficient_quota)", status)
    if status == 429:
        return ApplicationError(
            f"the model endpoint is rate limiting requests for {model!r} (429)",
            {"status_code": status},
            type=errors.MODEL_RATE_LIMITED,
            next_retry_delay=retry_after(exc.response.headers),
        )
    if status >= 500 or status in (408, 409):
        return _unavailable(f"the model endpoint failed ({status})", status)
    messages = {
        401: "the model endpoint rejected the API key (401)",
        403: f"the model endpoint denied access to model {model!r} (403)",
        404: f"the model endpoint knows no model {model!r} at this path (404); "
        "check the base URL and the model name",
    }
    detail = _server_message(exc.body)
    default = f"the model endpoint rejected the request for {model!r} ({status})"
    return _rejected(messages.get(status, default + (f": {detail}" if detail else "")), status)


def retry_after(headers: Any, now: datetime | None = None) -> timedelta | None:
    """The server's requested wait: ``retry-after-ms``, or ``Retry-After`` seconds or date."""
    millis = headers.get("retry-after-ms")
    if millis is not None:
        try:
            return _positive(timedelta(milliseconds=float(millis)))
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return _positive(timedelta(seconds=float(value)))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return _positive(when - (now or datetime.now(UTC)))


def _positive(delay: timedelta) -> timedelta | None:
    # Zero or past means "now": let the retry policy's own interval apply.
    return delay if delay > timedelta(0) else None


def _unavailable(message: str, status: int | None = None) -> ApplicationError:
    return ApplicationError(message, {"status_code": status}, type=errors.MODEL_UNAVAILABLE)


def _rejected(message: str, status: int) -> ApplicationError:
    return ApplicationError(
        message, {"status_code": status}, type=errors.MODEL_REJECTED_REQUEST, non_retryable=True
    )


def _server_message(body: object) -> str:
    # The server's own explanation (e.g. "response_format is not supported") is what an
    # operator needs to fix the configuration; it is relayed, never interpreted.
    message = body.get("message") if isinstance(body, dict) else body
    return str(message)[:300] if message else ""
