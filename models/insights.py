"""What the audit log says about a process (SPEC §7): how its runs were decided, how fast
people decide, and the threshold the decisions so far would support."""

from pydantic import BaseModel, Field

from models.processes import Process
from models.timestamps import Timestamp

# SPEC §7: the sample, the share approved as proposed, and the support a suggestion needs.
SAMPLE_SIZE = 500
APPROVED_SHARE = 0.95
MIN_SUPPORT = 20


class ProcessInsights(BaseModel):
    """One gate of one process (a process with one gate has one item)."""

    process: Process
    gate: str = Field(description="The gate these decisions were taken at")
    runs: int = Field(description="Decisions at this gate (approved or rejected, any channel)")
    auto_rate: float | None = Field(description="Share of runs that needed no person")
    human_decisions: int = Field(
        description="Decisions by a person (channels api, slack, cli and signal)"
    )
    released_by_policy: int = Field(description="Parked runs released by a policy change")
    # Over the runs that waited for a person and got an answer from one or from the clock
    # (human decisions plus timeouts): these four add up to 1.
    approved_as_proposed_rate: float | None
    edited_rate: float | None
    rejected_rate: float | None
    timed_out_rate: float | None
    median_seconds_to_decision: float | None = Field(
        description="Human decisions: decided_at minus the run's requested_at"
    )
    p90_seconds_to_decision: float | None
    current_threshold: float
    suggested_threshold: float | None
    suggestion_reason: str | None = Field(description="Why there is no suggestion, when null")
    sample_size: int = Field(description="Human decisions the suggestion looked at (<= 500)")
    suggested_auto_share: float | None = Field(
        description="Share of the runs that the suggested threshold would have let through "
        "on their own (confidence at or above it)"
    )


class DecisionInsights(BaseModel):
    tenant: str = Field(description="The tenant looked at; `*` for every tenant")
    since: Timestamp | None
    items: list[ProcessInsights]
