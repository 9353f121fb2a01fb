"""``brain token``: mint an API token (HS256 with BRAIN_JWT_SECRET)."""

import time
from datetime import UTC, datetime
from typing import Annotated

import typer

from cli.common import echo_json, fail
from core.settings import get_settings
from models.roles import Role
from models.timestamps import rfc3339


def _role(name: str) -> Role:
    # Roles are named, never numbered, on the command line as in tokens and settings.
    if name not in Role.__members__:
        raise typer.BadParameter(f"{name!r} is not one of {', '.join(Role.__members__)}")
    return Role[name]


def token(
    sub: Annotated[str, typer.Option(help="Subject: who the token speaks for.")],
    tenant: Annotated[str, typer.Option(help="Tenant of the token.")],
    role: Annotated[
        Role,
        typer.Option(
            parser=_role,
            metavar=f"[{'|'.join(Role.__members__)}]",
            help="Role; each includes the ones before it.",
        ),
    ],
    ttl: Annotated[int, typer.Option(min=1, help="Lifetime in seconds.")] = 3600,
    raw: Annotated[bool, typer.Option("--raw", help="Print only the token (scripts).")] = False,
) -> None:
    """Mint an API token (HS256 with BRAIN_JWT_SECRET): {"token", "expires_at"}."""
    # Imported here, as the API's other modules are: the commands that do not need FastAPI
    # start without loading it.
    from api.auth import mint_token

    settings = get_settings()
    if not settings.jwt_hs256_enabled:
        fail(
            "HS256Disabled",
            "BRAIN_JWT_HS256_ENABLED is false: the API accepts no token minted here",
        )
    if ttl > settings.jwt_max_ttl_seconds:
        # The API would refuse such a token: better to say so now than at the first request.
        raise typer.BadParameter(
            f"{ttl} s is longer than the maximum token lifetime, "
            f"BRAIN_JWT_MAX_TTL_SECONDS={settings.jwt_max_ttl_seconds}",
            param_hint="'--ttl'",
        )
    issued_at = int(time.time())
    try:
        minted = mint_token(
            sub=sub,
            tenant=tenant,
            role=role,
            ttl_seconds=ttl,
            secret=settings.jwt_secret.get_secret_value(),
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            issued_at=issued_at,
        )
    except ValueError as err:
        fail("InvalidToken", str(err))
    if raw:
        typer.echo(minted)
    else:
        expires_at = rfc3339(datetime.fromtimestamp(issued_at + ttl, UTC))
        echo_json({"token": minted, "expires_at": expires_at})
