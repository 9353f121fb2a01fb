"""Tokens signed by the company's identity provider (OIDC, SPEC §8): Okta, Entra ID,
Google, Keycloak, ... hand Brain tokens signed with keys Brain never holds, so holding
Brain's configuration is not enough to mint one.

A token is checked with the provider's key that its ``kid`` names (api/jwks.py), with the
algorithm that key is for (an asymmetric one: a token cannot pick HMAC and a published key
as its secret); ``iss`` must be the configured issuer, ``aud`` must hold the configured
audience, ``exp`` must be there. The principal comes from configurable claims: the subject,
the tenant (or one fixed tenant), the role and the groups, with provider groups mapped to
Brain roles; the caller gets the highest role any of them gives.
"""

from typing import Any

import jwt

from api.auth import (
    Principal,
    check_lifetime,
    check_tenant,
    groups_of,
    unauthorized_unless_valid,
    valid_subject,
)
from api.errors import Forbidden, Unauthorized
from api.jwks import KeySet, UnknownKey
from core.settings import Settings
from models.roles import Role

# Every asymmetric algorithm PyJWT verifies with ``cryptography``; never an HMAC one.
ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
# The provider's clock and ours disagree by a few seconds; ``exp`` and ``nbf`` allow this.
LEEWAY_SECONDS = 30
# A provider may list a few hundred groups per person (Entra ID puts up to 200 in a token).
_MAX_GROUPS = 500


def check_config(settings: Settings) -> None:
    """``ValueError`` naming what OIDC mode lacks; nothing when it is off or complete."""
    if not settings.oidc_enabled:
        return
    if not settings.oidc_issuer:
        raise ValueError(
            "BRAIN_OIDC_ISSUER is required with BRAIN_OIDC_JWKS_URL: every token's 'iss' must "
            "be the identity provider's issuer"
        )
    if not settings.oidc_audience:
        raise ValueError(
            "BRAIN_OIDC_AUDIENCE is required with OIDC sign-in: every token's 'aud' must name "
            "Brain (the client or API id the provider issues its tokens for)"
        )


class OidcVerifier:
    def __init__(self, settings: Settings) -> None:
        check_config(settings)
        assert settings.oidc_issuer and settings.oidc_audience
        self._settings = settings
        self._issuer = settings.oidc_issuer
        self._audience = settings.oidc_audience
        self.keys = KeySet(
            issuer=settings.oidc_issuer,
            jwks_url=settings.oidc_jwks_url,
            cache_seconds=settings.oidc_jwks_cache_seconds,
            refetch_seconds=settings.oidc_jwks_refetch_seconds,
            timeout_seconds=settings.oidc_http_timeout_seconds,
        )

    async def verify(self, token: str, header: dict[str, Any]) -> Principal:
        try:
            key = await self.keys.key(header.get("kid"))
        except UnknownKey as err:
            raise Unauthorized(str(err)) from None
        with unauthorized_unless_valid():
            claims = jwt.decode(
                token,
                key,
                # The key's own algorithm only (PyJWT also refuses a header that differs).
                algorithms=[key.algorithm_name],
                audience=self._audience,
                issuer=self._issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iss", "aud"]},
            )
        check_lifetime(claims, self._settings.jwt_max_ttl_seconds)
        return principal(claims, self._settings)


def principal(claims: dict[str, Any], settings: Settings) -> Principal:
    """The caller the provider's claims describe, as the settings map them."""
    sub = claim(claims, settings.oidc_subject_claim)
    if not valid_subject(sub):
        raise Unauthorized(
            f"invalid subject ('{settings.oidc_subject_claim}' claim): 1..200 characters, "
            "no control characters, no surrounding spaces"
        )
    assert isinstance(sub, str)
    tenant = claim(claims, settings.oidc_tenant_claim)
    if tenant is None:
        tenant = settings.oidc_tenant
    if not isinstance(tenant, str):
        raise Unauthorized(
            f"the token names no tenant ('{settings.oidc_tenant_claim}' claim) and "
            "BRAIN_OIDC_TENANT is not set"
        )
    try:
        groups = groups_of(claim(claims, settings.oidc_groups_claim), limit=_MAX_GROUPS)
    except Unauthorized:
        raise Unauthorized(f"invalid '{settings.oidc_groups_claim}' claim") from None
    role = _role(claim(claims, settings.oidc_role_claim), groups, settings)
    if role is None:
        raise Forbidden(
            f"the token grants no Brain role: no role in its '{settings.oidc_role_claim}' "
            "claim, and none of its groups is mapped to one (BRAIN_OIDC_GROUP_ROLES)"
        )
    try:
        check_tenant(tenant, role)
    except ValueError as err:
        raise Unauthorized(f"{err} ('{settings.oidc_tenant_claim}')") from None
    return Principal(sub=sub, tenant=tenant, role=role, groups=groups)


def claim(claims: dict[str, Any], name: str) -> Any:
    """The claim ``name``; a name that is not a claim but has dots is a path into nested
    claims (Keycloak's ``realm_access.roles``). Claims named by a URL, as some providers
    namespace them, are found as they are."""
    if name in claims:
        return claims[name]
    value: Any = claims
    for part in name.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _role(raw: object, groups: tuple[str, ...], settings: Settings) -> Role | None:
    """The highest role the role claim (one name or a list) or a mapped group gives. Names
    that are not Brain roles are the provider's business (other applications' roles) and are
    passed over; a claim of another shape is a bad token."""
    if raw is None:
        names: list[object] = []
    elif isinstance(raw, str):
        names = [raw]
    elif isinstance(raw, list):
        names = list(raw)
    else:
        raise Unauthorized(f"invalid '{settings.oidc_role_claim}' claim")
    roles = [Role[n] for n in names if isinstance(n, str) and n in Role.__members__]
    roles += [settings.oidc_group_roles[g] for g in groups if g in settings.oidc_group_roles]
    return max(roles, default=None)
