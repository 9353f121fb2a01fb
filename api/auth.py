"""HS256 bearer tokens (``brain up``, ``brain token``, service tokens): ``sub``/``tenant``/
``role``/``exp`` required; ``aud`` and ``iss`` too when the settings name them; a lifetime
no longer than the settings allow. The principal they give, and the checks on a subject, a
tenant and groups that tokens from an identity provider pass too (api/oidc.py).

Anything wrong with a token is a 401, never a 500: decoding is wrapped so that whatever
PyJWT or a hostile payload throws, the caller only learns "unauthorized".
"""

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import jwt

from api.errors import Unauthorized
from api.params import has_control_chars
from models.hitl import GLOBAL_TENANT
from models.roles import Role

ALGORITHM = "HS256"
REQUIRED_CLAIMS = ("sub", "tenant", "role", "exp")
# Tenants end up in workflow ids and paths: keep them to characters that need no escaping.
TENANT_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
# A provider's token with a few hundred groups runs to kilobytes; none legitimately to 16.
MAX_TOKEN_LENGTH = 16384


# Group names travel into workflow payloads and audit rows: bounded, printable.
_MAX_GROUPS = 100
_MAX_GROUP_LENGTH = 200


@dataclass(frozen=True)
class Principal:
    sub: str
    tenant: str
    role: Role
    # The caller's groups (the ``groups`` claim): who may decide a gate is the policy's
    # ``approver_groups`` (SPEC §8).
    groups: tuple[str, ...] = ()

    def can_see(self, tenant: str) -> bool:
        return self.role is Role.super_admin or tenant == self.tenant


def mint_token(
    sub: str,
    tenant: str,
    role: str | Role,
    ttl_seconds: int,
    secret: str,
    *,
    audience: str | None = None,
    issuer: str | None = None,
    issued_at: int | None = None,
    **extra: Any,
) -> str:
    """A signed token for ``brain token`` and the tests; ``issued_at`` defaults to now."""
    role = role if isinstance(role, Role) else Role[role]
    if not valid_subject(sub):
        raise ValueError(
            "invalid subject: 1..200 characters, no control characters, no surrounding spaces"
        )
    check_tenant(tenant, role)
    now = int(time.time()) if issued_at is None else issued_at
    claims = {
        "sub": sub,
        "tenant": tenant,
        "role": role.name,
        "iat": now,
        "exp": now + ttl_seconds,
        **({"aud": audience} if audience else {}),
        **({"iss": issuer} if issuer else {}),
        **extra,
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def decode_token(
    token: str,
    secret: str,
    *,
    audience: str | None = None,
    issuer: str | None = None,
    max_ttl_seconds: int | None = None,
) -> Principal:
    """The token's principal; ``audience``/``issuer``, when given, must be in the token."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise Unauthorized("malformed token")
    required = [*REQUIRED_CLAIMS, *(["aud"] if audience else []), *(["iss"] if issuer else [])]
    with unauthorized_unless_valid():
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            audience=audience or None,
            issuer=issuer or None,
            # Without a configured audience a token's ``aud`` is not ours to judge.
            options={"require": required, "verify_aud": bool(audience)},
        )
    if max_ttl_seconds is not None:
        check_lifetime(claims, max_ttl_seconds)
    return _principal(claims)


@contextmanager
def unauthorized_unless_valid() -> Iterator[None]:
    """Whatever decoding a token raises becomes a 401 that says what was wrong, when that is
    safe to say, and "invalid token" otherwise."""
    try:
        yield
    except jwt.ExpiredSignatureError:
        raise Unauthorized("token expired") from None
    except jwt.ImmatureSignatureError:
        raise Unauthorized("token not valid yet") from None
    except jwt.MissingRequiredClaimError as e:
        raise Unauthorized(f"token lacks the {e.claim!r} claim") from None
    except jwt.InvalidAudienceError:
        raise Unauthorized("token is for another audience") from None
    except jwt.InvalidIssuerError:
        raise Unauthorized("token is from another issuer") from None
    except Unauthorized:
        raise
    except Exception:
        # Bad signature, alg none, garbage, a payload that is not an object: all the same.
        raise Unauthorized("invalid token") from None


def check_lifetime(claims: dict[str, Any], max_ttl_seconds: int) -> None:
    # A token cannot be revoked: one minted for years stays good for years if stolen. PyJWT
    # has checked that ``exp`` and ``iat`` are numbers and that ``iat`` is not in the future.
    # Integers: an ``exp`` of 10**400 is a valid int that no float can hold.
    start = claims.get("iat", int(time.time()))
    if int(claims["exp"]) - int(start) > max_ttl_seconds:
        raise Unauthorized("token lifetime exceeds the maximum")


def valid_subject(sub: object) -> bool:
    """The subject becomes an actor in the audit log and a database value (no NUL there).
    Surrounding whitespace is refused rather than trimmed (SPEC §8): ``ann `` is not a name
    anyone signs in with, and a door that trimmed it would let the token pass for ann."""
    return (
        isinstance(sub, str)
        and 0 < len(sub) <= 200
        and not has_control_chars(sub)
        and sub == sub.strip()
    )


def _principal(claims: dict[str, Any]) -> Principal:
    sub, tenant, role = claims.get("sub"), claims.get("tenant"), claims.get("role")
    if not isinstance(sub, str) or not valid_subject(sub):
        raise Unauthorized("invalid 'sub' claim")
    if not isinstance(role, str) or role not in Role.__members__:
        raise Unauthorized("invalid 'role' claim")
    if not isinstance(tenant, str):
        raise Unauthorized("invalid 'tenant' claim")
    try:
        check_tenant(tenant, Role[role])
    except ValueError as e:
        raise Unauthorized(str(e)) from None
    return Principal(
        sub=sub, tenant=tenant, role=Role[role], groups=groups_of(claims.get("groups"))
    )


def groups_of(raw: object, *, limit: int = _MAX_GROUPS) -> tuple[str, ...]:
    """A groups claim: absent is none; anything but a list of short printable names is a
    bad token, not "no groups" (a typo must not quietly take someone's rights away without
    saying so, nor smuggle control characters into the audit log)."""
    if raw is None:
        return ()
    if not isinstance(raw, list) or len(raw) > limit:
        raise Unauthorized("invalid 'groups' claim")
    for g in raw:
        if not isinstance(g, str) or not 0 < len(g) <= _MAX_GROUP_LENGTH or has_control_chars(g):
            raise Unauthorized("invalid 'groups' claim")
    return tuple(dict.fromkeys(raw))


def check_tenant(tenant: str, role: Role) -> None:
    # Only a super admin may hold the global tenant: it names the default policy rows.
    if tenant == GLOBAL_TENANT and role is Role.super_admin:
        return
    if not TENANT_PATTERN.fullmatch(tenant):
        raise ValueError("invalid 'tenant' claim")
