"""The identity provider's signing keys (its JWKS), as Brain keeps them.

The key set is found by OIDC discovery (``<issuer>/.well-known/openid-configuration``,
whose ``issuer`` must be the configured one) or named directly. It is cached and re-read:

- when it is older than the cache period, in the background: the request that noticed is
  answered with the keys at hand, so nobody waits on the provider for a key it already gave;
- when a token names a key the set lacks (the provider rotated its keys), at once, but at
  most once per refetch period, so a flood of made-up key ids is not a flood of requests to
  the provider;
- never by throwing the keys away: while the provider is unreachable the cached keys keep
  working. With none cached yet, a token cannot be checked at all, which is the provider's
  outage and not the caller's fault: ``ProviderUnavailable`` (503 at the REST door).

Parsing a key is PyJWT's (``PyJWK``); only asymmetric keys are kept, so no key of the set can
act as an HMAC secret (algorithm confusion).
"""

import asyncio
import logging
import math
import time
from typing import Any
from urllib.parse import urlsplit

import httpx
from jwt import PyJWK

log = logging.getLogger(__name__)

DISCOVERY_PATH = "/.well-known/openid-configuration"
_MAX_DOCUMENT_BYTES = 512 * 1024
_MAX_KID_LENGTH = 256
_KEY_TYPES = frozenset({"RSA", "EC", "OKP"})
# Plain http reaches the provider only on this machine: keys fetched over the network
# without TLS could be swapped by anyone on the path, and with them every token.
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})


class ProviderUnavailable(Exception):
    """No key to check the token with, and the provider does not answer."""

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class UnknownKey(Exception):
    """The token names a key the provider does not publish."""


class _FetchFailed(Exception):
    pass


