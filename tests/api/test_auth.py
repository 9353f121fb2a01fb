"""JWT checks (401, never 500) and the role table (403) for every endpoint."""

import base64
import json
import time
from typing import Any

import jwt
import pytest

from tests.api.support import ROLES, SECRET, Api, new_tenant

_NOW = int(time.time())


def _claims(**over: Any) -> dict[str, Any]:
    base = {"sub": "mallory", "tenant": "t-x", "role": "super_admin", "exp": _NOW + 600}
    return {k: v for k, v in {**base, **over}.items() if v is not None}


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def _tampered() -> str:
    header, _, signature = jwt.encode(_claims(role="viewer"), SECRET, "HS256").split(".")
    return ".".join([header, _b64(_claims(role="super_admin")), signature])


BAD_TOKENS = {
    "alg none": _b64({"alg": "none", "typ": "JWT"}) + "." + _b64(_claims()) + ".",
    "wrong key": jwt.encode(_claims(), "another-secret-0123456789abcdef0123", "HS256"),
    "hs512": jwt.encode(_claims(), SECRET, "HS512"),
    "tampered": _tampered(),
    "expired": jwt.encode(_claims(exp=_NOW - 5), SECRET, "HS256"),
    "nbf future": jwt.encode(_claims(nbf=_NOW + 300), SECRET, "HS256"),
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
    "payload a list": "eyJhbGciOiJIUzI1NiJ9." + base64.urlsafe_b64encode(b"[1]").decode() + ".x",
    "huge": "a" * 20000,
}


@pytest.mark.parametrize("case", sorted(BAD_TOKENS))
async def test_bad_tokens_are_401(api: Api, case: str) -> None:
    r = await api.http.get("/workflows", headers={"Authorization": f"Bearer {BAD_TOKENS[case]}"})
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
