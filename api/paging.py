"""Keyset paging with opaque tokens: a token is the sort key of the last item served, so a
page never skips or repeats rows when new ones arrive (newest-first lists grow at the top).

A token comes back from the client, so it is input like any other: each part goes through a
parser that accepts only what this API hands out, and what reaches a query is a value every
database can hold (no NUL for PostgreSQL, a timestamp it can encode, an int4 row id).
"""

import base64
import binascii
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Query

from api.errors import ValidationFailed
from api.params import has_control_chars

PageSize = Annotated[int, Query(ge=1, le=200, description="Items per page (1..200)")]
PageToken = Annotated[
    str | None,
    Query(max_length=1000, description="`next_page_token` of the previous page"),
]

# Rows are written now; their timestamps lie in this range. Outside it lie only forged
# values, and values PostgreSQL or asyncpg cannot take (year 1 at +14:00 is year 0 in UTC).
_EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
_LATEST = datetime.max.replace(tzinfo=UTC)
# Row ids are ``sa.Integer`` (PostgreSQL int4, store/migrations): asyncpg refuses anything
# larger, as a 500, before the query runs.
_MAX_ROW_ID = 2**31 - 1


def encode(key: list[Any]) -> str:
    raw = json.dumps(key, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(token: str | None, *parsers: Callable[[Any], Any]) -> list[Any] | None:
    """The key inside ``token``, each part through its parser; 422 for anything this API
    did not hand out."""
    if token is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        key = json.loads(raw)
        if not isinstance(key, list) or len(key) != len(parsers):
            raise ValueError("wrong shape")
        parts = [parse(part) for parse, part in zip(parsers, key, strict=True)]
        # Whatever parser made a datetime, it must be one a database can store.
        for part in parts:
            if isinstance(part, datetime):
                _in_range(part)
        return parts
    except (binascii.Error, ValueError, TypeError, OverflowError):
        raise ValidationFailed(
            [{"loc": ["query", "page_token"], "msg": "invalid page token", "type": "value_error"}]
        ) from None


def integer(value: Any) -> int:
    """A row id: not negative, and no larger than its column can hold."""
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= _MAX_ROW_ID:
        raise TypeError("not a row id")
    return value


def text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("not a string")
    if has_control_chars(value):
        raise ValueError("control characters")
    return value


def timestamp(value: Any) -> datetime:
    """An ISO 8601 timestamp with its offset, as ``encode`` writes ``datetime.isoformat()``."""
    parsed = datetime.fromisoformat(text(value))
    if parsed.tzinfo is None:
        raise ValueError("a timestamp without its offset")
    return _in_range(parsed)


def _in_range(value: datetime) -> datetime:
    # A naive value is taken as UTC, as Brain writes every timestamp (SQLite drops the zone).
    utc = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if not _EARLIEST <= utc <= _LATEST:
        raise ValueError("timestamp out of range")
    return value
