"""Forged page tokens are 422 on both databases, never a 200 that pasted them into a query nor
a 500 from a value the database cannot take."""

import base64
import json
from datetime import UTC, datetime

import pytest

from api import paging
from api.errors import ValidationFailed
from tests.api.support import Api

NOW = "2024-05-01T12:00:00+00:00"


def _token(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _key(*parts: object) -> str:
    return _token(json.dumps(list(parts)))


# (created_at or requested_at, workflow_id): GET /workflows and GET /approvals.
TIMESTAMP_KEYS = {
    "year 1 at +14:00 (year 0 in UTC)": _key("0001-01-01T00:00:00+14:00", "x"),
    "year 9999 at -14:00 (year 10000 in UTC)": _key("9999-12-31T23:59:59-14:00", "x"),
    "year 0": _key("0000-01-01T00:00:00+00:00", "x"),
    "year 10000": _key("10000-01-01T00:00:00+00:00", "x"),
    "before 1970": _key("1969-12-31T23:59:59+00:00", "x"),
    "not a date": _key("yesterday", "x"),
    "a number": _key(1714564800, "x"),
    "NUL in the id": _key(NOW, "lead_scoring:t:\x00"),
    "newline in the id": _key(NOW, "a\nb"),
    "C1 control in the id": _key(NOW, "a\x85b"),
    "lone surrogate in the id": _token(f'["{NOW}", "a\\ud800b"]'),
    "NUL in the timestamp": _key("2024-05-01T12:00:00\x00+00:00", "x"),
    "three parts": _key(NOW, "x", "y"),
}
# (decision row id): GET /audit.
ID_KEYS = {
    "int4 + 1 (the id column's type)": _key(2**31),
    "bigint + 1": _key(2**63),
    "huge": _key(10**30),
    "more digits than Python parses": _token("[" + "9" * 5000 + "]"),
    "negative": _key(-1),
    "a float": _key(1.5),
    "infinity": _token("[1e999]"),
    "a bool": _key(True),
    "a string": _key("1"),
}


@pytest.mark.parametrize("path", ["/workflows", "/approvals"])
@pytest.mark.parametrize("case", sorted(TIMESTAMP_KEYS))
async def test_forged_timestamp_tokens_are_422(api: Api, path: str, case: str) -> None:
    params = {"page_token": TIMESTAMP_KEYS[case]}
    r = await api.http.get(path, params=params, headers=api.auth("viewer"))
    assert r.status_code == 422, r.text
    assert r.json()["fields"][0]["loc"] == ["query", "page_token"]


@pytest.mark.parametrize("case", sorted(ID_KEYS))
async def test_forged_id_tokens_are_422(api: Api, case: str) -> None:
    r = await api.http.get("/audit", params={"page_token": ID_KEYS[case]}, headers=api.auth())
    assert r.status_code == 422, r.text


async def test_tokens_at_the_edges_of_the_range_are_served(api: Api) -> None:
    for key in (_key("1970-01-01T00:00:00+00:00", "x"), _key("9999-12-31T09:00:00+00:00", "~")):
        r = await api.http.get("/workflows", params={"page_token": key}, headers=api.auth())
        assert r.status_code == 200, r.text
    r = await api.http.get("/audit", params={"page_token": _key(2**31 - 1)}, headers=api.auth())
    assert r.status_code == 200, r.text


def test_the_timestamp_parser_wants_an_offset() -> None:
    parsed = paging.decode(paging.encode([NOW]), paging.timestamp)
    assert parsed == [datetime(2024, 5, 1, 12, tzinfo=UTC)]
    with pytest.raises(ValidationFailed):
        paging.decode(paging.encode(["2024-05-01T12:00:00"]), paging.timestamp)
