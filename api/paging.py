"""Keyset paging with opaque tokens: a token is the sort key of the last item served, so a
page never skips or repeats rows when new ones arrive (newest-first lists grow at the top)."""

import base64
import binascii
import json
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Query

from api.errors import ValidationFailed

PageSize = Annotated[int, Query(ge=1, le=200, description="Items per page (1..200)")]
PageToken = Annotated[
    str | None,
    Query(max_length=1000, description="`next_page_token` of the previous page"),
]


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
        return [parse(part) for parse, part in zip(parsers, key, strict=True)]
    except (binascii.Error, ValueError, TypeError):
        raise ValidationFailed(
            [{"loc": ["query", "page_token"], "msg": "invalid page token", "type": "value_error"}]
        ) from None


def integer(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 2**63:
        raise TypeError("not a row id")
    return value


def text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("not a string")
    return value
