"""The gate's steps that leave the workflow: the AI step, the policy read, the records, the
apply step. Each decides nothing; ``GatedWorkflow`` calls them in order.

Who writes a decision's audit row (``audit_writer``) is decided in one place: always a
regular activity scheduled by the workflow task that took the decision, so the row exists
only once that task was committed and names the decision the run applied.
"""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from enum import StrEnum
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.ai import AIActivities
    from activities.audit import AuditActivities
    from activities.doors import DoorActivities
    from activities.policy import PolicyActivities
    from activities.webhooks.gate_events import GateEventActivities
    from hitl.state import GateState
    from models.activity_io import (
        ApplyRequest,
        GateEvent,
        GatesOpened,
        GateVerdict,
        OpenGates,
        ParkAt,
        ProposeAtGates,
        Proposed,
        RecordDecision,
        RecordOutcome,
        RecordVote,
        RefreshPolicy,
        VerifySignal,
    )
    from models.ai import AIResult
    from models.hitl import Decision, Policy
    from models.processes import Action, RunState
    from processes.kit.definition import ProcessDefinition
    from temporal import retry


class AuditWriter(StrEnum):
    APPLY = "apply"  # with the business row, in one transaction
    RECORD = "record_decision"  # a rejection
    OUTCOME = "record_outcome"  # a decision that was never applied (the run failed)


def audit_writer(decision: Decision, applied: bool) -> AuditWriter:
    """Which step writes ``decision``'s audit row: an approval with the apply step that
    applied it, a rejection on its own, an approval whose apply step failed for good with
    the run's failure."""
    if decision.action is Action.REJECT:
        return AuditWriter.RECORD
    return AuditWriter.APPLY if applied else AuditWriter.OUTCOME


async def propose(definition: ProcessDefinition, state: GateState) -> AIResult:
    assert state.input is not None
    try:
        # Called by name (one activity per process): ``result_type`` decodes the AIResult.
        ai: AIResult = await workflow.execute_activity(
            definition.propose_activity,
            state.input.model_dump(mode="json"),
            result_type=AIResult,
            start_to_close_timeout=retry.AI_STEP_START_TO_CLOSE,
            schedule_to_close_timeout=retry.AI_STEP_SCHEDULE_TO_CLOSE,
            heartbeat_timeout=retry.AI_STEP_HEARTBEAT,
            retry_policy=retry.AI_STEP_RETRY,
        )
        return ai
    except ActivityError as err:
        return _needs_review(err)


async def propose_at_gates(definition: ProcessDefinition, state: GateState) -> Proposed:
    """The AI step with the gates' verdicts on its proposal (``AIActivities.propose_at_gates``);
    when the model fails for good, a proposal that needs review and no verdicts (the gate
    step reads the policies then)."""
    assert state.input is not None and state.run is not None
    try:
        return await workflow.execute_activity_method(
            AIActivities.propose_at_gates,
            ProposeAtGates(
                run=state.run,
                run_input=state.input.model_dump(mode="json"),
                requested_by=state.requested_by or None,
            ),
            start_to_close_timeout=retry.AI_STEP_START_TO_CLOSE,
            schedule_to_close_timeout=retry.AI_STEP_SCHEDULE_TO_CLOSE,
            heartbeat_timeout=retry.AI_STEP_HEARTBEAT,
            retry_policy=retry.AI_STEP_RETRY,
        )
    except ActivityError as err:
        return Proposed(ai=_needs_review(err))


def _needs_review(err: ActivityError) -> AIResult:
    # Out of attempts: a person supplies the proposal instead of the run failing.
    reason = str(err.cause or err)
    workflow.logger.warning("AI step failed for good, parking for review: %s", reason)
    return AIResult(
        proposal=None,
        confidence=0.0,
        rationale=f"The AI step failed: {reason}",
        model="unavailable",
        needs_review=True,
        error=reason,
    )


async def park(state: GateState, verdict: GateVerdict) -> None:
    """Record the run as parked at the gate the AI step's verdicts stopped at (local: a
    discarded task rewrites the same row; the event's id dedupes it)."""
    assert state.run is not None and state.ai is not None
    await workflow.execute_local_activity_method(
        PolicyActivities.park,
        ParkAt(run=state.run, ai=state.ai, proposal=state.proposal, verdict=verdict),
        start_to_close_timeout=retry.DB_STEP_TIMEOUT,
        schedule_to_close_timeout=retry.DB_STEP_SCHEDULE_TO_CLOSE,
        retry_policy=retry.DB_STEP_RETRY,
    )


