"""The gate on a real dev server: every door, every refusal, exactly once."""

import asyncio
from typing import Any

import pytest
from temporalio.client import WorkflowFailureError, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError, CancelledError
from temporalio.service import RPCError, RPCStatusCode

from models.processes import Action, Channel, Process, RunState
from models.workflow_io import ProcessResult, ProcessStart
from processes.lead_scoring import LeadRow
from temporal import errors
from temporal.handlers import POLICY_CHANGED_SIGNAL
from tests.support import (
    LEAD,
    Brain,
    ai_result,
    decide,
    decided,
    eventually,
    parked,
    refusal,
    run_of,
    signed_change,
)
from workflows.process_workflow import LeadScoringWorkflow


async def test_confident_proposal_on_autonomous_policy_applies_without_a_person(
    brain: Brain,
) -> None:
    await brain.set_policy(hitl_enabled=False)
    handle = await brain.start()
    result: ProcessResult = await handle.result()
    assert result.state is RunState.COMPLETED
    [audit] = await brain.audit(handle.id)
    assert (audit.channel, audit.actor, audit.decision) == ("auto", "brain", "approve")
    [lead] = await brain.rows(LeadRow, handle.id)
    assert (lead.score, lead.tier, lead.route) == (82, "hot", "sales")
    row = await brain.run_row(handle.id)
    assert row is not None and row.state == "completed"
    assert row.result is not None and row.result["id"] == lead.id


async def test_unsure_proposal_parks_and_an_api_approval_applies_once(brain: Brain) -> None:
    await brain.set_policy(hitl_enabled=False, confidence_threshold=0.9)
    brain.model.default = ai_result(confidence=0.6)
    handle = await brain.start()
    status = await parked(handle)
    assert status.approval is not None
    assert status.approval.threshold == 0.9 and status.approval.confidence == 0.6
    row = await brain.run_row(handle.id)
    assert row is not None and row.approval is not None
    assert row.state == "awaiting_approval" and row.approval["approval_id"] == handle.id + ":1"
    desc = await handle.describe()
    assert desc.typed_search_attributes.get(_state_key()) == "awaiting_approval"

    decision = await decided(handle, Action.APPROVE, comment="looks right")
    assert decision.channel is Channel.API and decision.actor == "alice"
    result = await handle.result()
    assert result.state is RunState.COMPLETED
    [audit] = await brain.audit(handle.id)
    assert (audit.actor, audit.channel, audit.comment) == ("alice", "api", "looks right")
    assert len(await brain.rows(LeadRow, handle.id)) == 1


async def test_signal_approval_uses_the_payload_actor(brain: Brain) -> None:
    handle = await brain.start()  # HITL is on for lead scoring by default
    await parked(handle)
    await handle.signal(LeadScoringWorkflow.approve, {"by": "ops", "comment": "ok"})
    assert (await handle.result()).state is RunState.COMPLETED
    [audit] = await brain.audit(handle.id)
    assert (audit.actor, audit.channel) == ("ops", "signal")


async def test_empty_signal_is_allowed_and_names_the_web_ui(brain: Brain) -> None:
    handle = await brain.start()
    await parked(handle)
    await handle.signal("reject")
    result = await handle.result()
    assert result.state is RunState.REJECTED
    [audit] = await brain.audit(handle.id)
    assert (audit.actor, audit.decision) == ("temporal-ui", "reject")
    assert await brain.rows(LeadRow, handle.id) == []
    row = await brain.run_row(handle.id)
    assert row is not None and row.state == "rejected"


async def test_approve_with_edits_recomputes_derived_fields(brain: Brain) -> None:
    handle = await brain.start()
    await parked(handle)
    decision = await decided(handle, Action.APPROVE, edits={"score": 35})
    assert decision.final_proposal is not None and decision.final_proposal["tier"] == "cold"
    await handle.result()
    [lead] = await brain.rows(LeadRow, handle.id)
    assert (lead.score, lead.tier, lead.route) == (35, "cold", "marketing")
    [audit] = await brain.audit(handle.id)
    assert audit.edits == {"score": 35}
    assert audit.original_proposal is not None and audit.original_proposal["score"] == 82


async def test_invalid_edits_are_refused_and_the_run_keeps_waiting(brain: Brain) -> None:
    handle = await brain.start()
    await parked(handle)
    with pytest.raises(WorkflowUpdateFailedError) as failure:
        await decide(handle, Action.APPROVE, edits={"score": 140})
    cause = failure.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == errors.INVALID_EDITS
    assert cause.details[0]["errors"][0]["loc"] == ["score"]
    await decide(handle, Action.APPROVE)
    assert (await handle.result()).state is RunState.COMPLETED


