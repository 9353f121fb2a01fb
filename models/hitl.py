"""The gate's vocabulary: policy, pending approval, decision payloads and the decision."""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from models.ai import AIResult, ModelCall
from models.processes import Action, Channel, Process, RunState

GLOBAL_TENANT = "*"


class Policy(BaseModel):
    """The effective policy for (process, tenant): the tenant row over the global row."""

    process: Process
    tenant: str = GLOBAL_TENANT
    hitl_enabled: bool
    confidence_threshold: float = Field(ge=0, le=1)
    approval_timeout_seconds: int = Field(86400, ge=1)
    on_timeout: Literal["reject", "approve"] = "reject"
    # Monotonic per process; a parked run never acts on a version older than one it saw.
    version: int = 0


class PendingApproval(BaseModel):
    approval_id: str
    process: Process
    proposal: dict[str, Any] | None
    confidence: float
    threshold: float
    hitl_enabled: bool
    rationale: str
    requested_at: datetime
    expires_at: datetime
    needs_review: bool = False
    error: str | None = None
    policy_version: int = 0


class DecisionPayload(BaseModel):
    """The payload of the ``approve`` and ``reject`` signals (Web UI, CLI); all optional.

    ``extra="forbid"`` so that a typo such as ``"edit"`` is refused and logged rather than
    approving without the edits the person meant.
    """

    model_config = ConfigDict(extra="forbid")

    by: str | None = Field(None, max_length=200)
    comment: str | None = Field(None, max_length=5000)
    approval_id: str | None = None
    edits: dict[str, Any] | None = None


class DecideRequest(BaseModel):
    """The ``decide`` Update's argument (REST door); the actor comes from the token."""

    model_config = ConfigDict(extra="forbid")

    action: Action
    by: str = Field(min_length=1, max_length=200)
    approval_id: str | None = None
    comment: str | None = Field(None, max_length=5000)
    edits: dict[str, Any] | None = None
    channel: Channel = Channel.API


class Decision(BaseModel):
    approval_id: str
    action: Action
    actor: str
    channel: Channel
    comment: str | None = None
    edits: dict[str, Any] | None = None
    original_proposal: dict[str, Any] | None = None
    final_proposal: dict[str, Any] | None = None
    confidence: float
    threshold: float
    hitl_enabled: bool
    policy_version: int
    decided_at: datetime
    # Which model proposed, and what the call cost: audited with the decision.
    model: str | None = None
    model_call: ModelCall | None = None


class PolicyChange(BaseModel):
    """Signalled to parked runs after a policy write.

    ``policy``: the effective policy of the signalled run's tenant at ``version`` or later,
    filled in per tenant by the broadcast. A run released by it needs no policy read of its
    own; without it (or when the run stays parked) the run re-reads its policy.
    """

    process: Process
    tenant: str = GLOBAL_TENANT
    version: int
    changed_by: str
    policy: Policy | None = None


class RunStatus(BaseModel):
    """The ``status`` query: everything an operator needs to see about a run."""

    workflow_id: str
    process: Process
    tenant: str
    state: RunState
    ai: AIResult | None = None
    policy: Policy | None = None
    approval: PendingApproval | None = None
    decision: Decision | None = None
    result: dict[str, Any] | None = None
    ignored_signals: list[str] = Field(default_factory=list)
