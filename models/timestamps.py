"""One shape for every timestamp Brain shows (SPEC §8): RFC 3339, UTC, with ``Z``.

``Timestamp`` is a ``datetime`` that serializes as ``2026-12-06T20:57:11.123456Z`` whatever
it was built from: an aware datetime in another zone is converted, a naive one (SQLite hands
those back) is taken as UTC, since every timestamp Brain writes is UTC. Parsing accepts any
RFC 3339 form, so payloads recorded in older histories still decode.
"""

from datetime import UTC, datetime
from typing import Annotated

from pydantic import PlainSerializer


def as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def rfc3339(value: datetime) -> str:
    return as_utc(value).isoformat().replace("+00:00", "Z")


Timestamp = Annotated[datetime, PlainSerializer(rfc3339, return_type=str, when_used="json")]
