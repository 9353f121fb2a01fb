"""The request edge on the real app: body size (413), media type (415), and 422s that stay
small whatever was sent."""

import json
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from api.errors import MAX_FIELD_ERRORS
from core.settings import Settings
from tests.api.conftest import close_api, open_api
from tests.api.support import BODIES, Api
from tests.support import LEAD, Brain

LIMIT = 2048
START = "/workflows/lead_scoring"


@pytest_asyncio.fixture
async def small(brain: Brain, settings: Settings) -> AsyncIterator[Api]:
    """The API with a body limit of ``LIMIT`` bytes."""
    opened = await open_api(brain, settings.model_copy(update={"max_body_bytes": LIMIT}))
    try:
        yield opened
    finally:
        await close_api(opened)


def _too_large(r: object) -> None:
    assert r.status_code == 413, r.text  # type: ignore[attr-defined]
    body = r.json()  # type: ignore[attr-defined]
    assert body["error"] == "PayloadTooLarge" and str(LIMIT) in body["detail"]


async def test_a_declared_length_over_the_limit_is_refused_before_the_body_is_read(
    small: Api,
) -> None:
    app = small.http._transport.app  # type: ignore[attr-defined]
    read: list[object] = []
    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        read.append(True)
        return {"type": "http.request", "body": b"{}", "more_body": False}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": f"/api/brain{START}",
        "raw_path": f"/api/brain{START}".encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"content-type", b"application/json"), (b"content-length", b"999999999")],
        "client": ("127.0.0.1", 1),
        "server": ("brain", 80),
        "state": {},
    }
    await app(scope, receive, send)
    assert sent[0]["status"] == 413
    assert json.loads(sent[1]["body"])["error"] == "PayloadTooLarge"  # type: ignore[arg-type]
    assert read == []


async def test_a_declared_length_over_the_limit_is_413(small: Api) -> None:
    body = json.dumps({"lead": {**LEAD["lead"], "notes": "x" * LIMIT}})
    r = await small.http.post(
        START, content=body, headers={**small.auth("operator"), "Content-Type": "application/json"}
    )
    _too_large(r)


async def test_a_streamed_body_over_the_limit_is_413(small: Api) -> None:
    chunks = [b'{"lead": {"notes": "', *[b"x" * 512] * 8, b'"}}']

    async def stream() -> AsyncIterator[bytes]:
        for chunk in chunks:
            yield chunk

    headers = {**small.auth("operator"), "Content-Type": "application/json"}
    r = await small.http.post(START, content=stream(), headers=headers)
    assert "content-length" not in r.request.headers  # chunked: counted as it arrives
    _too_large(r)


async def test_a_body_within_the_limit_is_served(small: Api) -> None:
    r = await small.http.post(START, json=BODIES["lead_scoring"], headers=small.auth("operator"))
    assert r.status_code == 201, r.text


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
async def test_a_body_that_is_not_json_is_415(api: Api, content_type: str | None) -> None:
    headers = api.auth("operator")
    if content_type:
        headers["Content-Type"] = content_type
    r = await api.http.post(START, content=json.dumps(LEAD).encode(), headers=headers)
    assert r.status_code == 415, r.text
    assert r.json()["error"] == "UnsupportedMediaType"


@pytest.mark.parametrize(
    "content_type", ["application/json; charset=utf-8", "application/merge-patch+json"]
)
async def test_json_media_types_are_accepted(api: Api, content_type: str) -> None:
    headers = {**api.auth("operator"), "Content-Type": content_type}
    r = await api.http.post(START, content=json.dumps(LEAD).encode(), headers=headers)
    assert r.status_code == 201, r.text


async def test_an_optional_body_may_be_left_out_without_a_content_type(api: Api) -> None:
    missing = "lead_scoring:nobody:none"
    for headers in ({}, {"Content-Type": "text/plain"}):
        r = await api.http.post(
            f"/workflows/{missing}/approve", headers={**api.auth("approver"), **headers}
        )
        # Not 415 nor 422: it reached the route, which has no such run.
        assert r.status_code == 404, r.text


async def test_ten_thousand_invalid_keys_make_a_small_422(api: Api) -> None:
    body: dict[str, object] = {**LEAD, **{f"{'k' * 70}{i}": 1 for i in range(10_000)}}
    r = await api.http.post(START, json=body, headers=api.auth("operator"))
    assert r.status_code == 422, r.text[:500]
    assert len(r.content) < 8_000
    fields = r.json()["fields"]
    assert len(fields) == MAX_FIELD_ERRORS + 1
    assert fields[-1]["type"] == "too_many_errors"
    assert str(10_000 - MAX_FIELD_ERRORS) in fields[-1]["msg"]
    for error in fields[:-1]:
        assert error["type"] == "extra_forbidden"
        assert all(len(str(part)) <= 64 for part in error["loc"]), error["loc"]


async def test_a_huge_key_is_clipped_in_loc(api: Api) -> None:
    key = "k" * 100_000
    r = await api.http.post(START, json={**LEAD, key: 1}, headers=api.auth("operator"))
    assert r.status_code == 422
    assert len(r.content) < 2_000
    (error,) = r.json()["fields"]
    assert error["loc"][0] == "body" and error["loc"][1].startswith("kkk")
    assert len(error["loc"][1]) <= 64


async def test_the_openapi_document_lists_413_and_415_where_a_body_is_taken(api: Api) -> None:
    doc = (await api.http.get("http://brain/openapi.json")).json()
    start = doc["paths"]["/api/brain/workflows/lead_scoring"]["post"]["responses"]
    assert {"413", "415"} <= start.keys()
    listing = doc["paths"]["/api/brain/workflows"]["get"]["responses"]
    assert not {"413", "415"} & listing.keys()
    assert "ErrorBody" in doc["components"]["schemas"]
