"""The gate's vocabulary: policy, pending approval, votes, decision payloads and the decision."""

import json
import math
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from models.ai import AIResult, ModelCall
from models.processes import Action, Channel, Door, Process, RunState
from models.safety import check_value
from models.timestamps import Timestamp

GLOBAL_TENANT = "*"
# Timeouts, reminders and escalations are measured in seconds, up to a year.
_YEAR = 366 * 86400
# Edits patch a handful of fields; the cap keeps a refusal's details inside a payload.
MAX_EDITS_BYTES = 64 * 1024
# Who may decide a gate: names travel in payloads, details and audit rows.
_MAX_NAMES = 100
_MAX_NAME = 200
# The policy field of a gate's condition on an amount (``product_sourcing``'s finance gate).
_MAX_AMOUNT = 1e15


def _checked_names(names: list[str] | None) -> list[str] | None:
    """Group and subject names: printable, trimmed, each once, in the order given."""
    if names is None:
        return None
    out: list[str] = []
    for name in names:
        check_value(name)
        name = name.strip()
        if not 0 < len(name) <= _MAX_NAME:
            raise ValueError(f"names are 1..{_MAX_NAME} characters")
        if name not in out:
            out.append(name)
    return out


Names = list[str]


class Policy(BaseModel):
    """The effective policy for (process, tenant): the tenant row over the global row."""

    process: Process
    tenant: str = GLOBAL_TENANT
    hitl_enabled: bool
    confidence_threshold: float = Field(ge=0, le=1, allow_inf_nan=False)
    approval_timeout_seconds: int = Field(86400, ge=1, le=_YEAR)
    on_timeout: Literal["reject", "approve"] = "reject"
    # Distinct people who must approve (quorum); one reject by anyone rejects.
    min_approvals: int = Field(1, ge=1, le=5)
    # False is four-eyes: whoever started the run may not approve it.
    requester_may_approve: bool = True
    # Webhook reminders while a run waits, and one escalation; None is off.
    remind_every_seconds: int | None = Field(None, ge=1, le=_YEAR)
    escalate_after_seconds: int | None = Field(None, ge=1, le=_YEAR)
    # The gate this policy governs (SPEC §8); None in runs recorded before gates had names.
    gate: str | None = None
    # Who may decide (empty: any approver of the tenant) and through which doors.
    approver_groups: Names = Field(default_factory=list, max_length=_MAX_NAMES)
    approver_subjects: Names = Field(default_factory=list, max_length=_MAX_NAMES)
    doors: list[Door] = Field(default_factory=lambda: list(Door), min_length=1)
    # A gate's condition may compare the proposal with it (the finance gate: total cost
    # above it). None: no amount set, and such a gate does not apply.
    amount_over: float | None = Field(None, ge=0, le=_MAX_AMOUNT, allow_inf_nan=False)
    # Monotonic per process; a parked run never acts on a version older than one it saw.
    version: int = 0

    def needs_human(self, confidence: float | None, needs_review: bool = False) -> bool:
        """SPEC §2: a person decides when HITL is on, when the AI is unsure, or when the step
        needs review. A confidence that is missing, NaN or outside 0..1 cannot be trusted."""
        if needs_review or self.hitl_enabled:
            return True
        if confidence is None or isinstance(confidence, bool):
            return True
        try:
            value = float(confidence)
        except (TypeError, ValueError):
            return True
        if math.isnan(value) or not 0.0 <= value <= 1.0:
            return True
        return value < self.confidence_threshold


class PolicyFields(BaseModel):
    """The fields of a policy a super admin may change, each optional (a change sets only
    what it names). For the reminder and escalation periods 0 stores "off"."""

    model_config = ConfigDict(extra="forbid")

    hitl_enabled: bool | None = Field(None, strict=True)
    confidence_threshold: float | None = Field(None, ge=0, le=1, allow_inf_nan=False)
    approval_timeout_seconds: int | None = Field(None, ge=1, le=_YEAR, strict=True)
    on_timeout: Literal["reject", "approve"] | None = None
    min_approvals: int | None = Field(None, ge=1, le=5, strict=True)
    requester_may_approve: bool | None = Field(None, strict=True)
    remind_every_seconds: int | None = Field(None, ge=0, le=_YEAR, strict=True)
    escalate_after_seconds: int | None = Field(None, ge=0, le=_YEAR, strict=True)
    # Lists replace the stored list; an empty list clears it (any approver may decide).
    approver_groups: Names | None = Field(None, max_length=_MAX_NAMES)
    approver_subjects: Names | None = Field(None, max_length=_MAX_NAMES)
    doors: list[Door] | None = Field(None, min_length=1, max_length=len(Door))
    # -1 stores "off" (``"off"`` in a change), as 0 does for the periods above.
    amount_over: float | None = Field(None, ge=-1, le=_MAX_AMOUNT, allow_inf_nan=False)

    _names = field_validator("approver_groups", "approver_subjects")(_checked_names)

    @field_validator("doors")
    @classmethod
    def _doors_once(cls, doors: list[Door] | None) -> list[Door] | None:
        return None if doors is None else list(dict.fromkeys(doors))

    @field_validator("amount_over")
    @classmethod
    def _amount(cls, value: float | None) -> float | None:
        if value is not None and value < 0 and value != -1:
            raise ValueError("amount_over is a non-negative amount (or off)")
        return value


class Vote(BaseModel):
    """One approval toward a quorum."""

    actor: str
    channel: Channel
    at: Timestamp
    comment: str | None = None
    # Beyond the channel, where the vote came from (the Slack user and team).
    origin: dict[str, str] | None = None


