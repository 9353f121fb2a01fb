"""Process names, run states, doors and actions: the words every layer shares.

``models`` imports nothing of Brain's but ``models``: the set of processes is not known here.
It is a registry (``processes/registry.py``), filled from the entry-point group
``brain.processes`` (Brain's own in ``pyproject.toml``, a company's in its own package).
"""

import re
from enum import StrEnum
from functools import cache
from importlib.metadata import entry_points
from typing import Any

from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema

# A process name: in URLs, workflow ids, entry-point names and 64-character columns.
PROCESS_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
# Where processes are declared, name = "module:DEFINITION" (loaded by processes/registry.py).
ENTRY_POINT_GROUP = "brain.processes"


@cache
def registered_names() -> frozenset[str]:
    """The API names of the installed processes, read from the packages' metadata alone,
    importing no process: for code under ``processes`` in the layers (logging, metrics)
    that needs the names and nothing else. The definitions: ``processes.registry``."""
    return frozenset(entry_points(group=ENTRY_POINT_GROUP).names)


class Process(str):
    """A process's API name, e.g. ``"lead_scoring"``: a ``str`` of a checked form.

    Not an enum: the names are whatever the registry holds, and a plugin adds its own
    without touching Brain. ``processes.registry.parse`` turns user input (an API name or
    a seed alias) into one, refusing names nobody registered;
    ``processes.registry.definition`` gives its ``ProcessDefinition``. Constructing one
    checks the form only, so a stored name of a process since uninstalled still reads.
    """

    __slots__ = ()

    def __new__(cls, name: str) -> "Process":
        if not isinstance(name, str) or not PROCESS_NAME.fullmatch(name):
            raise ValueError(f"{name!r} is not a process name ({PROCESS_NAME.pattern})")
        return super().__new__(cls, name)

    def __repr__(self) -> str:
        return f"Process({str(self)!r})"

    @property
    def value(self) -> str:
        """The name as a plain ``str`` (as ``.value`` of the enum this type replaced)."""
        return str.__str__(self)

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        # Validated as a string of the form, kept a ``Process``; serialized as the string.
        return core_schema.no_info_after_validator_function(
            cls,
            core_schema.str_schema(pattern=PROCESS_NAME.pattern),
            serialization=core_schema.to_string_ser_schema(),
        )


class RunState(StrEnum):
    RUNNING = "running"
    AWAITING_APPROVAL = "awaiting_approval"
    COMPLETED = "completed"
    REJECTED = "rejected"
    FAILED = "failed"
    CANCELED = "canceled"
    TERMINATED = "terminated"
    TIMED_OUT = "timed_out"

    @property
    def is_open(self) -> bool:
        return self in (RunState.RUNNING, RunState.AWAITING_APPROVAL)


class Channel(StrEnum):
    """Where a decision came from (the audit log's ``channel``)."""

    API = "api"
    SLACK = "slack"
    # The ``brain`` CLI deciding as a Temporal-side operator (the decide Update).
    CLI = "cli"
    # The approve and reject Signals: the Temporal Web UI, ``temporal workflow signal``.
    SIGNAL = "signal"
    POLICY = "policy"
    TIMEOUT = "timeout"
    AUTO = "auto"

    @property
    def door(self) -> "Door | None":
        """The door a person decided through; ``None`` for the gate's own channels."""
        return Door(self.value) if self.value in Door.__members__.values() else None


class Door(StrEnum):
    """The doors a person can decide through (policy field ``doors``, SPEC §8). ``api`` and
    ``slack`` prove who decided (a verified token, Slack's signature); ``cli`` and
    ``signal`` are Temporal-side callers, trusted operators whose ``by`` is what they type."""

    API = "api"
    SLACK = "slack"
    CLI = "cli"
    SIGNAL = "signal"

    @property
    def verified(self) -> bool:
        return self in (Door.API, Door.SLACK)


class Action(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


class AuditDecision(StrEnum):
    """What an audit entry records: a decision, or the cancel of a run before one."""

    APPROVE = "approve"
    REJECT = "reject"
    CANCEL = "cancel"
