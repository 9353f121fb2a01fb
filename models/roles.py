"""The roles a token carries: the one definition the API, the CLI and the settings use."""

from enum import IntEnum
from typing import Annotated, Any

from pydantic import BeforeValidator


class Role(IntEnum):
    """Each role includes the ones before it (compared as numbers); named by its name in
    tokens, settings and the CLI."""

    viewer = 1
    operator = 2
    approver = 3
    admin = 4
    super_admin = 5


def _by_name(value: Any) -> Any:
    # Settings and claims name a role; the number is the order, never its spelling.
    if isinstance(value, str) and not isinstance(value, Role):
        if value not in Role.__members__:
            raise ValueError(f"not a role: {value!r} (one of {', '.join(Role.__members__)})")
        return Role[value]
    return value


RoleByName = Annotated[Role, BeforeValidator(_by_name)]