def check_provider_url(url: str, what: str) -> str:
    """``url`` when it is https, or http on this machine; ``ValueError`` otherwise."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return url
    if parts.scheme == "http" and parts.hostname in _LOOPBACK_HOSTS:
        return url
    raise ValueError(f"{what} must be an https URL (http only on 127.0.0.1): {url!r}")


class KeySet:
    def __init__(
        self,
        *,
        issuer: str | None,
        jwks_url: str | None,
        cache_seconds: float,
        refetch_seconds: float,
        timeout_seconds: float,
    ) -> None:
        if jwks_url is None and issuer is None:
            raise ValueError("an issuer (for discovery) or a JWKS URL is needed")
        self._issuer = issuer
        self._configured_url = jwks_url and check_provider_url(jwks_url, "BRAIN_OIDC_JWKS_URL")
        if issuer is not None and jwks_url is None:
            check_provider_url(issuer, "BRAIN_OIDC_ISSUER")
        self._jwks_url = self._configured_url
        self._cache_seconds = cache_seconds
        self._refetch_seconds = refetch_seconds
        self._timeout = timeout_seconds
        self._keys: dict[str, PyJWK] = {}
        self._fetched_at = -math.inf
        self._attempted_at = -math.inf
        self._lock = asyncio.Lock()
        self._background: asyncio.Task[None] | None = None
        # How many times the set was read from the provider (tests and logs).
        self.fetches = 0

    async def key(self, kid: object) -> PyJWK:
        """The key named ``kid``; ``UnknownKey`` or ``ProviderUnavailable`` otherwise."""
        if not isinstance(kid, str) or not 0 < len(kid) <= _MAX_KID_LENGTH:
            raise UnknownKey("the token names no key ('kid')")
        found = self._keys.get(kid)
        if found is not None:
            if time.monotonic() - self._fetched_at >= self._cache_seconds:
                self._refresh_in_background()
            return found
        await self._refresh()
        found = self._keys.get(kid)
        if found is not None:
            return found
        if not self._keys:
            raise ProviderUnavailable(
                "the identity provider's keys cannot be read, and none are cached",
                retry_after=self._retry_after(),
            )
        raise UnknownKey("the token is signed with a key the identity provider does not publish")

    def _retry_after(self) -> int:
        left = self._attempted_at + self._refetch_seconds - time.monotonic()
        return max(1, math.ceil(left))

    def _refresh_in_background(self) -> None:
        if self._background is None or self._background.done():
            self._background = asyncio.create_task(self._refresh())

    async def _refresh(self) -> None:
        """Read the set again unless it was tried within the refetch period. A failure
        keeps the keys at hand and is only logged: a token is judged on what is known."""
        async with self._lock:
            if time.monotonic() - self._attempted_at < self._refetch_seconds:
                return  # read (or tried) a moment ago, maybe while this call waited
            self._attempted_at = time.monotonic()
            try:
                keys = await self._fetch()
            except _FetchFailed as err:
                log.warning("identity provider keys not refreshed: %s", err)
                return
            except Exception:
                # Whatever else reading them raised: a request is still judged on the keys
                # at hand (and a background refresh must not die unobserved).
                log.exception("identity provider keys not refreshed")
                return
            self._keys, self._fetched_at = keys, time.monotonic()

    async def _fetch(self) -> dict[str, PyJWK]:
        self.fetches += 1
        async with httpx.AsyncClient(timeout=self._timeout, follow_redirects=False) as http:
            url = self._jwks_url or await self._discover(http)
            try:
                return _signing_keys(await _get_json(http, url))
            except _FetchFailed:
                # Discovered, not configured: the provider may have moved its keys.
                self._jwks_url = self._configured_url
                raise

    async def _discover(self, http: httpx.AsyncClient) -> str:
        assert self._issuer is not None
        doc = await _get_json(http, self._issuer.rstrip("/") + DISCOVERY_PATH)
        # OpenID Connect Discovery 1.0, §4.3: the document must name the issuer asked for.
        if doc.get("issuer") != self._issuer:
            raise _FetchFailed(
                f"discovery names issuer {doc.get('issuer')!r}, not the configured one"
            )
        jwks_uri = doc.get("jwks_uri")
        if not isinstance(jwks_uri, str):
            raise _FetchFailed("discovery document has no 'jwks_uri'")
        try:
            self._jwks_url = check_provider_url(jwks_uri, "the discovered jwks_uri")
        except ValueError as err:
            raise _FetchFailed(str(err)) from None
        return self._jwks_url


async def _get_json(http: httpx.AsyncClient, url: str) -> dict[str, Any]:
    try:
        response = await http.get(url, headers={"Accept": "application/json"})
        response.raise_for_status()
        if len(response.content) > _MAX_DOCUMENT_BYTES:
            raise _FetchFailed(f"{url}: answer larger than {_MAX_DOCUMENT_BYTES} bytes")
        data = response.json()
    except httpx.HTTPError as err:
        raise _FetchFailed(f"{url}: {type(err).__name__}: {err}") from None
    except ValueError:
        raise _FetchFailed(f"{url}: not JSON") from None
    if not isinstance(data, dict):
        raise _FetchFailed(f"{url}: not a JSON object")
    return data


def _signing_keys(jwks: dict[str, Any]) -> dict[str, PyJWK]:
    """The set's asymmetric signing keys with a key id; one key PyJWT cannot read is
    skipped (and logged), never a reason to drop the others."""
    entries = jwks.get("keys")
    if not isinstance(entries, list):
        raise _FetchFailed("the key set has no 'keys' list")
    keys: dict[str, PyJWK] = {}
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        kid = entry.get("kid")
        if not isinstance(kid, str) or not 0 < len(kid) <= _MAX_KID_LENGTH:
            continue
        if entry.get("kty") not in _KEY_TYPES or entry.get("use", "sig") != "sig":
            continue
        try:
            keys[kid] = PyJWK(entry)
        except Exception:  # whatever a malformed key makes PyJWT or cryptography raise
            log.warning("identity provider key %r skipped: not a key PyJWT can read", kid)
    if not keys:
        raise _FetchFailed("the key set holds no usable signing key")
    return keys
