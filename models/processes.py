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
    API = "api"
    SIGNAL = "signal"
    POLICY = "policy"
    TIMEOUT = "timeout"
    AUTO = "auto"


class Action(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


class AuditDecision(StrEnum):
    """What an audit entry records: a decision, or the cancel of a run before one."""

    APPROVE = "approve"
    REJECT = "reject"
    CANCEL = "cancel"
