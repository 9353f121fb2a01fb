"""What a running ``brain up`` tells the other ``brain`` commands: ``BRAIN_HOME/stack.json``.

``brain up`` writes the file once its parts answer: the Temporal address and namespace, the
API and Web UI URLs, the database and Redis URLs, the task queue, the local tenant and a
super-admin token for it (so mode 600), and whether webhooks may target private addresses.
It removes the file when it stops; one left by a ``brain up`` that was killed names a
process that is gone, and is ignored as stale.

Every other command reads its settings through ``settings()``: a value from the file applies
where no ``BRAIN_*`` variable (or ``.env``) sets that field, so the precedence is an explicit
flag, then ``BRAIN_*``, then this file, then the defaults. A ``brain up`` on other ports is
then found without any variable, and never mistaken for another stack on the default ones.
"""

import contextlib
import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from core.settings import Settings, get_settings
from models.timestamps import Timestamp

STACK_FILE = "stack.json"
# The fields of ``Settings`` the file supplies.
_SETTINGS = (
    "temporal_address",
    "temporal_namespace",
    "task_queue",
    "database_url",
    "redis_url",
    "web_ui_url",
    "webhook_allow_private",
)


class Stack(BaseModel):
    """A running ``brain up``, as it describes itself."""

    pid: int
    started_at: Timestamp
    temporal_address: str
    temporal_namespace: str
    task_queue: str
    database_url: str
    # Where the policy cache lives: a policy changed from the CLI must invalidate it.
    redis_url: str = ""
    web_ui_url: str
    # Without the API (``--no-api``): no URL and no token.
    api_url: str | None = None
    tenant: str
    token: str | None = None
    token_expires_at: Timestamp | None = None
    webhook_allow_private: bool


def stack_file(home: Path) -> Path:
    return home / STACK_FILE


def write(home: Path, stack: Stack) -> Path:
    """Atomically, readable by this user only: it holds a super-admin token."""
    home.mkdir(parents=True, exist_ok=True)
    path = stack_file(home)
    partial = path.with_name(f".{STACK_FILE}.{os.getpid()}")
    with contextlib.suppress(FileNotFoundError):
        partial.unlink()
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(stack.model_dump_json(indent=2))
    os.replace(partial, path)
    return path


def remove(home: Path, pid: int) -> None:
    """Remove the file if it is still this process's (another ``brain up`` may own it now)."""
    found = _load(stack_file(home))
    if found is not None and found.pid == pid:
        with contextlib.suppress(FileNotFoundError):
            stack_file(home).unlink()


def read(home: Path) -> Stack | None:
    """The running ``brain up`` on ``home``; None without one, or when the file is stale."""
    found = _load(stack_file(home))
    if found is None or not _alive(found.pid):
        return None
    return found


def _load(path: Path) -> Stack | None:
    try:
        return Stack.model_validate(json.loads(path.read_text()))
    except (OSError, ValueError, ValidationError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


@lru_cache
def stack() -> Stack | None:
    """The ``brain up`` running on this command's ``BRAIN_HOME``, if any."""
    return read(get_settings().home)


@lru_cache
def settings() -> Settings:
    """The settings of a ``brain`` command: ``get_settings()``, with the running ``brain
    up``'s addresses wherever no ``BRAIN_*`` variable names them."""
    base = get_settings()
    found = stack()
    if found is None:
        return base
    given = base.model_fields_set
    update: dict[str, Any] = {name: getattr(found, name) for name in _SETTINGS if name not in given}
    if "temporal_address" in update:
        # The dev server speaks plain gRPC: TLS settings meant for another cluster would
        # only make the local address unreachable.
        update |= {"temporal_tls": False, "temporal_api_key": None}
    return base.model_copy(update=update)
