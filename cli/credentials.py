"""The caller's token, for the commands that act as someone: ``BRAIN_TOKEN``, or the file
``BRAIN_TOKEN_FILE`` names (a token an OIDC login tool wrote and keeps fresh: it is read at
each command, never cached). With OIDC sign-in that token is the identity provider's, and it
is checked exactly as the REST door checks it (api/tokens.py), keys and all.

``brain whoami`` prints who the token says the caller is: the quickest way to see that a
provider's token, its claims and the group-to-role mapping give what was meant.
"""

import asyncio
from typing import TYPE_CHECKING, Any

from cli.common import echo_json, fail
from core.settings import Settings, get_settings

if TYPE_CHECKING:
    from api.auth import Principal

# As api/auth.py's MAX_TOKEN_LENGTH; not imported from there, so that a command reading the
# token does not load FastAPI unless it checks it.
_MAX_TOKEN_LENGTH = 16384


class NoToken(Exception):
    """Neither setting gives a token, or the file does not hold one."""


def caller_token(settings: Settings) -> str | None:
    """The caller's token, or ``None`` when neither ``BRAIN_TOKEN`` nor ``BRAIN_TOKEN_FILE``
    is set. ``NoToken`` when the file cannot be read or holds no token."""
    if settings.token is not None:
        return settings.token.get_secret_value().strip() or None
    if settings.token_file is None:
        return None
    path = settings.token_file.expanduser()
    try:
        with path.open("rb") as f:
            raw = f.read(_MAX_TOKEN_LENGTH + 2)
    except OSError as err:
        raise NoToken(f"BRAIN_TOKEN_FILE {str(path)!r} cannot be read: {err.strerror}") from None
    try:
        token = raw.decode("ascii").strip()
    except UnicodeDecodeError:
        raise NoToken(f"BRAIN_TOKEN_FILE {str(path)!r} does not hold a token") from None
    if not token or len(token) > _MAX_TOKEN_LENGTH:
        raise NoToken(f"BRAIN_TOKEN_FILE {str(path)!r} does not hold a token")
    return token


async def caller_principal(settings: Settings) -> "Principal | None":
    """Who the caller's token says they are, checked as the API checks it; ``None`` without
    a token. Raises ``NoToken``, or the API's errors for a bad token (``Unauthorized``,
    ``Forbidden``) or an unreachable provider (``Unavailable``): each has ``error`` and
    ``detail`` for ``fail``."""
    from api.tokens import TokenVerifier

    token = caller_token(settings)
    if token is None:
        return None
    return await TokenVerifier(settings).verify(token)


def whoami() -> None:
    """Who the caller's token (BRAIN_TOKEN or BRAIN_TOKEN_FILE) says you are, checked as the
    REST API checks it: subject, tenant, role, groups. Exit 1 when it is refused."""
    from api.errors import BrainError

    settings = get_settings()
    try:
        principal = asyncio.run(caller_principal(settings))
    except NoToken as err:
        fail("NoToken", str(err))
    except BrainError as err:
        fail(err.error, str(err.detail))
    except ValueError as err:  # incomplete OIDC settings
        fail("InvalidSettings", str(err))
    if principal is None:
        fail("NoToken", "set BRAIN_TOKEN, or BRAIN_TOKEN_FILE to a file that holds the token")
    echo_json(_shown(principal))


def _shown(principal: "Principal") -> dict[str, Any]:
    return {
        "sub": principal.sub,
        "tenant": principal.tenant,
        "role": principal.role.name,
        "groups": list(principal.groups),
    }
