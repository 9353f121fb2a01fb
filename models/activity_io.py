"""Arguments of the gate's activities: one model per activity."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from models.ai import AIResult
from models.hitl import Decision, PendingApproval, Policy
from models.processes import Process, RunState


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
    requested_at: datetime
    requested_by: str | None = None


class GateOpened(BaseModel):
    policy: Policy
    # Set when a person must decide; ``None`` means the run proceeds on its own.
    approval: PendingApproval | None


class RefreshPolicy(BaseModel):
    run: RunRef
    min_version: int
    approval: PendingApproval | None


class RecordDecision(BaseModel):
    run: RunRef
    decision: Decision
    # The state the run moves to: ``running`` (approved, apply follows) or ``rejected``.
    state: RunState


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
    requested_at: datetime | None = None


class RecordOutcome(BaseModel):
    """The run ended without applying: canceled, or failed for good."""

    run: RunRef
    state: RunState
    error: str | None = None
    # The decision taken, if any: audited here when the apply step that would have written
    # it never did (the auto path, a policy release).
    decision: Decision | None = None
    approval_id: str | None = None


class GateEvent(BaseModel):
    """A webhook event the gate raises from a timer (reminder, escalation)."""

    run: RunRef
    type: str
    approval: PendingApproval
    sequence: int = 0