async def open_gates(definition: ProcessDefinition, state: GateState, first: int) -> GatesOpened:
    """Open the gates from ``first`` on (``PolicyActivities.open_gates``). The first opening
    is local: the policy read and the run's row are on the path of every run, and a
    discarded task rewrites the same row when it is retried. After a person decided a gate,
    it is a regular activity scheduled by the committed task that took the decision, so it
    can audit that decision in the transaction that moves the run on."""
    assert state.run is not None and state.ai is not None and state.input is not None
    conditional = any(g.when is not None for g in definition.gates[first:])
    request = OpenGates(
        run=state.run,
        ai=state.ai,
        proposal=state.proposal,
        first=first,
        run_input=state.input.model_dump(mode="json") if conditional else None,
        requested_at=workflow.now(),
        requested_by=state.requested_by or None,
        record=state.unaudited if first > 0 else [],
    )
    if first == 0:
        return await workflow.execute_local_activity_method(
            PolicyActivities.open_gates,
            request,
            start_to_close_timeout=retry.DB_STEP_TIMEOUT,
            schedule_to_close_timeout=retry.DB_STEP_SCHEDULE_TO_CLOSE,
            retry_policy=retry.DB_STEP_RETRY,
        )
    opened = await workflow.execute_activity_method(
        PolicyActivities.open_gates,
        request,
        start_to_close_timeout=retry.DB_STEP_TIMEOUT,
        retry_policy=retry.DB_STEP_RETRY,
    )
    state.unaudited = []
    return opened


async def verify_brain_signal(
    state: GateState, fields: dict[str, Any], signature: str | None
) -> bool:
    """Whether Brain signed ``fields`` for this run (a local step: the verdict is recorded)."""
    return await workflow.execute_local_activity_method(
        DoorActivities.verify_brain_signal,
        VerifySignal(workflow_id=workflow.info().workflow_id, fields=fields, signature=signature),
        start_to_close_timeout=retry.DB_STEP_TIMEOUT,
        retry_policy=retry.DB_STEP_RETRY,
    )


async def refresh_policy(state: GateState, min_version: int) -> Policy:
    assert state.run is not None
    return await workflow.execute_local_activity_method(
        PolicyActivities.refresh_policy,
        RefreshPolicy(
            run=state.run, min_version=min_version, approval=state.approval, gate=state.gate
        ),
        start_to_close_timeout=retry.DB_STEP_TIMEOUT,
        schedule_to_close_timeout=retry.DB_STEP_SCHEDULE_TO_CLOSE,
        retry_policy=retry.DB_STEP_RETRY,
    )


async def record_decision(state: GateState, run_state: RunState, *, local: bool = False) -> None:
    """Audit the decision (and earlier gates' not yet audited) and move the run to
    ``run_state``. ``local``: the path of runs before gate-v3 (hitl/legacy.py)."""
    assert state.run is not None and state.decision is not None
    request = RecordDecision(
        run=state.run, decision=state.decision, state=run_state, earlier=state.unaudited[:-1]
    )
    await _audit(AuditActivities.record_decision, request, local=local)
    state.unaudited = []


async def record_votes(state: GateState) -> None:
    """Show votes toward a quorum on the run's row, newest last; an older vote's write
    never overwrites a newer one (the row keeps the highest sequence). The votes count in
    the workflow whatever happens here: a row that cannot be updated must not end the run."""
    assert state.run is not None
    pending, state.unrecorded_votes = state.unrecorded_votes, []
    results = await asyncio.gather(
        *(
            workflow.execute_activity_method(
                AuditActivities.record_vote,
                RecordVote(run=state.run, approval=approval, sequence=sequence),
                start_to_close_timeout=retry.DB_STEP_TIMEOUT,
                retry_policy=retry.DB_STEP_RETRY,
            )
            for sequence, approval in pending
        ),
        return_exceptions=True,
    )
    for failed in (r for r in results if isinstance(r, ActivityError)):
        workflow.logger.warning("votes not shown on the run's row: %s", failed.cause or failed)


