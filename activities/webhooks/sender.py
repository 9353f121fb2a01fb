"""One webhook POST to an address that was checked (``activities.webhooks.targets``).

The request goes to the checked IP with the original ``Host`` header and, for https, the
original name for SNI and certificate checks: a second DNS lookup could answer otherwise.
Redirects are not followed (each hop would need the same check), proxies from the
environment are not used (they would bypass it), and at most ``max_response_bytes`` of an
answer are read, so a receiver can neither hold a worker long nor fill its memory.
"""

import asyncio
import email.utils
import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx

from activities.webhooks.targets import Target

CONNECT_TIMEOUT_SECONDS = 5.0
READ_TIMEOUT_SECONDS = 10.0
MAX_RESPONSE_BYTES = 64 * 1024
USER_AGENT = "Brain-Webhooks/1"


@dataclass(frozen=True)
class Answer:
    status: int
    retry_after: timedelta | None


def make_http_client() -> httpx.AsyncClient:
    timeout = httpx.Timeout(
        connect=CONNECT_TIMEOUT_SECONDS,
        read=READ_TIMEOUT_SECONDS,
        write=READ_TIMEOUT_SECONDS,
        pool=CONNECT_TIMEOUT_SECONDS,
    )
    return httpx.AsyncClient(timeout=timeout, follow_redirects=False, trust_env=False)


def _host_header(target: Target) -> str:
    host = f"[{target.host}]" if ":" in target.host else target.host
    default = 443 if target.scheme == "https" else 80
    return host if target.port == default else f"{host}:{target.port}"


async def post(
    http: httpx.AsyncClient,
    target: Target,
    body: str,
    headers: dict[str, str],
    *,
    deadline_seconds: float,
    max_response_bytes: int = MAX_RESPONSE_BYTES,
) -> Answer:
    """The receiver's status; raises ``httpx.TransportError`` (or ``TimeoutError`` past
    ``deadline_seconds`` for the whole exchange) when it did not answer."""
    url = httpx.URL(target.url).copy_with(host=str(target.address))
    extensions = {}
    if target.scheme == "https" and not _is_ip(target.host):
        extensions["sni_hostname"] = target.host
    request_headers = {
        **headers,
        "Host": _host_header(target),
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
    }
    async with asyncio.timeout(deadline_seconds):
        async with http.stream(
            "POST", url, content=body.encode(), headers=request_headers, extensions=extensions
        ) as response:
            read = 0
            async for chunk in response.aiter_raw():
                read += len(chunk)
                if read >= max_response_bytes:
                    break  # the rest is not ours to read; the connection is dropped
            return Answer(response.status_code, parse_retry_after(response.headers))


def parse_retry_after(headers: httpx.Headers, now: datetime | None = None) -> timedelta | None:
    """``Retry-After`` as seconds or an HTTP date; None when absent or unreadable."""
    value = headers.get("retry-after")
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return timedelta(seconds=int(value))
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(timedelta(0), when - (now or datetime.now(UTC)))


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