class PendingApproval(BaseModel):
    approval_id: str
    process: Process
    proposal: dict[str, Any] | None
    confidence: float
    threshold: float
    hitl_enabled: bool
    rationale: str
    requested_at: Timestamp
    expires_at: Timestamp
    needs_review: bool = False
    error: str | None = None
    policy_version: int = 0
    # Quorum and four-eyes: who started the run, who approved the current proposal so far.
    requested_by: str | None = None
    min_approvals: int = 1
    requester_may_approve: bool = True
    votes: list[Vote] = Field(default_factory=list)
    # The gate it waits at, and who may decide it through which doors (SPEC §8); runs
    # recorded before gates had names carry none of these.
    gate: str | None = None
    approver_groups: Names = Field(default_factory=list)
    approver_subjects: Names = Field(default_factory=list)
    doors: list[Door] = Field(default_factory=lambda: list(Door))

    def asked_at(self, when: datetime, policy: Policy) -> "PendingApproval":
        """This approval as asked for at ``when``: its deadline counts from then."""
        expires = when + timedelta(seconds=policy.approval_timeout_seconds)
        return self.model_copy(update={"requested_at": when, "expires_at": expires})

    def under(self, policy: Policy) -> "PendingApproval":
        """This approval as ``policy`` has it: threshold, deadline, quorum, four-eyes, who
        may decide and through which doors."""
        return self.model_copy(
            update={
                "threshold": policy.confidence_threshold,
                "hitl_enabled": policy.hitl_enabled,
                "policy_version": policy.version,
                "expires_at": self.requested_at
                + timedelta(seconds=policy.approval_timeout_seconds),
                "min_approvals": policy.min_approvals,
                "requester_may_approve": policy.requester_may_approve,
                "approver_groups": policy.approver_groups,
                "approver_subjects": policy.approver_subjects,
                "doors": policy.doors,
            }
        )


def checked_edits(edits: dict[str, Any] | None) -> dict[str, Any] | None:
    if edits is None:
        return None
    check_value(edits)
    if len(json.dumps(edits, default=str)) > MAX_EDITS_BYTES:
        raise ValueError(f"edits must stay under {MAX_EDITS_BYTES // 1024} KB")
    return edits


def checked_text(value: str | None) -> str | None:
    return None if value is None else check_value(value)


class DecisionPayload(BaseModel):
    """The payload of the ``approve`` and ``reject`` signals (Web UI, CLI); all optional.

    ``extra="forbid"`` so that a typo such as ``"edit"`` is refused and logged rather than
    approving without the edits the person meant.
    """

    model_config = ConfigDict(extra="forbid")

    by: str | None = Field(None, min_length=1, max_length=200)
    comment: str | None = Field(None, max_length=5000)
    approval_id: str | None = Field(None, max_length=300)
    edits: dict[str, Any] | None = None

    _edits = field_validator("edits")(checked_edits)
    _text = field_validator("by", "comment", "approval_id")(checked_text)


class DecideRequest(BaseModel):
    """The ``decide`` Update's argument. The REST door signs its requests (channel ``api``);
    the CLI decides as an operator over channel ``signal``. No other channel may be claimed:
    ``policy``, ``timeout`` and ``auto`` belong to the gate."""

    model_config = ConfigDict(extra="forbid")

    action: Action
    by: str = Field(min_length=1, max_length=200)
    approval_id: str | None = Field(None, max_length=300)
    comment: str | None = Field(None, max_length=5000)
    edits: dict[str, Any] | None = None
    channel: Channel = Channel.API
    # The caller's groups as its verified token says (REST, Slack): trusted only with the
    # door's signature; a Temporal-side caller's ``by`` can match only approver_subjects.
    groups: Names | None = Field(None, max_length=_MAX_NAMES)
    # Beyond the channel, where the decision came from (the Slack user and team).
    origin: dict[str, str] | None = Field(None, max_length=8)
    # HMAC of the request by the REST door (temporal/door.py); required for channels api
    # and slack.
    door_signature: str | None = Field(None, max_length=128)

    _edits = field_validator("edits")(checked_edits)
    _text = field_validator("by", "comment", "approval_id")(checked_text)


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
    decided_at: Timestamp
    # When the gate asked for a person (None: it passed on its own): time to decision.
    requested_at: Timestamp | None = None
    # The gate decided (None in runs recorded before gates had names).
    gate: str | None = None
    origin: dict[str, str] | None = None
    # Which model proposed, and what the call cost: audited with the decision.
    model: str | None = None
    model_call: ModelCall | None = None
    # Everyone whose approval counted (a quorum lists several; empty for a reject).
    approvers: list[str] = Field(default_factory=list)


class DecideOutcome(BaseModel):
    """The ``decide`` Update's answer: the decision once the approval is decided, otherwise
    the votes so far toward the quorum."""

    approval_id: str
    decision: Decision | None = None
    votes: int = 0
    needed: int = 1
    voters: list[str] = Field(default_factory=list)


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
    # The gate whose policy changed (None: a change from before gates had names, which
    # means the process's first gate).
    gate: str | None = None
    # Brain's signature over the run, this change and its version (``temporal.door``): a
    # run acts only on a change Brain signed for it (SPEC §8).
    signature: str | None = Field(None, max_length=128)


class RunStatus(BaseModel):
    """The ``status`` query: everything an operator needs to see about a run."""

    workflow_id: str
    process: Process
    tenant: str
    state: RunState
    requested_by: str | None = None
    ai: AIResult | None = None
    policy: Policy | None = None
    approval: PendingApproval | None = None
    decision: Decision | None = None
    # Every gate's decision so far, in order (the last is ``decision``).
    decisions: list[Decision] = Field(default_factory=list)
    result: dict[str, Any] | None = None
    ignored_signals: list[str] = Field(default_factory=list)
