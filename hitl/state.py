"""Everything the gate knows about one run, in one place."""

from dataclasses import dataclass, field
from typing import Any

from models.activity_io import RunRef
from models.ai import AIResult
from models.hitl import Decision, PendingApproval, Policy
from models.processes import Action, RunState
from processes.kit.models import ProcessInput

# The last ignored signals shown to an operator (status query, Web UI).
MAX_IGNORED = 20


@dataclass
class GateState:
    # The gate's shape this run was started for, and whether it is gate-v3 or later: runs
    # started before take their recorded path (PATCHES.md).
    version: int = 0
    current: bool = True
    run: RunRef | None = None
    requested_by: str = ""
    input: ProcessInput | None = None
    ai: AIResult | None = None
    policy: Policy | None = None
    # The pending approval; its proposal and votes change as people vote and edit.
    approval: PendingApproval | None = None
    approval_id: str = ""
    decision: Decision | None = None
    # Every edit applied so far, merged (an edit restarts a quorum; the audit keeps all).
    edits: dict[str, Any] = field(default_factory=dict)
    result: dict[str, Any] | None = None
    state: RunState = RunState.RUNNING
    ignored: list[str] = field(default_factory=list)
    # Decision signals that arrived before the approval opened in history.
    early_signals: list[tuple[Action, Any]] = field(default_factory=list)
    # Votes taken but not yet shown on the run's row: (sequence, approval after the vote).
    unrecorded_votes: list[tuple[int, PendingApproval]] = field(default_factory=list)
    vote_sequence: int = 0
    # Reminders sent and whether the escalation went out (webhook events).
    reminders_sent: int = 0
    escalated: bool = False
    # Set when a policy change moved the deadline or the timers, so the wait recomputes.
    wake: bool = False

    def ignore(self, reason: str) -> None:
        self.ignored = [*self.ignored, reason[:500]][-MAX_IGNORED:]
