"""Identifiers shared by routes. Control characters are refused up front: PostgreSQL cannot
store a NUL byte, so without this a crafted id reached the database as a 500."""

import re
from typing import Annotated

from fastapi import Path, Query

_PRINTABLE = r"^[^\x00-\x1f\x7f]+$"
# C0 and C1 controls, DEL, and lone surrogates (JSON can spell "\ud800"; no database can
# encode it): for strings that arrive inside a token rather than as a parameter.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")

WorkflowId = Annotated[str, Path(min_length=1, max_length=300, pattern=_PRINTABLE)]
WorkflowIdFilter = Annotated[str | None, Query(min_length=1, max_length=300, pattern=_PRINTABLE)]


def has_control_chars(value: str) -> bool:
    return _UNSAFE.search(value) is not None
