"""Identifiers shared by routes. Control characters are refused up front: PostgreSQL cannot
store a NUL byte, so without this a crafted id reached the database as a 500."""

from typing import Annotated

from fastapi import Path, Query

_PRINTABLE = r"^[^\x00-\x1f\x7f]+$"

WorkflowId = Annotated[str, Path(min_length=1, max_length=300, pattern=_PRINTABLE)]
WorkflowIdFilter = Annotated[str | None, Query(min_length=1, max_length=300, pattern=_PRINTABLE)]
