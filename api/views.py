"""Table rows to response bodies."""

from api.queries import utc
from api.schemas import ApprovalView, AuditEntry, WorkflowView
from models.ai import ModelCall
from models.hitl import Decision, PendingApproval
from models.processes import AuditDecision, Channel, Process, RunState
from models.tables import DecisionRow, RunRow


def run_view(row: RunRow) -> WorkflowView:
    state = RunState(row.state)
    decision = Decision.model_validate(row.decision) if isinstance(row.decision, dict) else None
    # The row keeps the approval after the decision; only a parked run has one pending.
    pending = state is RunState.AWAITING_APPROVAL and isinstance(row.approval, dict)
    return WorkflowView(
        workflow_id=row.workflow_id,
        run_id=row.run_id,
        process=Process(row.process),
        tenant=row.tenant,
        state=state,
        proposal=row.proposal if isinstance(row.proposal, dict) else None,
        confidence=row.confidence,
        approval=PendingApproval.model_validate(row.approval) if pending else None,
        decision=decision,
        result=row.result if isinstance(row.result, dict) else None,
        error=row.error,
        requested_by=row.requested_by,
        created_at=utc(row.created_at),
        updated_at=utc(row.updated_at),
        cancel_requested_by=row.cancel_requested_by,
        cancel_requested_at=utc(row.cancel_requested_at) if row.cancel_requested_at else None,
    )


def approval_view(row: RunRow) -> ApprovalView:
    assert isinstance(row.approval, dict)
    return ApprovalView.model_validate(
        {
            **row.approval,
            "workflow_id": row.workflow_id,
            "tenant": row.tenant,
            "requested_by": row.requested_by,
            "subject": row.subject,
        }
    )


def audit_view(row: DecisionRow) -> AuditEntry:
    assert row.id is not None
    return AuditEntry(
        id=row.id,
        workflow_id=row.workflow_id,
        run_id=row.run_id,
        tenant=row.tenant,
        process=Process(row.process),
        approval_id=row.approval_id,
        decision=AuditDecision(row.decision),
        actor=row.actor,
        channel=Channel(row.channel),
        confidence=row.confidence,
        threshold=row.threshold,
        hitl_enabled=row.hitl_enabled,
        policy_version=row.policy_version,
        comment=row.comment,
        original_proposal=row.original_proposal,
        edits=row.edits,
        final_proposal=row.final_proposal,
        model=row.model,
        model_call=ModelCall.model_validate(row.model_call) if row.model_call else None,
        approvers=row.approvers or [],
        gate=row.gate,
        origin=row.origin,
        decided_at=utc(row.decided_at),
        recorded_at=utc(row.recorded_at),
    )
