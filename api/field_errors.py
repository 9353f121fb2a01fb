"""Field errors as the API's 422s and the CLI's refusals show them: ``{"loc", "msg",
"type"}`` each, and a line of text saying the same (``detail``). No FastAPI here: the CLI
imports it."""

from collections.abc import Sequence
from typing import Any

# A 422 names what to fix without echoing the request back: 10,000 invalid keys must not
# make a response of 10,000 entries, nor a 100 kB key a 100 kB ``loc``.
MAX_FIELD_ERRORS = 20
_MAX_MSG = 200
_MAX_LOC_PART = 64
_SUMMARY_FIELDS = 3


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def field_errors(errors: Sequence[Any], prefix: tuple[str | int, ...] = ()) -> list[dict[str, Any]]:
    """pydantic errors reduced to JSON-safe ``{"loc", "msg", "type"}`` (``ctx`` may hold
    exception objects, ``input`` may echo secrets): the first ``MAX_FIELD_ERRORS``, then one
    entry of type ``too_many_errors`` counting the rest. ``loc`` may hold the caller's own
    keys, so its strings are clipped like ``msg``."""
    shown = [
        {
            "loc": [
                *prefix,
                *(_clip(p, _MAX_LOC_PART) if isinstance(p, str) else p for p in e.get("loc", ())),
            ],
            "msg": _clip(str(e.get("msg", "")), _MAX_MSG),
            "type": _clip(str(e.get("type", "")), _MAX_LOC_PART),
        }
        for e in errors[:MAX_FIELD_ERRORS]
    ]
    if len(errors) > MAX_FIELD_ERRORS:
        rest = len(errors) - MAX_FIELD_ERRORS
        shown.append({"loc": [*prefix], "msg": f"{rest} more not shown", "type": "too_many_errors"})
    return shown


def summary(fields: Sequence[dict[str, Any]]) -> str:
    """The field errors in one line of text: ``body.score: Input should be ...``, the first
    few of them, then how many more."""
    shown = [
        f"{'.'.join(str(p) for p in f.get('loc', ())) or 'request'}: {f.get('msg', '')}"
        for f in fields[:_SUMMARY_FIELDS]
    ]
    rest = len(fields) - _SUMMARY_FIELDS
    if rest > 0:
        shown.append(f"{rest} more")
    return "; ".join(shown) or "validation failed"
