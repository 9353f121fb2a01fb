"""Sign-in from the company's identity provider (SPEC §8): a real local provider (discovery
and JWKS over HTTP on 127.0.0.1, keys made here), tokens checked as the REST door checks them
(``TokenVerifier``, the object the API's dependency calls), then a provider's token driving a
run over REST, and the CLI reading one from a file.

One provider for the module; each test builds its own verifier or app, so each starts with
an empty key cache.
"""

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from api.auth import Principal, mint_token
from api.errors import Forbidden, Unauthorized, Unavailable
from api.tokens import TokenVerifier
from cli.credentials import NoToken, caller_principal, caller_token
from core.settings import Settings
from models.roles import Role
from tests.api.conftest import close_api, open_api
from tests.api.idp import AUDIENCE, Provider, new_key
from tests.api.support import SECRET
from tests.cli.conftest import BRAIN, clean_env, run_cmd
from tests.support import LEAD, Brain, eventually

GROUP_ROLES = {"brain-approvers": "approver", "brain-admins": "admin"}


@pytest.fixture(scope="module")
def idp() -> Iterator[Provider]:
    provider = Provider(
        new_key("rsa-1"), new_key("ec-1", "ES256"), new_key("ed-1", "EdDSA")
    ).start()
    try:
        yield provider
    finally:
        provider.stop()


def oidc_settings(idp: Provider, **over: Any) -> Settings:
    values: dict[str, Any] = {
        "jwt_secret": SECRET,
        "oidc_issuer": idp.issuer,
        "oidc_audience": AUDIENCE,
        "oidc_group_roles": GROUP_ROLES,
        **over,
    }
    return Settings(_env_file=None, **values)


async def refused(verifier: TokenVerifier, token: str) -> str:
    with pytest.raises(Unauthorized) as caught:
        await verifier.verify(token)
    return str(caught.value.detail)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _hs256_with(secret: bytes, claims: dict[str, Any], kid: str) -> str:
    """An HS256 token whose HMAC secret is ``secret``: PyJWT refuses to make one with a
    public key, which is the point of the attack, so it is put together here."""
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode())
    payload = _b64(json.dumps(claims).encode())
    signature = hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64(signature)}"


async def test_rs256_es256_and_eddsa_tokens_give_their_principal(idp: Provider) -> None:
    verifier = TokenVerifier(oidc_settings(idp))
    for kid in ("rsa-1", "ec-1", "ed-1"):
        token = idp.token(kid, sub=f"ann-{kid}", groups=["finance"])
        assert await verifier.verify(token) == Principal(
            sub=f"ann-{kid}", tenant="acme", role=Role.approver, groups=("finance",)
        )
    assert verifier.oidc is not None and verifier.oidc.keys.fetches == 1  # one read, cached
    # HS256 tokens still work beside them (service tokens, `brain up`) while turned on.
    hs256 = mint_token("svc", "acme", "operator", 600, SECRET)
    assert (await verifier.verify(hs256)).sub == "svc"