async def apply(
    definition: ProcessDefinition, state: GateState, *, local: bool = False, write_ai: bool = False
) -> None:
    """The apply step. ``local``: the decision rests on history alone, so a retry of a
    discarded task takes it again and the step's idempotent writes (keyed by the approval
    and the workflow) stay true either way: it runs within the task that took it
    (``GatedWorkflow._replayable``). Otherwise (an Update may be accepted in a task that is
    then discarded) a regular activity applies it, scheduled once that task was committed.
    ``write_ai``: no step wrote the AI step's result to the run's row yet."""
    assert state.run is not None and state.decision is not None and state.input is not None
    request = ApplyRequest(
        run=state.run,
        decision=state.decision,
        run_input=state.input.model_dump(mode="json"),
        requested_at=state.approval.requested_at if state.approval else None,
        earlier=state.unaudited[:-1],
        ai=state.ai if write_ai else None,
        gate=state.gate if write_ai else None,
    )
    if local:
        step = asyncio.ensure_future(
            workflow.execute_local_activity(
                definition.apply_activity,
                request,
                result_type=dict,
                start_to_close_timeout=retry.APPLY_STEP_TIMEOUT,
                schedule_to_close_timeout=retry.DB_STEP_SCHEDULE_TO_CLOSE,
                retry_policy=retry.APPLY_STEP_RETRY,
            )
        )
    else:
        step = asyncio.ensure_future(
            workflow.execute_activity(
                definition.apply_activity,
                request,
                result_type=dict,
                start_to_close_timeout=retry.APPLY_STEP_TIMEOUT,
                retry_policy=retry.APPLY_STEP_RETRY,
            )
        )
    try:
        state.result = await asyncio.shield(step)
    except asyncio.CancelledError:
        # Once the apply step has started, a cancel is too late: finish applying, so the
        # business row and the run's state never disagree.
        state.result = await step


async def record_outcome(
    state: GateState, run_state: RunState, error: str | None, *, local: bool = False
) -> None:
    """The run ends without applying; a decision not yet audited (of this gate or an
    earlier one) is audited with it."""
    assert state.run is not None
    unaudited = state.unaudited
    pending = unaudited[-1] if unaudited and unaudited[-1] is state.decision else None
    request = RecordOutcome(
        run=state.run,
        state=run_state,
        error=error,
        decision=state.decision,
        approval_id=state.approval_id or None,
        earlier=[d for d in unaudited if d is not pending],
    )
    await _audit(AuditActivities.record_outcome, request, local=local)


_Request = TypeVar("_Request", RecordDecision, RecordOutcome)


async def _audit(
    step: Callable[[AuditActivities, _Request], Awaitable[None]],
    request: _Request,
    *,
    local: bool,
) -> None:
    """An audit step; ``local``: as a local activity, the path of runs started before the
    audit moved out of local activities (hitl/PATCHES.md)."""
    if local:
        await workflow.execute_local_activity_method(
            step,
            request,
            start_to_close_timeout=retry.DB_STEP_TIMEOUT,
            retry_policy=retry.DB_STEP_RETRY,
        )
    else:
        await workflow.execute_activity_method(
            step,
            request,
            start_to_close_timeout=retry.DB_STEP_TIMEOUT,
            retry_policy=retry.DB_STEP_RETRY,
        )


async def publish(state: GateState, kind: str, sequence: int) -> None:
    """A reminder or the escalation of the pending approval (webhooks). Telling people is
    never a reason for the run to fail: a publish that fails for good is logged."""
    assert state.run is not None and state.approval is not None
    try:
        await workflow.execute_activity_method(
            GateEventActivities.publish_gate_event,
            GateEvent(run=state.run, type=kind, approval=state.approval, sequence=sequence),
            start_to_close_timeout=retry.DB_STEP_TIMEOUT,
            retry_policy=retry.DB_STEP_RETRY,
        )
    except ActivityError as err:
        workflow.logger.warning("%s not published: %s", kind, err.cause or err)


def deadline(state: GateState) -> timedelta:
    """Time left until the approval times out."""
    assert state.approval is not None
    return state.approval.expires_at - workflow.now()