async def test_second_decision_and_stale_approval_are_refused(brain: Brain) -> None:
    handle = await brain.start()
    await parked(handle)
    with pytest.raises(WorkflowUpdateFailedError) as stale:
        await decide(handle, Action.APPROVE, approval_id="nope:1")
    assert refusal(stale.value).type == errors.STALE_APPROVAL

    first, second = await asyncio.gather(
        decide(handle, Action.APPROVE, by="alice"),
        decide(handle, Action.REJECT, by="bob"),
        return_exceptions=True,
    )
    refused = [o for o in (first, second) if isinstance(o, BaseException)]
    assert len(refused) == 1, (first, second)
    # The loser is refused by the gate, or, when the winner's run already finished before
    # the loser reached it (a loaded machine), by the server for a closed workflow.
    loser = refused[0]
    if isinstance(loser, WorkflowUpdateFailedError):
        assert refusal(loser).type == errors.ALREADY_DECIDED
    else:
        closed = (RPCStatusCode.NOT_FOUND, RPCStatusCode.FAILED_PRECONDITION)
        assert isinstance(loser, RPCError) and loser.status in closed, loser
    await handle.result()
    assert len(await brain.audit(handle.id)) == 1


async def test_malformed_signals_are_ignored_without_breaking_the_run(brain: Brain) -> None:
    handle = await brain.start()
    await parked(handle)
    await handle.signal("approve", "not an object")
    await handle.signal("approve", {"edit": {"score": 10}})  # typo: refused, not half-obeyed
    await handle.signal("approve", {"edits": {"score": "high"}})
    await handle.signal("reject", {"approval_id": "someone-else:1"})

    async def ignored() -> Any:
        status = await handle.query(LeadScoringWorkflow.status)
        return status if len(status.ignored_signals) == 4 else None

    status = await eventually(ignored)
    assert status.state is RunState.AWAITING_APPROVAL
    # Each reason names what was wrong, down to the field.
    reasons = status.ignored_signals
    assert "invalid payload" in reasons[0]
    assert "(edit)" in reasons[1]
    assert "InvalidEdits" in reasons[2] and "edits.score" in reasons[2]
    assert "StaleApproval" in reasons[3]
    await handle.signal(LeadScoringWorkflow.approve, {"by": "ops"})
    assert (await handle.result()).state is RunState.COMPLETED
    [audit] = await brain.audit(handle.id)
    assert audit.actor == "ops" and audit.edits is None


async def test_policy_change_releases_a_parked_run(brain: Brain) -> None:
    brain.model.default = ai_result(confidence=0.8)
    handle = await brain.start()
    await parked(handle)
    await brain.set_policy(hitl_enabled=False, confidence_threshold=0.9)
    policy = await brain.policies.effective(Process("lead_scoring"), brain.tenant)
    change = {"process": "lead_scoring", "tenant": brain.tenant}
    # Still below the threshold: re-evaluated, still parked.
    await handle.signal(
        POLICY_CHANGED_SIGNAL,
        signed_change(handle.id, {**change, "version": policy.version, "changed_by": "x"}),
    )
    await asyncio.sleep(0.5)
    status = await handle.query(LeadScoringWorkflow.status)
    assert status.policy is not None and status.policy.version == policy.version
    await brain.set_policy(confidence_threshold=0.7)
    policy = await brain.policies.effective(Process("lead_scoring"), brain.tenant)
    await handle.signal(
        POLICY_CHANGED_SIGNAL,
        signed_change(handle.id, {**change, "version": policy.version, "changed_by": "root"}),
    )
    result = await handle.result()
    assert result.state is RunState.COMPLETED
    [audit] = await brain.audit(handle.id)
    assert (audit.channel, audit.actor, audit.policy_version) == ("policy", "root", policy.version)


async def test_needs_review_parks_whatever_the_policy_and_requires_edits(brain: Brain) -> None:
    await brain.set_policy(hitl_enabled=False, confidence_threshold=0.0)
    brain.model.default = ai_result(
        proposal=None, confidence=0.0, needs_review=True, error="model refused"
    )
    handle = await brain.start()
    status = await parked(handle)
    assert status.approval is not None
    assert status.approval.proposal is None and status.approval.error == "model refused"
    with pytest.raises(WorkflowUpdateFailedError) as bare:
        await decide(handle, Action.APPROVE)
    assert refusal(bare.value).type == errors.INVALID_EDITS
    edits = {"score": 75, "rationale": "checked by hand"}
    decision = await decided(handle, Action.APPROVE, edits=edits)
    assert decision.final_proposal == {**edits, "tier": "hot"}
    await handle.result()
    [lead] = await brain.rows(LeadRow, handle.id)
    assert lead.tier == "hot"


