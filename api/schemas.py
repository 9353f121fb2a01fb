"""Request and response bodies of the REST API (SPEC §4). The gate's own models (Policy,
PendingApproval, Decision) are reused as they are, so the API cannot drift from them."""

from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from api.auth import TENANT_PATTERN
from models.ai import ModelCall
from models.hitl import Decision, PendingApproval, PolicyFields, checked_edits, checked_text
from models.processes import AuditDecision, Channel, Process, RunState
from models.timestamps import Timestamp
from processes import registry


def _process(value: Any) -> Process:
    try:
        return registry.parse(str(value))
    except registry.UnknownProcess:
        raise ValueError(f"unknown process; known: {', '.join(registry.names())}") from None


# A process named by its API name or a seed alias (SPEC §1), parsed to its ``Process``; the
# installed ones (plugins too) are listed in the OpenAPI document.
ProcessName = Annotated[
    Process,
    BeforeValidator(_process),
    WithJsonSchema({"type": "string", "enum": list(registry.names())}),
]
_TENANT_OR_GLOBAL = r"^(\*|" + TENANT_PATTERN.pattern[1:-1] + r")$"
T = TypeVar("T")


def _tenant_field() -> Any:
    return Field(
        None,
        pattern=_TENANT_OR_GLOBAL,
        description="The tenant whose policy changes; omitted: the global row `*`",
    )


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_page_token: str | None = None


class StartResponse(BaseModel):
    workflow_id: str
    run_id: str
    process: Process
    state: RunState


class WorkflowView(BaseModel):
    workflow_id: str
    run_id: str | None
    process: Process
    tenant: str
    state: RunState
    proposal: dict[str, Any] | None = None
    confidence: float | None = None
    # The pending approval; null once decided or before the gate.
    approval: PendingApproval | None = None
    decision: Decision | None = None
    result: dict[str, Any] | None = None
    error: str | None = None
    requested_by: str | None = None
    created_at: Timestamp
    updated_at: Timestamp
    cancel_requested_by: str | None = None
    cancel_requested_at: Timestamp | None = None


class ApprovalView(PendingApproval):
    workflow_id: str
    tenant: str
    requested_by: str | None = None
    # What the run is about, in a few words (the process's subject line).
    subject: str | None = None


class ApproveBody(_Body):
    approval_id: str | None = Field(None, min_length=1, max_length=300)
    comment: str | None = Field(None, max_length=5000)
    edits: dict[str, Any] | None = Field(
        None, description="Only the proposal's fields to change (at most 20, under 64 KB)"
    )

    _text = field_validator("approval_id", "comment")(checked_text)
    _edits = field_validator("edits")(checked_edits)


class VoteRecorded(BaseModel):
    """An approval counted toward a quorum that needs more (SPEC §3)."""

    approval_id: str
    votes: int
    needed: int
    voters: list[str]


class RejectBody(_Body):
    approval_id: str | None = Field(None, min_length=1, max_length=300)
    comment: str | None = Field(None, max_length=5000)

    _text = field_validator("approval_id", "comment")(checked_text)


class CancelResponse(BaseModel):
    workflow_id: str
    # The state when the cancel was requested; the run records ``canceled`` once it stops.
    state: RunState
    cancel_requested_by: str
    cancel_requested_at: Timestamp


class ToggleBody(_Body):
    enabled: bool = Field(strict=True)
    tenant: str | None = _tenant_field()


class ThresholdBody(_Body):
    threshold: float = Field(ge=0, le=1, allow_inf_nan=False)
    tenant: str | None = _tenant_field()


# A reminder or escalation period or an amount set to null is turned off (the store's
# "off": 0 for a period, -1 for an amount); any other field may not be null.
_NULL_IS_OFF = {"remind_every_seconds": 0, "escalate_after_seconds": 0, "amount_over": -1.0}
_NOT_NULL = tuple(f for f in PolicyFields.model_fields if f not in _NULL_IS_OFF)


class PolicyBody(PolicyFields):
    """Any policy fields (SPEC §2, §8) and the tenant; only the fields given change. `null`
    turns a reminder, escalation or amount off; no other field may be null. Lists
    (`approver_groups`, `approver_subjects`, `doors`) replace the stored list."""

    tenant: str | None = _tenant_field()

    @field_validator(*_NOT_NULL, mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("may not be null; leave the field out to keep its value")
        return value

    @field_validator("confidence_threshold", mode="before")
    @classmethod
    def _a_number(cls, value: Any) -> Any:
        # A JSON number: lax mode would also take "0.5" and true.
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise ValueError("must be a number")
        return value

    @field_validator("amount_over")
    @classmethod
    def _not_negative(cls, value: float | None) -> float | None:
        if value is not None and value < 0:
            raise ValueError("must be 0 or more; null turns it off")
        return value

    @field_validator("remind_every_seconds", "escalate_after_seconds")
    @classmethod
    def _at_least_a_second(cls, value: int | None) -> int | None:
        # The store keeps "off" as 0; over the API "off" is null, so 0 is a mistake.
        if value == 0:
            raise ValueError("must be at least 1 second; null turns it off")
        return value

    @model_validator(mode="after")
    def _something(self) -> "PolicyBody":
        if not self.model_fields_set - {"tenant"}:
            raise ValueError("nothing to change: give at least one policy field")
        return self

    def patch(self) -> PolicyFields:
        """The fields given, as the store takes them (a null period or amount: off)."""
        given = self.model_fields_set - {"tenant"}
        values = {f: getattr(self, f) for f in given}
        values.update(
            {f: off for f, off in _NULL_IS_OFF.items() if f in given and values[f] is None}
        )
        return PolicyFields.model_validate(values)


class AuditEntry(BaseModel):
    id: int
    workflow_id: str
    run_id: str
    tenant: str
    process: Process
    approval_id: str
    # A cancel before any decision is audited too (``cancel``).
    decision: AuditDecision
    actor: str
    channel: Channel
    confidence: float
    threshold: float
    hitl_enabled: bool
    policy_version: int
    comment: str | None = None
    original_proposal: dict[str, Any] | None = None
    edits: dict[str, Any] | None = None
    final_proposal: dict[str, Any] | None = None
    model: str | None = None
    # Per-step accounting: model, prompt version, tokens in and out, latency, attempts.
    model_call: ModelCall | None = None
    # Everyone whose approval counted toward a quorum (SPEC §3); empty for a reject.
    approvers: list[str] = Field(default_factory=list)
    # The gate decided (SPEC §8); null for runs from before gates had names.
    gate: str | None = None
    # Beyond the channel: where the decision came from (the Slack user and team).
    origin: dict[str, str] | None = None
    decided_at: Timestamp
    recorded_at: Timestamp


Up = Literal["up", "down"]


class Health(BaseModel):
    status: Literal["ok", "degraded", "down"]
    temporal: Up
    database: Up
    redis: Literal["up", "down", "disabled"]


class Poller(BaseModel):
    identity: str
    last_access_time: Timestamp | None = None
    rate_per_second: float | None = None


class TaskQueueStatus(BaseModel):
    name: str
    workflow_pollers: list[Poller]
    activity_pollers: list[Poller]


class ModelInUse(BaseModel):
    provider: str
    model: str
    per_process: dict[str, str] = Field(default_factory=dict)


class AgentsStatus(BaseModel):
    task_queues: list[TaskQueueStatus]
    ai: ModelInUse
