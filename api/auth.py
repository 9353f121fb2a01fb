"""JWT bearer tokens: HS256 only, ``sub``/``tenant``/``role``/``exp`` required.

Anything wrong with a token is a 401, never a 500: decoding is wrapped so that whatever
PyJWT or a hostile payload throws, the caller only learns "unauthorized".
"""

import re
import time
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

import jwt

from api.errors import Unauthorized
from models.hitl import GLOBAL_TENANT

ALGORITHM = "HS256"
REQUIRED_CLAIMS = ("sub", "tenant", "role", "exp")
# Tenants end up in workflow ids and paths: keep them to characters that need no escaping.
TENANT_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_MAX_TOKEN_LENGTH = 8192


class Role(IntEnum):
    """Each role includes the ones before it."""

    viewer = 1
    operator = 2
    approver = 3
    admin = 4
    super_admin = 5


@dataclass(frozen=True)
class Principal:
    sub: str
    tenant: str
    role: Role

    def can_see(self, tenant: str) -> bool:
        return self.role is Role.super_admin or tenant == self.tenant


def mint_token(
    sub: str, tenant: str, role: str | Role, ttl_seconds: int, secret: str, **extra: Any
) -> str:
    """A signed token for ``brain token`` and the tests."""
    role = role if isinstance(role, Role) else Role[role]
    _check_tenant(tenant, role)
    now = int(time.time())
    claims = {
        "sub": sub,
        "tenant": tenant,
        "role": role.name,
        "iat": now,
        "exp": now + ttl_seconds,
        **extra,
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def decode_token(token: str, secret: str) -> Principal:
    if not token or len(token) > _MAX_TOKEN_LENGTH:
        raise Unauthorized("malformed token")
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            options={"require": list(REQUIRED_CLAIMS), "verify_aud": False},
        )
    except jwt.ExpiredSignatureError:
        raise Unauthorized("token expired") from None
    except jwt.ImmatureSignatureError:
        raise Unauthorized("token not valid yet") from None
    except jwt.MissingRequiredClaimError as e:
        raise Unauthorized(f"token lacks the {e.claim!r} claim") from None
    except Exception:
        # Bad signature, alg none, garbage, a payload that is not an object: all the same.
        raise Unauthorized("invalid token") from None
    return _principal(claims)


def _principal(claims: dict[str, Any]) -> Principal:
    sub, tenant, role = claims.get("sub"), claims.get("tenant"), claims.get("role")
    if not isinstance(sub, str) or not 0 < len(sub) <= 200:
        raise Unauthorized("invalid 'sub' claim")
    if not isinstance(role, str) or role not in Role.__members__:
        raise Unauthorized("invalid 'role' claim")
    if not isinstance(tenant, str):
        raise Unauthorized("invalid 'tenant' claim")
    try:
        _check_tenant(tenant, Role[role])
    except ValueError as e:
        raise Unauthorized(str(e)) from None
    return Principal(sub=sub, tenant=tenant, role=Role[role])


def _check_tenant(tenant: str, role: Role) -> None:
    # Only a super admin may hold the global tenant: it names the default policy rows.
    if tenant == GLOBAL_TENANT and role is Role.super_admin:
        return
    if not TENANT_PATTERN.fullmatch(tenant):
        raise ValueError("invalid 'tenant' claim")
