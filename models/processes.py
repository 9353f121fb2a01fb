"""Process names (derived from ``processes.DEFINITIONS``), run states, doors and actions."""

from enum import StrEnum
from typing import TYPE_CHECKING

from processes import DEFINITIONS
from processes.kit.definition import ProcessDefinition

_BY_NAME = {d.name: d for d in DEFINITIONS}
_ALIASES = {alias: d.name for d in DEFINITIONS for alias in d.aliases}


class _ProcessName(StrEnum):
    """Methods of ``Process``; its members come from the process definitions."""

    @property
    def definition(self) -> ProcessDefinition:
        return _BY_NAME[self.value]

    @property
    def workflow_type(self) -> str:
        return self.definition.workflow_type

    @classmethod
    def parse(cls, name: str) -> "Process":
        """Accept an API name or a seed alias; raise ``ValueError`` otherwise."""
        return Process(_ALIASES.get(name, name))


if TYPE_CHECKING:
    # Members are not known to a type checker; code outside a process's own module never
    # names one (it holds a ``Process`` value or a definition instead).
    Process = _ProcessName
else:
    Process = _ProcessName("Process", [(d.name.upper(), d.name) for d in DEFINITIONS])

# Every name a caller may use for a process: API names and seed aliases.
PROCESS_NAMES: tuple[str, ...] = tuple(n for d in DEFINITIONS for n in d.names)


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
