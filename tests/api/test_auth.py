"""JWT checks (401, never 500) and the role table (403) for every endpoint."""

import base64
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import jwt
import pytest
import pytest_asyncio

from api.auth import mint_token
from core.settings import Settings
from tests.api.conftest import close_api, open_api
from tests.api.support import ROLES, SECRET, Api, new_tenant
from tests.support import LEAD, Brain

_DAY = 86400


def _now() -> int:
    # Read when a token is made, never at import: a test may run many minutes after its
    # module was collected (two workers), when an import-time "nbf in 5 minutes" has passed.
    return int(time.time())


def _claims(**over: Any) -> dict[str, Any]:
    base = {"sub": "mallory", "tenant": "t-x", "role": "super_admin", "exp": _now() + 600}
    return {k: v for k, v in {**base, **over}.items() if v is not None}


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def _tampered() -> str:
    header, _, signature = jwt.encode(_claims(role="viewer"), SECRET, "HS256").split(".")
    return ".".join([header, _b64(_claims(role="super_admin")), signature])


def _bad_tokens() -> dict[str, str]:
    now = _now()
    return {
        "alg none": _b64({"alg": "none", "typ": "JWT"}) + "." + _b64(_claims()) + ".",
        "wrong key": jwt.encode(_claims(), "another-secret-0123456789abcdef0123", "HS256"),
        "hs512": jwt.encode(_claims(), SECRET, "HS512"),
        "tampered": _tampered(),
        "expired": jwt.encode(_claims(exp=now - 5), SECRET, "HS256"),
        "nbf future": jwt.encode(_claims(nbf=now + 300), SECRET, "HS256"),
        "no sub": jwt.encode(_claims(sub=None), SECRET, "HS256"),
        "no tenant": jwt.encode(_claims(tenant=None), SECRET, "HS256"),
        "no role": jwt.encode(_claims(role=None), SECRET, "HS256"),
        "no exp": jwt.encode(_claims(exp=None), SECRET, "HS256"),
        "unknown role": jwt.encode(_claims(role="root"), SECRET, "HS256"),
        "numeric sub": jwt.encode({**_claims(), "sub": 42}, SECRET, "HS256"),
        "tenant with slash": jwt.encode(_claims(tenant="a/b"), SECRET, "HS256"),
        "global tenant, not super admin": jwt.encode(_claims(tenant="*", role="admin"), SECRET),
        "exp not a number": jwt.encode({**_claims(), "exp": "soon"}, SECRET, "HS256"),
        "garbage": "not-a-token",
        "three garbage parts": "a.b.c",
        "header not json": base64.urlsafe_b64encode(b"[1").decode() + ".e30.sig",
        "payload a list": (
            "eyJhbGciOiJIUzI1NiJ9." + base64.urlsafe_b64encode(b"[1]").decode() + ".x"
        ),
        "huge": "a" * 20000,
        # Control characters in the subject: PostgreSQL cannot store a NUL (this was a 500 after
        # the run had started), and a newline forges log lines.
        "NUL in sub": jwt.encode(_claims(sub="ops\x00admin"), SECRET, "HS256"),
        "newline in sub": jwt.encode(_claims(sub="ops\nadmin"), SECRET, "HS256"),
        "DEL in sub": jwt.encode(_claims(sub="ops\x7f"), SECRET, "HS256"),
        "C1 control in sub": jwt.encode(_claims(sub="ops\x85"), SECRET, "HS256"),
        "lone surrogate in sub": jwt.encode(_claims(sub="ops\ud800"), SECRET, "HS256"),
        "NUL in tenant": jwt.encode(_claims(tenant="t-x\x00"), SECRET, "HS256"),
        # Would pass for ann wherever subjects are compared after a trim (four-eyes, quorum).
        "trailing space in sub": jwt.encode(_claims(sub="ann "), SECRET, "HS256"),
        "leading space in sub": jwt.encode(_claims(sub=" ann"), SECRET, "HS256"),
        "no-break space around sub": jwt.encode(_claims(sub="\u00a0ann"), SECRET, "HS256"),
        # Longer than BRAIN_JWT_MAX_TTL_SECONDS (7 days by default).
        "lives 8 days": jwt.encode(_claims(iat=now, exp=now + 8 * _DAY), SECRET, "HS256"),
        "issued 30 days ago": jwt.encode(_claims(iat=now - 30 * _DAY), SECRET, "HS256"),
        "no iat, expires in 8 days": jwt.encode(_claims(exp=now + 8 * _DAY), SECRET, "HS256"),
        "exp beyond any float": jwt.encode(_claims(exp=10**400), SECRET, "HS256"),
        "iat in the future": jwt.encode(_claims(iat=now + 3600), SECRET, "HS256"),
    }


@pytest.mark.parametrize("case", sorted(_bad_tokens()))
async def test_bad_tokens_are_401(api: Api, case: str) -> None:
    token = _bad_tokens()[case]
    r = await api.http.get("/workflows", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401, r.text
    assert r.json()["error"] == "Unauthorized"
    assert r.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "token"])
