"""Arguments of the gate's persistence activities: one model per activity."""

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


class OpenGate(BaseModel):
    """Read the effective policy and record the run as parked or proceeding, in one step."""

    run: RunRef
    ai: AIResult
    approval_id: str
    requested_at: datetime


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
