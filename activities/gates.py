"""Judging a proposal at the gates ahead (SPEC §2, §8), given their policies: for each gate in
order, whether its condition holds for the proposal, then whether a person must look. Pure:
the gate's policy step (``PolicyActivities.open_gates``) and the AI step that reads the
policies with its proposal (``AIActivities.propose_at_gates``) judge alike, and the verdicts
they return are recorded in history, which is what the run follows."""

from datetime import datetime, timedelta
from typing import Any

from models.activity_io import GateVerdict, RunRef
from models.ai import AIResult
from models.hitl import PendingApproval, Policy
from processes.kit.definition import ProcessDefinition


def judge(
    definition: ProcessDefinition,
    run: RunRef,
    ai: AIResult,
    proposal: dict[str, Any] | None,
    run_input: Any,
    first: int,
    policies: dict[str, Policy],
    requested_at: datetime,
    requested_by: str | None,
) -> list[GateVerdict]:
    """The verdicts of the gates from ``first`` on, up to and including the first that needs
    a person (or the last). ``run_input``: the parsed input, for conditions that read it."""
    verdicts: list[GateVerdict] = []
    for index in range(first, len(definition.gates)):
        gate = definition.gates[index]
        policy = policies[gate.name]
        approval_id = definition.approval_id(run.workflow_id, index)
        approval = None
        if gate.applies(run_input, proposal, policy):
            # Only the first gate meets a step that needs review: a later gate sees a
            # proposal an earlier one approved.
            approval = pending(
                run, ai, proposal, policy, approval_id, ai.needs_review and index == 0,
                requested_at, requested_by,
            )  # fmt: skip
            applies = True
        else:
            applies = False
        verdicts.append(
            GateVerdict(
                gate=gate.name,
                approval_id=approval_id,
                policy=policy,
                applies=applies,
                approval=approval,
            )
        )
        if approval is not None:
            break
    return verdicts


def pending(
    run: RunRef,
    ai: AIResult,
    proposal: dict[str, Any] | None,
    policy: Policy,
    approval_id: str,
    needs_review: bool,
    requested_at: datetime,
    requested_by: str | None,
) -> PendingApproval | None:
    """The pending approval ``policy`` asks for; None: the gate passes on its own."""
    if not policy.needs_human(ai.confidence, needs_review):
        return None
    return PendingApproval(
        approval_id=approval_id,
        process=run.process,
        proposal=proposal,
        confidence=ai.confidence,
        threshold=policy.confidence_threshold,
        hitl_enabled=policy.hitl_enabled,
        rationale=ai.rationale,
        requested_at=requested_at,
        expires_at=requested_at + timedelta(seconds=policy.approval_timeout_seconds),
        needs_review=needs_review,
        error=ai.error if needs_review else None,
        policy_version=policy.version,
        requested_by=requested_by,
        min_approvals=policy.min_approvals,
        requester_may_approve=policy.requester_may_approve,
        gate=policy.gate,
        approver_groups=policy.approver_groups,
        approver_subjects=policy.approver_subjects,
        doors=policy.doors,
    )
