"""Arguments of the gate's activities: one model per activity."""

from typing import Any

from pydantic import BaseModel

from models.ai import AIResult
from models.hitl import Decision, PendingApproval, Policy
from models.processes import Process, RunState
from models.timestamps import Timestamp


class RunRef(BaseModel):
    workflow_id: str
    run_id: str
    tenant: str
    process: Process
    # What the run is about, in a few words (events, Slack messages).
    subject: str | None = None


class OpenGate(BaseModel):
    """Read the effective policy and record the run as parked or proceeding, in one step."""

    run: RunRef
    ai: AIResult
    approval_id: str
    requested_at: Timestamp
    requested_by: str | None = None


class GateOpened(BaseModel):
    """The answer of ``open_gate`` (runs before gate 5: one gate per process)."""

    policy: Policy
    # Set when a person must decide; ``None`` means the run proceeds on its own.
    approval: PendingApproval | None


class OpenGates(BaseModel):
    """Read the policies of the gates from ``first`` on, judge each against the proposal
    as it stands, and record the run as parked at the first that needs a person (or as
    proceeding). ``record``: decisions to audit first, in the same transaction (a person
    decided the gate before ``first``; then this runs as a regular activity)."""

    run: RunRef
    ai: AIResult
    proposal: dict[str, Any] | None
    first: int
    # The run's input, when a gate from ``first`` on has a condition that may read it.
    run_input: dict[str, Any] | None = None
    requested_at: Timestamp
    requested_by: str | None = None
    record: list[Decision] = []


class GateVerdict(BaseModel):
    gate: str
    approval_id: str
    policy: Policy
    # False: the gate's condition does not hold for this proposal; nobody is asked.
    applies: bool
    # Set when a person must decide; ``None`` means the gate passes on its own.
    approval: PendingApproval | None = None


class GatesOpened(BaseModel):
    # From the first gate opened to the first that parks (or the last), in order.
    verdicts: list[GateVerdict]


class ProposeAtGates(BaseModel):
    """The AI step, then the policies of the process's gates read and judged against its
    proposal (the gates' policy read, at the gate: the next thing the run does)."""

    run: RunRef
    run_input: dict[str, Any]
    requested_by: str | None = None


class Proposed(BaseModel):
    ai: AIResult
    # The gates' verdicts from the first on (``activities.gates.judge``); empty when the AI
    # step failed for good or the policies could not be read: the run's own gate step
    # reads them then (``open_gates``).
    verdicts: list[GateVerdict] = []


class ParkAt(BaseModel):
    """Record the run as parked at a gate the AI step's verdicts stopped at: its row (the
    inbox) and the ``approval.requested`` event, in one transaction."""

    run: RunRef
    ai: AIResult
    proposal: dict[str, Any] | None
    verdict: GateVerdict


class VerifySignal(BaseModel):
    """Whether Brain signed ``fields`` for this run (``temporal.door``): a local step, so the
    verdict is recorded and a replay never depends on the key."""

    workflow_id: str
    fields: dict[str, Any]
    signature: str | None


class RefreshPolicy(BaseModel):
    run: RunRef
    min_version: int
    approval: PendingApproval | None
    # The gate the run is parked at (None: the first; runs before gates had names).
    gate: str | None = None


class RecordDecision(BaseModel):
    run: RunRef
    decision: Decision
    # The state the run moves to: ``running`` (approved, apply follows) or ``rejected``.
    state: RunState
    # Decisions of earlier gates no step has audited yet (they passed on their own).
    earlier: list[Decision] = []


class RecordVote(BaseModel):
    """A vote toward a quorum: the parked run's row shows the votes so far."""

    run: RunRef
    approval: PendingApproval
    # Votes only grow or restart with edits; the row keeps the highest sequence it saw.
    sequence: int


class ApplyRequest(BaseModel):
    """Write the business row for an approved proposal, with its audit row if missing."""

    run: RunRef
    decision: Decision
    run_input: dict[str, Any]
    # When the run parked, if it did: the decision's wait, for the metrics.
    requested_at: Timestamp | None = None
    # Decisions of earlier gates no step has audited yet (they passed on their own).
    earlier: list[Decision] = []
    # The AI step's result and the last gate, when no earlier step wrote them to the run's
    # row (a run that passed every gate on its own: the apply step is its only write).
    ai: AIResult | None = None
    gate: str | None = None


class RecordOutcome(BaseModel):
    """The run ended without applying: canceled, or failed for good."""

    run: RunRef
    state: RunState
    error: str | None = None
    # The decision taken, if any: audited here when the apply step that would have written
    # it never did (the auto path, a policy release).
    decision: Decision | None = None
    approval_id: str | None = None
    # Decisions of earlier gates no step has audited yet.
    earlier: list[Decision] = []


class GateEvent(BaseModel):
    """A webhook event the gate raises from a timer (reminder, escalation)."""

    run: RunRef
    type: str
    approval: PendingApproval
    sequence: int = 0