async def test_ai_step_failing_for_good_parks_for_review(brain: Brain) -> None:
    brain.model.script = [ApplicationError("bad key", non_retryable=True, type="Nope")]
    handle = await brain.start()
    status = await parked(handle)
    assert status.approval is not None and status.approval.error is not None
    assert status.approval.needs_review and "bad key" in status.approval.error
    await decide(handle, Action.REJECT)
    assert (await handle.result()).state is RunState.REJECTED


async def test_cancel_while_parked_marks_the_run_canceled(brain: Brain) -> None:
    handle = await brain.start()
    await parked(handle)
    await handle.cancel()
    with pytest.raises(WorkflowFailureError) as failure:
        await handle.result()
    assert isinstance(failure.value.cause, CancelledError)
    row = await eventually(lambda: _row_in_state(brain, handle.id, "canceled"))
    assert row.state == "canceled"
    # Canceled from outside the REST API: audited as a cancel by the Temporal-side door.
    [audit] = await brain.audit(handle.id)
    assert (audit.decision, audit.actor, audit.channel) == ("cancel", "temporal-ui", "signal")


async def test_current_details_tell_the_admin_what_to_decide(brain: Brain) -> None:
    handle = await brain.start()
    await parked(handle)
    meta = await handle.query("__temporal_workflow_metadata")
    details = meta.current_details
    assert "Waiting for a decision" in details and "- **score**: 82" in details
    assert "threshold 0.85" in details and "--name approve" in details
    assert "### To approve" in details and "### To reject" in details
    # No code blocks: they do not wrap in the Web UI's panel and cut payloads off.
    assert "```" not in details
    assert f"`{handle.id}:1`" in details.splitlines()
    description = await handle.describe()
    summary = await description.static_summary()
    assert summary == f"lead_scoring: Ada Lovelace (Analytical Engines) (tenant {brain.tenant})"
    assert "Send a Signal" in (await description.static_details() or "")
    signals = {s.name: s.description for s in meta.definition.signal_definitions}
    assert "Approve the pending proposal" in signals["approve"]
    assert "Reject the pending proposal" in signals["reject"]
    # The one internal signal says so; no entry without a name (the Web UI would preselect
    # it).
    assert set(signals) == {"approve", "reject", "brain_policy_changed"}
    assert signals["brain_policy_changed"].startswith("INTERNAL")
    await handle.signal("reject")
    await handle.result()


async def _row_in_state(brain: Brain, workflow_id: str, state: str) -> Any:
    row = await brain.run_row(workflow_id)
    return row if row is not None and row.state == state else None


def _state_key() -> Any:
    from temporal.search_attributes import BRAIN_STATE

    return BRAIN_STATE


async def test_a_signal_before_the_gate_opens_is_held_not_lost(brain: Brain) -> None:
    # A signal is accepted durably; one that reaches the run before its approval is open in
    # history (signal-with-start here; after a worker crash in real life) decides it then.
    early = f"lead_scoring:{brain.tenant}:early"
    handle = await brain.client.start_workflow(
        run_of(LeadScoringWorkflow),
        ProcessStart(tenant=brain.tenant, requested_by="tester", input=LEAD),
        id=early,
        task_queue=brain.task_queue,
        start_signal="approve",
        start_signal_args=[
            {"by": "early-bird", "approval_id": f"lead_scoring:{brain.tenant}:early:1"}
        ],
    )
    # Bounded: without the hold, the signal is dropped and the run waits forever.
    result = await asyncio.wait_for(handle.result(), 30)
    assert result.state is RunState.COMPLETED
    [audit] = await brain.audit(handle.id)
    assert (audit.actor, audit.channel) == ("early-bird", "signal")


async def test_a_policy_change_naming_a_version_nobody_wrote_is_ignored(brain: Brain) -> None:
    handle = await brain.start()
    await parked(handle)
    # Signed (say, the key leaked, or a bug): still never applied.
    forged = {"process": "lead_scoring", "tenant": brain.tenant, "version": 999_999}
    await handle.signal(
        POLICY_CHANGED_SIGNAL, signed_change(handle.id, {**forged, "changed_by": "m"})
    )

    async def ignored() -> Any:
        status = await handle.query(LeadScoringWorkflow.status)
        return status if status.ignored_signals else None

    status = await eventually(ignored)
    assert "999999 does not exist" in status.ignored_signals[-1]
    assert status.state is RunState.AWAITING_APPROVAL
    await decide(handle, Action.REJECT)
    assert (await handle.result()).state is RunState.REJECTED
