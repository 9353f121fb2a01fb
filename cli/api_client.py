"""The REST API as the CLI's ``inbox``, ``runs`` and ``cancel`` call it: so tenant isolation,
"what may I decide" and the cancel's audit stay in the API, in one place.

Where and as whom: ``BRAIN_API_URL`` with the caller's own token (``BRAIN_TOKEN`` or
``BRAIN_TOKEN_FILE``); else the API of the ``brain up`` running on this ``BRAIN_HOME``, with
the local token it wrote (cli/home.py). The local token never goes to another URL.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NoReturn

import httpx

from cli import home
from cli.common import fail
from core.settings import Settings

TIMEOUT_SECONDS = 30.0
PAGE_SIZE = 200


def caller_token(settings: Settings) -> str | None:
    """The caller's own token (cli/credentials.py: ``BRAIN_TOKEN`` or ``BRAIN_TOKEN_FILE``)."""
    from cli.credentials import NoToken
    from cli.credentials import caller_token as from_settings

    try:
        return from_settings(settings)
    except NoToken as err:
        fail("NoApiToken", str(err))


@dataclass(frozen=True)
class Target:
    url: str
    token: str


def target(settings: Settings) -> Target:
    """Where the API is and the token to show it, or a clear refusal."""
    token = caller_token(settings)
    if settings.api_url:
        if token is None:
            fail(
                "NoApiToken",
                f"BRAIN_API_URL is {settings.api_url}, but no token for it: set BRAIN_TOKEN "
                "(or BRAIN_TOKEN_FILE) to your API token",
            )
        return Target(settings.api_url.rstrip("/"), token)
    stack = home.stack()
    if stack is None or stack.api_url is None:
        fail(
            "NoApi",
            "no REST API configured: run `brain up` (on this BRAIN_HOME, "
            f"{settings.home}), or set BRAIN_API_URL and BRAIN_TOKEN",
        )
    if token is None:
        if stack.token is None:
            fail("NoApiToken", f"`brain up` wrote no token in {home.stack_file(settings.home)}")
        expires = stack.token_expires_at
        if expires is not None and expires <= datetime.now(UTC):
            fail(
                "NoApiToken",
                f"the local token `brain up` wrote expired at {expires:%Y-%m-%d %H:%M}Z; "
                "restart `brain up`, or set BRAIN_TOKEN",
            )
        token = stack.token
    return Target(stack.api_url.rstrip("/"), token)


class Api:
    """One HTTP client for one command; every refusal ends the command with the API's own
    ``{"error", "detail", "fields"?}`` on stderr."""

    def __init__(self, settings: Settings) -> None:
        self.target = target(settings)
        self._http = httpx.Client(
            base_url=self.target.url,
            headers={"Authorization": f"Bearer {self.target.token}"},
            timeout=TIMEOUT_SECONDS,
        )

    def __enter__(self) -> "Api":
        return self

    def __exit__(self, *_: object) -> None:
        self._http.close()

    def call(self, method: str, path: str, params: dict[str, Any] | None = None) -> Any:
        given = {k: v for k, v in (params or {}).items() if v is not None}
        try:
            response = self._http.request(method, path, params=given)
        except httpx.HTTPError as err:
            fail(
                "ApiUnavailable",
                f"cannot reach the API at {self.target.url}: {err}. Is `brain up` running, "
                "or BRAIN_API_URL set?",
            )
        if response.is_error:
            _refused(response)
        return response.json()

    def pages(self, path: str, params: dict[str, Any], limit: int) -> tuple[list[Any], bool]:
        """Up to ``limit`` items across pages; and whether more were left."""
        items: list[Any] = []
        token = None
        while len(items) < limit:
            size = min(PAGE_SIZE, limit - len(items))
            page = self.call("GET", path, {**params, "page_size": size, "page_token": token})
            items += page["items"]
            token = page.get("next_page_token")
            if token is None:
                return items, False
        return items, True


def _refused(response: httpx.Response) -> NoReturn:
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        fail(body["error"], str(body.get("detail", "")), body.get("fields"))
    fail("HttpError", f"{response.status_code} from {response.request.url}: {response.text[:200]}")