async def test_missing_or_malformed_header_is_401(api: Api, header: str | None) -> None:
    headers = {} if header is None else {"Authorization": header}
    r = await api.http.get("/approvals", headers=headers)
    assert r.status_code == 401 and r.json()["error"] == "Unauthorized"


def _endpoints(tenant: str) -> list[tuple[str, str, str, dict[str, Any] | None]]:
    missing = "lead_scoring:nobody:none"
    return [
        (
            "POST",
            "/workflows/lead_scoring",
            "operator",
            {"lead": {"name": "A", "email": "a@b.example", "company": "C"}},
        ),
        ("GET", f"/workflows/{missing}", "viewer", None),
        ("GET", "/workflows", "viewer", None),
        ("POST", f"/workflows/{missing}/cancel", "operator", None),
        ("GET", "/approvals", "viewer", None),
        ("POST", f"/workflows/{missing}/approve", "approver", {}),
        ("POST", f"/workflows/{missing}/reject", "approver", {}),
        ("GET", "/workflows/policies", "viewer", None),
        (
            "POST",
            "/workflows/hitl/lead_scoring/toggle",
            "super_admin",
            {"enabled": True, "tenant": tenant},
        ),
        (
            "PUT",
            "/workflows/confidence/lead_scoring",
            "super_admin",
            {"threshold": 0.85, "tenant": tenant},
        ),
        ("GET", "/workflows/autonomous", "viewer", None),
        ("GET", "/audit", "viewer", None),
        ("GET", "/agents/status", "viewer", None),
    ]


async def test_role_table(api: Api) -> None:
    tenant = new_tenant()
    for method, path, needed, body in _endpoints(tenant):
        anonymous = await api.http.request(method, path, json=body)
        assert anonymous.status_code == 401, (method, path)
        for role in ROLES:
            r = await api.http.request(method, path, json=body, headers=api.auth(role, tenant))
            if ROLES.index(role) < ROLES.index(needed):
                assert r.status_code == 403, (method, path, role, r.text)
                assert r.json()["error"] == "Forbidden"
            else:
                assert r.status_code not in (401, 403), (method, path, role, r.text)
                assert r.status_code < 500, (method, path, role, r.text)


async def test_unknown_route_uses_the_error_format(api: Api) -> None:
    r = await api.http.get("/nowhere", headers=api.auth())
    assert r.status_code == 404 and r.json()["error"] == "NotFound"


async def test_a_subject_with_a_nul_cannot_start_a_run(api: Api) -> None:
    token = jwt.encode(_claims(sub="ops\x00", tenant=api.tenant, role="operator"), SECRET)
    headers = {"Authorization": f"Bearer {token}"}
    r = await api.http.post("/workflows/lead_scoring", json=LEAD, headers=headers)
    assert r.status_code == 401, r.text


async def test_a_token_may_live_up_to_the_maximum(api: Api) -> None:
    lifetime = api.settings.jwt_max_ttl_seconds
    now = _now()
    token = jwt.encode(_claims(tenant=api.tenant, iat=now, exp=now + lifetime), SECRET)
    r = await api.http.get("/workflows", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text


@pytest_asyncio.fixture
async def strict(brain: Brain, settings: Settings) -> AsyncIterator[Api]:
    """The API with an audience, an issuer and a one-hour maximum lifetime."""
    update = {"jwt_audience": "brain-api", "jwt_issuer": "brain-test", "jwt_max_ttl_seconds": 3600}
    opened = await open_api(brain, settings.model_copy(update=update))
    try:
        yield opened
    finally:
        await close_api(opened)


async def test_audience_and_issuer_when_configured(strict: Api) -> None:
    def status(**claims: Any) -> Any:
        token = jwt.encode(_claims(tenant=strict.tenant, **claims), SECRET)
        return strict.http.get("/workflows", headers={"Authorization": f"Bearer {token}"})

    assert (await status(aud="brain-api", iss="brain-test")).status_code == 200
    for claims in (
        {"iss": "brain-test"},  # no aud
        {"aud": "brain-api"},  # no iss
        {"aud": "another-api", "iss": "brain-test"},
        {"aud": "brain-api", "iss": "someone-else"},
        {"aud": "brain-api", "iss": "brain-test", "iat": _now(), "exp": _now() + 3601},  # too long
    ):
        r = await status(**claims)
        assert r.status_code == 401, (claims, r.text)
    minted = mint_token(
        "ann", strict.tenant, "viewer", 3600, SECRET, audience="brain-api", issuer="brain-test"
    )
    r = await strict.http.get("/workflows", headers={"Authorization": f"Bearer {minted}"})
    assert r.status_code == 200, r.text


async def test_without_a_configured_audience_a_token_audience_is_ignored(api: Api) -> None:
    token = jwt.encode(_claims(tenant=api.tenant, aud="whatever"), SECRET)
    r = await api.http.get("/workflows", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text


def test_mint_token_refuses_a_subject_with_control_characters() -> None:
    with pytest.raises(ValueError, match="subject"):
        mint_token("ops\nadmin", "t-x", "viewer", 60, SECRET)