async def test_bad_tokens_are_401(idp: Provider) -> None:
    verifier = TokenVerifier(oidc_settings(idp))
    now = idp.claims()["iat"]
    public_pem = (
        idp.key("rsa-1")
        .private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    stranger = new_key("rsa-1")  # the published kid, another key
    cases = {
        "wrong iss": (idp.token(iss="https://evil.example/realms/brain"), "another issuer"),
        "no iss": (idp.token(iss=None), "'iss'"),
        "wrong aud": (idp.token(aud="another-app"), "another audience"),
        "no aud": (idp.token(aud=None), "'aud'"),
        "expired": (idp.token(iat=now - 7200, exp=now - 3600), "expired"),
        "nbf ahead": (idp.token(nbf=now + 3600), "not valid yet"),
        "no exp": (idp.token(exp=None), "'exp'"),
        "unknown kid": (idp.token("rsa-9", key=idp.key("rsa-1")), "does not publish"),
        "no kid": (idp.token("", key=idp.key("rsa-1")), "'kid'"),
        "signed by another key": (idp.token("rsa-1", key=stranger), "invalid token"),
        # The EC key's id on an RSA signature: the key says which algorithm, not the token.
        "alg of another key": (idp.token("ec-1", key=idp.key("rsa-1")), "invalid token"),
        # Algorithm confusion: HMAC with the provider's public key as the secret.
        "HS256 with the public key": (
            _hs256_with(public_pem, idp.claims(), "rsa-1"),
            "invalid token",
        ),
        "alg none": (
            _b64(json.dumps({"alg": "none", "kid": "rsa-1"}).encode())
            + "."
            + _b64(json.dumps(idp.claims()).encode())
            + ".",
            "invalid token",
        ),
        "alg not a string": (
            _b64(json.dumps({"alg": ["RS256"], "kid": "rsa-1"}).encode())
            + "."
            + _b64(json.dumps(idp.claims()).encode())
            + ".c2ln",
            "invalid token",
        ),
        "sub with a trailing space": (idp.token(sub="ann "), "surrounding spaces"),
        "no sub": (idp.token(sub=None), "subject"),
        "no tenant, none configured": (idp.token(tenant=None), "BRAIN_OIDC_TENANT"),
        "global tenant, not super admin": (idp.token(tenant="*"), "tenant"),
        "groups not a list": (idp.token(groups="brain-admins"), "'groups'"),
        "role claim an object": (idp.token(role={"name": "admin"}), "'role'"),
        "lives 8 days": (idp.token(exp=now + 8 * 86400), "lifetime"),
    }
    for case, (token, says) in cases.items():
        detail = await refused(verifier, token)
        assert says in detail, (case, detail)


async def test_hs256_can_be_turned_off(idp: Provider) -> None:
    verifier = TokenVerifier(oidc_settings(idp, jwt_hs256_enabled=False))
    hs256 = mint_token("svc", "acme", "super_admin", 600, SECRET)
    assert "turned off" in await refused(verifier, hs256)
    public_pem = (
        idp.key("rsa-1")
        .private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    assert "turned off" in await refused(verifier, _hs256_with(public_pem, idp.claims(), "rsa-1"))
    assert (await verifier.verify(idp.token())).sub == "ann"


async def test_groups_and_claims_map_as_configured(idp: Provider) -> None:
    verifier = TokenVerifier(oidc_settings(idp, oidc_tenant="acme"))

    async def role_of(**claims: Any) -> Role:
        return (await verifier.verify(idp.token(**claims))).role

    # No role claim: the groups give it; the highest of role claim and groups wins.
    assert await role_of(role=None, groups=["brain-approvers", "staff"]) is Role.approver
    assert await role_of(role="viewer", groups=["brain-admins"]) is Role.admin
    assert await role_of(role=["operator", "offline_access"]) is Role.operator
    # A fixed tenant for a provider that names none.
    assert (await verifier.verify(idp.token(tenant=None))).tenant == "acme"
    with pytest.raises(Forbidden, match="no Brain role"):
        await verifier.verify(idp.token(role=None, groups=["staff"]))

    # Keycloak's shape: roles nested under realm_access, the person named by email.
    keycloak = TokenVerifier(
        oidc_settings(
            idp,
            oidc_role_claim="realm_access.roles",
            oidc_subject_claim="email",
            oidc_tenant_claim="https://brain.example/tenant",
        )
    )
    # A claim whose name is no identifier: passed unpacked, typed as a claim (not ``key``).
    tenant_claim: dict[str, Any] = {"https://brain.example/tenant": "globex"}
    principal = await keycloak.verify(
        idp.token(
            role=None,
            tenant=None,
            email="ann@acme.example",
            realm_access={"roles": ["uma_authorization", "super_admin"]},
            **tenant_claim,
        )
    )
    assert (principal.sub, principal.tenant, principal.role) == (
        "ann@acme.example",
        "globex",
        Role.super_admin,
    )


async def test_unknown_kid_refetches_once_per_period_then_a_rotated_key_is_accepted(
    idp: Provider,
) -> None:
    verifier = TokenVerifier(oidc_settings(idp, oidc_jwks_refetch_seconds=3600))
    assert verifier.oidc is not None
    keys = verifier.oidc.keys
    await verifier.verify(idp.token())
    assert keys.fetches == 1
    # A made-up kid makes one refetch; the next ones within the period make none.
    for n in range(3):
        assert "does not publish" in await refused(
            verifier, idp.token(f"made-up-{n}", key=idp.key("rsa-1"))
        )
    assert keys.fetches == 1  # the first read was within the period too

    # Rotation: the provider publishes a new key and signs with it. Brain knows it after
    # exactly one refetch, and the old key keeps working.
    rotating = TokenVerifier(oidc_settings(idp, oidc_jwks_refetch_seconds=0))
    assert rotating.oidc is not None
    await rotating.verify(idp.token())
    assert rotating.oidc.keys.fetches == 1
    idp.publish(new_key("rsa-2"))
    assert (await rotating.verify(idp.token("rsa-2", sub="bob"))).sub == "bob"
    assert rotating.oidc.keys.fetches == 2
    assert (await rotating.verify(idp.token("rsa-1"))).sub == "ann"
    assert rotating.oidc.keys.fetches == 2


async def test_provider_down_cached_keys_keep_working_none_cached_is_503() -> None:
    provider = Provider(new_key("rsa-1")).start()
    try:
        # Keys older than the cache period are re-read in the background, never waited for.
        cached = TokenVerifier(
            oidc_settings(provider, oidc_jwks_cache_seconds=0.001, oidc_jwks_refetch_seconds=0)
        )
        assert (await cached.verify(provider.token())).sub == "ann"
        provider.stop()
        for _ in range(3):
            assert (await cached.verify(provider.token(sub="still-ann"))).sub == "still-ann"
        # A key it never had cannot be checked: the caller's token is at fault, 401.
        assert "does not publish" in await refused(
            cached, provider.token("rsa-2", key=provider.key("rsa-1"))
        )

        # Nothing cached and the provider down: 503, the provider's outage, not the caller's.
        cold = TokenVerifier(oidc_settings(provider, oidc_jwks_refetch_seconds=30))
        with pytest.raises(Unavailable) as caught:
            await cold.verify(provider.token())
        assert caught.value.status_code == 503
        assert 1 <= int((caught.value.headers or {})["Retry-After"]) <= 30
        # Back up: the next read (after the refetch period) finds the keys.
        provider.start()
        recovered = TokenVerifier(oidc_settings(provider, oidc_jwks_refetch_seconds=0))
        with pytest.raises(Unavailable):
            await cold.verify(provider.token())  # still within cold's period: not asked
        assert (await recovered.verify(provider.token())).sub == "ann"
    finally:
        provider.stop()


async def test_discovery_or_a_jwks_url(idp: Provider) -> None:
    # The discovery document must name the issuer configured, exactly.
    other = TokenVerifier(oidc_settings(idp, oidc_issuer=idp.issuer + "/"))
    with pytest.raises(Unavailable):
        await other.verify(idp.token())
    # A JWKS URL skips discovery; ``iss`` is still checked against the issuer.
    asked = idp.discovery_requests
    direct = TokenVerifier(oidc_settings(idp, oidc_jwks_url=idp.jwks_url))
    assert (await direct.verify(idp.token())).sub == "ann"
    assert idp.discovery_requests == asked
    assert "another issuer" in await refused(direct, idp.token(iss="https://evil.example"))


async def test_a_provider_token_drives_a_run_over_rest(
    brain: Brain, settings: Settings, idp: Provider
) -> None:
    update = {
        "oidc_issuer": idp.issuer,
        "oidc_audience": AUDIENCE,
        # model_copy does not validate: the roles as the settings hold them.
        "oidc_group_roles": {group: Role[name] for group, name in GROUP_ROLES.items()},
        "jwt_hs256_enabled": False,
    }
    api = await open_api(brain, settings.model_copy(update=update))
    try:
        tenant = brain.tenant

        def bearer(**claims: Any) -> dict[str, str]:
            token = idp.token(**{"tenant": tenant, **claims})
            return {"Authorization": f"Bearer {token}"}

        started = await api.http.post(
            "/workflows/lead_scoring", json=LEAD, headers=bearer(sub="olga", role="operator")
        )
        assert started.status_code == 201, started.text
        wid = started.json()["workflow_id"]
        viewer = bearer(sub="vic", role="viewer")

        async def parked() -> bool:
            r = await api.http.get(f"/workflows/{wid}", headers=viewer)
            return bool(r.json()["state"] == "awaiting_approval")

        await eventually(parked)
        # The approver's role comes from a group; the audit names the provider's subject.
        approver = bearer(sub="ann@acme.example", role=None, groups=["brain-approvers"], kid="ec-1")
        approved = await api.http.post(
            f"/workflows/{wid}/approve", json={"comment": "ok"}, headers=approver
        )
        assert approved.status_code == 200, approved.text
        assert approved.json()["actor"] == "ann@acme.example"

        async def applied() -> bool:
            r = await api.http.get(f"/workflows/{wid}", headers=viewer)
            return bool(r.json()["state"] == "completed")

        await eventually(applied)  # the apply step writes the audit row with the result
        audit = await api.http.get("/audit", params={"workflow_id": wid}, headers=viewer)
        [entry] = audit.json()["items"]
        assert (entry["actor"], entry["channel"], entry["decision"]) == (
            "ann@acme.example",
            "api",
            "approve",
        )
        # Refused at the door: wrong audience; an HS256 token while HS256 is off.
        wrong = await api.http.get("/approvals", headers=bearer(aud="another-app"))
        assert wrong.status_code == 401 and wrong.json()["error"] == "Unauthorized"
        hs256 = await api.http.get("/approvals", headers=api.auth("viewer"))
        assert hs256.status_code == 401, hs256.text
    finally:
        await close_api(api)

    # A provider whose keys cannot be read, none cached: 503 with Retry-After.
    down = Provider(new_key("rsa-1"))  # never started: nothing listens on its port
    dead = settings.model_copy(update={"oidc_issuer": down.issuer, "oidc_audience": AUDIENCE})
    api = await open_api(brain, dead)
    try:
        r = await api.http.get("/approvals", headers={"Authorization": f"Bearer {down.token()}"})
        assert r.status_code == 503, r.text
        assert r.json()["error"] == "Unavailable" and "Retry-After" in r.headers
    finally:
        await close_api(api)


async def test_the_cli_reads_the_token_from_a_file_or_the_environment(
    idp: Provider, tmp_path: Path
) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(idp.token(sub="ann", groups=["brain-admins"], role=None) + "\n")
    env = clean_env(
        jwt_secret=SECRET,
        oidc_issuer=idp.issuer,
        oidc_audience=AUDIENCE,
        oidc_group_roles=json.dumps(GROUP_ROLES),
        token_file=str(token_file),
    )
    done = await run_cmd(BRAIN, "whoami", env=env, cwd=tmp_path)
    assert done.code == 0, done
    assert done.json() == {
        "sub": "ann",
        "tenant": "acme",
        "role": "admin",
        "groups": ["brain-admins"],
    }
    # BRAIN_TOKEN wins over the file, and is checked as the API checks it.
    wrong = env | {"BRAIN_TOKEN": idp.token(aud="another-app")}
    done = await run_cmd(BRAIN, "whoami", env=wrong, cwd=tmp_path)
    assert done.code == 1, done
    assert done.error() == {"error": "Unauthorized", "detail": "token is for another audience"}


async def test_the_callers_token_helper(idp: Provider, tmp_path: Path) -> None:
    settings = oidc_settings(idp)
    assert caller_token(settings) is None and await caller_principal(settings) is None
    token_file = tmp_path / "token"
    token_file.write_text(f"  {idp.token(sub='bob')}\n")
    from_file = settings.model_copy(update={"token_file": token_file})
    principal = await caller_principal(from_file)
    assert principal is not None and principal.sub == "bob"
    for content in (b"", b"\xff\xfe", b"x" * 20000):
        token_file.write_bytes(content)
        with pytest.raises(NoToken):
            caller_token(from_file)
    with pytest.raises(NoToken, match="cannot be read"):
        caller_token(settings.model_copy(update={"token_file": tmp_path / "nowhere"}))
