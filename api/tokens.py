"""Which check a bearer token gets: an HS256 token is Brain's own (``BRAIN_JWT_SECRET``,
unless HS256 is turned off); a token signed with an asymmetric algorithm is the identity
provider's (api/oidc.py), when OIDC sign-in is configured. Anything else is a 401.

The header picks the check, never the key: an HS256 token is only ever verified with the
JWT secret, and a provider's token only with a provider's key for the algorithm that key is
for, so a token "signed" with a published key as an HMAC secret gets nowhere.
"""

import jwt

from api.auth import MAX_TOKEN_LENGTH, Principal, decode_token
from api.errors import Unauthorized, Unavailable
from api.jwks import ProviderUnavailable
from api.oidc import ALGORITHMS, OidcVerifier
from core.settings import Settings

HS256 = "HS256"


class TokenVerifier:
    """Built once per app (or CLI command) from the settings: it holds the provider's
    cached keys. ``ValueError`` when the OIDC settings are incomplete."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self.oidc = OidcVerifier(settings) if settings.oidc_enabled else None

    async def verify(self, token: str) -> Principal:
        """The token's principal: ``Unauthorized`` (401) for any bad token, ``Forbidden``
        for a provider's token that grants no role, ``Unavailable`` (503) when the provider's
        keys cannot be read and none are cached."""
        if not token or len(token) > MAX_TOKEN_LENGTH:
            raise Unauthorized("malformed token")
        try:
            header = jwt.get_unverified_header(token)
        except Exception:
            raise Unauthorized("invalid token") from None
        alg = header.get("alg")
        s = self._settings
        if alg == HS256:
            if not s.jwt_hs256_enabled:
                raise Unauthorized(
                    "HS256 tokens are turned off: sign in with the identity provider"
                )
            return decode_token(
                token,
                s.jwt_secret.get_secret_value(),
                audience=s.jwt_audience,
                issuer=s.jwt_issuer,
                max_ttl_seconds=s.jwt_max_ttl_seconds,
            )
        if self.oidc is not None and isinstance(alg, str) and alg in ALGORITHMS:
            try:
                return await self.oidc.verify(token, header)
            except ProviderUnavailable as err:
                raise Unavailable(str(err), retry_after=err.retry_after) from None
        raise Unauthorized("invalid token")
