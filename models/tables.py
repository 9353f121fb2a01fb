"""The engine's SQLModel tables (each process's business table lives in its module under
``processes/``). Every side effect has a unique key from the workflow, so a retried or
replayed step writes nothing twice (the database, not the code, enforces it)."""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.timestamps import Timestamp


def utcnow() -> datetime:
    return datetime.now(UTC)


def _ts(**kw: Any) -> Any:
    return Field(default_factory=utcnow, sa_type=DateTime(timezone=True), **kw)


def _json(nullable: bool = True) -> Any:
    return Field(default=None, sa_column=Column(JSON, nullable=nullable))


class PolicyRow(SQLModel, table=True):
    """A global (``tenant='*'``) or tenant policy of one gate of a process; a tenant row's
    NULL fields inherit the global row's."""

    __tablename__ = "policies"
    __table_args__ = (
        UniqueConstraint("process", "tenant", "gate", name="uq_policies_process_tenant_gate"),
    )

    id: int | None = Field(default=None, primary_key=True)
    process: str = Field(max_length=64)
    tenant: str = Field(max_length=128)
    gate: str = Field(max_length=32)
    hitl_enabled: bool | None = None
    confidence_threshold: float | None = None
    approval_timeout_seconds: int | None = None
    on_timeout: str | None = Field(default=None, max_length=16)
    min_approvals: int | None = None
    requester_may_approve: bool | None = None
    # 0 stores "off" explicitly (NULL inherits the global row's value).
    remind_every_seconds: int | None = None
    escalate_after_seconds: int | None = None
    approver_groups: list | None = _json()
    approver_subjects: list | None = _json()
    doors: list | None = _json()
    # -1 stores "off" (NULL inherits the global row's amount).
    amount_over: float | None = None
    version: int = 0
    updated_by: str = Field(default="system", max_length=200)
    updated_at: Timestamp = _ts()


class PolicyChangeRow(SQLModel, table=True):
    """Who changed which policy, when, from what to what."""

    __tablename__ = "policy_changes"

    id: int | None = Field(default=None, primary_key=True)
    process: str = Field(max_length=64, index=True)
    tenant: str = Field(max_length=128)
    gate: str | None = Field(default=None, max_length=32)
    version: int
    changed_by: str = Field(max_length=200)
    changed_at: Timestamp = _ts()
    old: dict | None = _json()
    new: dict | None = _json()


class DecisionRow(SQLModel, table=True):
    """The audit log: one row per decision, human or automatic, and per cancel."""

    __tablename__ = "decisions"
    __table_args__ = (
        Index("ix_decisions_tenant_process", "tenant", "process"),
        Index("ix_decisions_workflow", "workflow_id"),
        # Insights read a process's human decisions newest first.
        Index("ix_decisions_process_channel_decided", "process", "channel", "decided_at"),
        # ... and one tenant's, newest first (its last 500 human decisions).
        Index("ix_decisions_tenant_process_decided", "tenant", "process", "decided_at"),
        # ... and a gate's (a later gate, which few runs reach, without reading the rest).
        Index("ix_decisions_process_gate_decided", "process", "gate", "decided_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    approval_id: str = Field(max_length=300, unique=True)
    workflow_id: str = Field(max_length=300)
    run_id: str = Field(max_length=64)
    tenant: str = Field(max_length=128)
    process: str = Field(max_length=64)
    decision: str = Field(max_length=16)
    actor: str = Field(max_length=200)
    channel: str = Field(max_length=16)
    confidence: float
    threshold: float
    hitl_enabled: bool
    policy_version: int = 0
    comment: str | None = None
    original_proposal: dict | None = _json()
    edits: dict | None = _json()
    final_proposal: dict | None = _json()
    model: str | None = Field(default=None, max_length=200)
    model_call: dict | None = _json()
    # Everyone whose approval counted toward the decision (quorum).
    approvers: list | None = _json()
    gate: str | None = Field(default=None, max_length=32)
    # Beyond the channel: where the decision came from (the Slack user and team).
    origin: dict | None = _json()
    # When the gate asked for a person (NULL: it passed on its own): time to decision.
    requested_at: Timestamp | None = Field(default=None, sa_type=DateTime(timezone=True))
    decided_at: Timestamp = Field(sa_type=DateTime(timezone=True))
    recorded_at: Timestamp = _ts()


class RunRow(SQLModel, table=True):
    """One row per workflow, kept current by the gate's steps, so lists and the inbox are
    answered from the database without asking a worker or waiting on visibility."""

    __tablename__ = "runs"
    __table_args__ = (
        Index("ix_runs_tenant_created", "tenant", "created_at"),
        Index("ix_runs_tenant_state_requested", "tenant", "state", "requested_at"),
        Index("ix_runs_process_gate_state_version", "process", "gate", "state", "policy_version"),
    )

    workflow_id: str = Field(primary_key=True, max_length=300)
    run_id: str | None = Field(default=None, max_length=64)
    tenant: str = Field(max_length=128)
    process: str = Field(max_length=64)
    state: str = Field(max_length=32)
    requested_by: str | None = Field(default=None, max_length=200)
    idempotency_key: str | None = Field(default=None, max_length=300)
    input_hash: str | None = Field(default=None, max_length=64)
    proposal: dict | None = _json()
    confidence: float | None = None
    ai: dict | None = _json()
    approval: dict | None = _json()
    approval_id: str | None = Field(default=None, max_length=300)
    # The gate the run is at (or last passed); NULL for runs from before gates had names.
    gate: str | None = Field(default=None, max_length=32)
    # What the run is about, in a few words (the inbox, events).
    subject: str | None = Field(default=None, max_length=300)
    # Bumped by each vote toward a quorum; a late write of an older vote never wins.
    approval_sequence: int | None = None
    requested_at: Timestamp | None = Field(default=None, sa_type=DateTime(timezone=True))
    policy_version: int | None = None
    decision: dict | None = _json()
    result: dict | None = _json()
    error: str | None = None
    # Who asked the REST API to cancel the run, and when (the cancel's audit trail).
    cancel_requested_by: str | None = Field(default=None, max_length=200)
    cancel_requested_at: Timestamp | None = Field(default=None, sa_type=DateTime(timezone=True))
    created_at: Timestamp = _ts()
    updated_at: Timestamp = _ts()
