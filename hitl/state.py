"""Everything the gate knows about one run, in one place."""

from dataclasses import dataclass, field
from typing import Any

from models.activity_io import GateVerdict, RunRef
from models.ai import AIResult
from models.hitl import Decision, PendingApproval, Policy
from models.processes import Action, RunState
from processes.kit.models import ProcessInput

# The last ignored signals shown to an operator (status query, Web UI).
MAX_IGNORED = 20


@dataclass
class GateState:
    # The gate's shape this run was started for (hitl/versions.py); ``current``: gate-v3 or
    # later, whose records are written by regular activities (hitl/PATCHES.md).
    version: int = 0
    current: bool = True
    run: RunRef | None = None
    requested_by: str = ""
    # How this run compares subjects (core/identity.py): fixed by its start.
    case_sensitive: bool = False
    # The Temporal address the run was started through, for terminal hints.
    temporal_address: str = ""
    input: ProcessInput | None = None
    ai: AIResult | None = None
    # The proposal as it stands: the AI's, then as each gate approved it (with its edits).
    proposal: dict[str, Any] | None = None
    # The gate the run is at: its place in the process's order and its name (None in runs
    # recorded before gates had names), and its policy.
    gate_index: int = 0
    gate: str | None = None
    policy: Policy | None = None
    # Verdicts of the gates ahead, read with the current gate's policy (one read for gates
    # that pass on their own); dropped once a person decides, since time has passed.
    ahead: list[GateVerdict] = field(default_factory=list)
    # Whether a step wrote the run's row with the verdicts in ``ahead`` (the gate step
    # does; the AI step, which judged them, does not).
    ahead_recorded: bool = True
    # Whether ``ahead`` came from a local step (the gate's first opening) rather than a
    # regular activity's result.
    ahead_local: bool = False
    # Whether the last decision rests on a local step's read in the task that took it (the
    # gate's or a policy change's policy read): a retry of that task reads again.
    read_in_this_task: bool = False
    # The pending approval; its proposal and votes change as people vote and edit.
    approval: PendingApproval | None = None
    approval_id: str = ""
    # The current gate's decision; ``None`` while it waits.
    decision: Decision | None = None
    # Every gate's decision so far, and those no step has audited yet (the next step that
    # writes the run's records audits them, in the same transaction).
    decisions: list[Decision] = field(default_factory=list)
    unaudited: list[Decision] = field(default_factory=list)
    # Every edit applied at the current gate, merged (an edit restarts a quorum).
    edits: dict[str, Any] = field(default_factory=dict)
    result: dict[str, Any] | None = None
    state: RunState = RunState.RUNNING
    ignored: list[str] = field(default_factory=list)
    # Decision signals that arrived before the approval opened in history.
    early_signals: list[tuple[Action, Any]] = field(default_factory=list)
    # Votes taken but not yet shown on the run's row: (sequence, approval after the vote).
    unrecorded_votes: list[tuple[int, PendingApproval]] = field(default_factory=list)
    vote_sequence: int = 0
    # Reminders sent and whether the escalation went out at the current gate (webhooks).
    reminders_sent: int = 0
    escalated: bool = False
    # Set when a policy change moved the deadline or the timers, so the wait recomputes.
    wake: bool = False
    # A gate was approved and the next one is being opened: decisions wait for it.
    between_gates: bool = False
    # Whether gates follow the current one (an approval there moves the run between gates).
    more_gates: bool = False
    # Policy signals that reached a run from before gate 5 (hitl/versions.py).
    policy_signals: int = 0

    def ignore(self, reason: str) -> None:
        self.ignored = [*self.ignored, reason[:500]][-MAX_IGNORED:]

    def enter(self, index: int, verdict: GateVerdict, *, more: bool = False) -> None:
        """Move to gate ``index``: its policy and, when a person must look, its approval."""
        self.gate_index, self.gate = index, verdict.gate
        self.policy, self.approval = verdict.policy, verdict.approval
        self.approval_id = verdict.approval_id
        self.decision, self.edits, self.between_gates = None, {}, False
        self.more_gates = more
        self.reminders_sent, self.escalated, self.wake = 0, False, False
