"""Every door that can decide proves who is behind it (SPEC §8), tried as an attacker with
access to Temporal would: Brain's own policy signal is signed, and one it did not sign is
refused and shown, never acted on; a policy's ``doors`` close the Temporal-side doors; a
typed name is eligible only when the policy names that person."""

import uuid
from typing import Any

import pytest
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError

from models.hitl import DecideRequest, PolicyChange
from models.processes import Action, Channel, Process, RunState
from models.workflow_io import ProcessResult, ProcessStart
from temporal.handlers import POLICY_CHANGED_SIGNAL
from tests.support import LEAD as LEAD_INPUT
from tests.support import (
    Brain,
    ai_result,
    decide,
    decided,
    eventually,
    parked,
    refusal,
    send_decide,
    signed_change,
)
from workflows.process_workflow import LeadScoringWorkflow

LEAD = Process("lead_scoring")


async def _refused(handle: WorkflowHandle, words: str) -> Any:
    async def shown() -> Any:
        status = await handle.query(LeadScoringWorkflow.status)
        return status if any(words in s for s in status.ignored_signals) else None

    return await eventually(shown)


async def test_a_forged_policy_signal_releases_nothing_and_writes_no_audit(brain: Brain) -> None:
    # The reproduction: quorum 2 and four-eyes, then a "policy change" from root at
    # a version nobody wrote, turning HITL off, sent by anyone with access to Temporal.
    await brain.set_policy(min_approvals=2, requester_may_approve=False)
    handle = await brain.start()
    status = await parked(handle)
    assert status.policy is not None
    policy = status.policy.model_dump(mode="json") | {
        "hitl_enabled": False,
        "confidence_threshold": 0.0,
        "min_approvals": 1,
        "requester_may_approve": True,
        "version": 999,
    }
    forged = {
        "process": "lead_scoring",
        "tenant": brain.tenant,
        "version": 999,
        "changed_by": "root",
        "policy": policy,
    }
    await handle.signal(POLICY_CHANGED_SIGNAL, forged)
    status = await _refused(handle, "not signed by Brain")
    assert status.state is RunState.AWAITING_APPROVAL and status.decision is None
    assert await brain.audit(handle.id) == []
    # A signature lifted from another run's change, or over another payload, fails alike.
    other = await brain.start()
    await parked(other)
    real = PolicyChange(
        process=LEAD, tenant=brain.tenant, version=status.policy.version, changed_by="root"
    )
    lifted = signed_change(other.id, real)
    await handle.signal(POLICY_CHANGED_SIGNAL, lifted)
    tampered = signed_change(handle.id, real) | {"policy": policy, "changed_by": "mallory"}
    await handle.signal(POLICY_CHANGED_SIGNAL, tampered)

    async def three_refused() -> Any:
        s = await handle.query(LeadScoringWorkflow.status)
        return s if sum("not signed by Brain" in i for i in s.ignored_signals) == 3 else None

    status = await eventually(three_refused)
    assert status.state is RunState.AWAITING_APPROVAL
    # The run is unharmed: two people still decide it.
    for voter in ("ann", "ben"):
        await decide(handle, Action.APPROVE, by=voter)
    result = await handle.result()
    assert result.state is RunState.COMPLETED and result.decision is not None
    assert result.decision.approvers == ["ann", "ben"]
    await decide(other, Action.REJECT, by="ann")


async def test_doors_api_closes_the_temporal_side_doors(brain: Brain) -> None:
    await brain.set_policy(doors=["api"])
    handle = await brain.start()
    status = await parked(handle)
    assert status.approval is not None and status.approval.doors == ["api"]
    await handle.signal(LeadScoringWorkflow.approve, {"by": "ops"})
    status = await _refused(handle, "DoorClosed")
    assert "only through: api" in status.ignored_signals[-1]
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await decide(handle, Action.APPROVE, by="ops", channel=Channel.CLI)
    assert refusal(refused.value).type == "DoorClosed"
    # An unsigned claim to the REST door is refused before the door is even considered.
    with pytest.raises(WorkflowUpdateFailedError) as unsigned:
        await send_decide(handle, DecideRequest(action=Action.APPROVE, by="ops"))
    assert refusal(unsigned.value).type == "UntrustedDoor"
    decision = await decided(handle, Action.APPROVE, by="ada")
    assert decision.channel is Channel.API
    assert (await handle.result()).state is RunState.COMPLETED


async def test_a_typed_name_counts_only_when_the_policy_names_that_person(brain: Brain) -> None:
    await brain.set_policy(approver_groups=["legal"], approver_subjects=["Carol"])
    handle = await brain.start()
    await parked(handle)
    await handle.signal(LeadScoringWorkflow.approve, {"by": "dave"})
    status = await _refused(handle, "NotEligible")
    assert "cannot prove group membership" in status.ignored_signals[-1]
    # Groups a Temporal-side caller claims are refused outright.
    with pytest.raises(WorkflowUpdateFailedError) as claimed:
        await decide(handle, Action.APPROVE, by="dave", channel=Channel.CLI, groups=["legal"])
    assert refusal(claimed.value).type == "UntrustedDoor"
    # The person named, typed in another case, is eligible.
    await handle.signal(LeadScoringWorkflow.approve, {"by": " carol"})
    result = await handle.result()
    assert result.decision is not None
    assert (result.decision.actor, result.decision.channel) == (" carol", Channel.SIGNAL)


async def test_the_cli_door_decides_as_an_operator_named_by_the_policy(brain: Brain) -> None:
    brain.model.default = ai_result(confidence=0.5)
    await brain.set_policy(approver_subjects=["ops"])
    handle = await brain.start()
    await parked(handle)
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await decide(handle, Action.REJECT, by="intern", channel=Channel.CLI)
    assert refusal(refused.value).type == "NotEligible"
    decision = await decided(handle, Action.REJECT, by="ops", channel=Channel.CLI)
    assert decision.channel is Channel.CLI
    assert (await handle.result()).state is RunState.REJECTED
    [audit] = await brain.audit(handle.id)
    assert (audit.actor, audit.channel, audit.decision) == ("ops", "cli", "reject")


async def test_a_run_parked_before_gate_5_checks_the_signature_of_later_changes(
    brain: Brain,
) -> None:
    """Runs already parked when this code was deployed are protected too: each policy
    signal that reaches them from now on must be Brain's (hitl/versions.py)."""
    start = ProcessStart(tenant=brain.tenant, requested_by="t", input=LEAD_INPUT, gate_version=4)
    handle = await brain.client.start_workflow(
        "LeadScoringWorkflow",
        start,
        id=f"lead_scoring:{brain.tenant}:v4-{uuid.uuid4().hex[:8]}",
        task_queue=brain.task_queue,
        result_type=ProcessResult,
    )
    status = await parked(handle)
    assert status.approval is not None
    assert status.approval.approval_id == f"{handle.id}:1" and status.approval.gate is None
    policy = await brain.set_policy(hitl_enabled=False, confidence_threshold=0.0)
    change = PolicyChange(
        process=LEAD, tenant=brain.tenant, version=policy.version, changed_by="root", policy=policy
    )
    await handle.signal(POLICY_CHANGED_SIGNAL, change.model_dump(mode="json"))
    await _refused(handle, "not signed by Brain")
    await handle.signal(POLICY_CHANGED_SIGNAL, signed_change(handle.id, change))
    result = await handle.result()
    assert (result.state, result.decision.channel) == (RunState.COMPLETED, Channel.POLICY)
