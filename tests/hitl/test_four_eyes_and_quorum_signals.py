"""Four-eyes and quorum over the signal door (SPEC §3): a refused vote is logged and
ignored, never breaking the run, and shows in ``status().ignored_signals``."""

from temporalio.client import WorkflowHandle

from models.processes import RunState
from processes.lead_scoring import LeadRow
from tests.support import Brain, eventually, parked
from workflows.process_workflow import LeadScoringWorkflow


async def _ignored(handle: WorkflowHandle, count: int) -> list[str]:
    async def check() -> list[str] | None:
        status = await handle.query(LeadScoringWorkflow.status)
        return status.ignored_signals if len(status.ignored_signals) == count else None

    return await eventually(check)


async def test_the_requesters_signal_is_ignored_under_four_eyes(brain: Brain) -> None:
    await brain.set_policy(requester_may_approve=False)
    handle = await brain.start()  # requested by "tester"
    status = await parked(handle)
    assert status.approval is not None
    assert status.requested_by == "tester" and not status.approval.requester_may_approve

    await handle.signal(LeadScoringWorkflow.approve, {"by": "tester", "comment": "mine"})
    [reason] = await _ignored(handle, 1)
    assert "FourEyes" in reason and "tester" in reason
    status = await handle.query(LeadScoringWorkflow.status)
    assert status.approval is not None
    assert status.state is RunState.AWAITING_APPROVAL and status.approval.votes == []

    await handle.signal(LeadScoringWorkflow.approve, {"by": "ops"})
    assert (await handle.result()).state is RunState.COMPLETED
    [audit] = await brain.audit(handle.id)
    assert (audit.actor, audit.channel, audit.approvers) == ("ops", "signal", ["ops"])


async def test_a_quorum_over_signals_counts_each_person_once(brain: Brain) -> None:
    await brain.set_policy(min_approvals=2)
    handle = await brain.start()
    await parked(handle)

    await handle.signal(LeadScoringWorkflow.approve, {"by": "alice"})
    await handle.signal(LeadScoringWorkflow.approve, {"by": "alice", "comment": "again"})
    [reason] = await _ignored(handle, 1)
    assert "AlreadyVoted" in reason
    status = await handle.query(LeadScoringWorkflow.status)
    assert status.approval is not None and [v.actor for v in status.approval.votes] == ["alice"]
    assert status.state is RunState.AWAITING_APPROVAL

    await handle.signal(LeadScoringWorkflow.approve, {"by": "bob"})
    result = await handle.result()
    assert result.state is RunState.COMPLETED
    assert result.decision is not None and result.decision.approvers == ["alice", "bob"]
    [audit] = await brain.audit(handle.id)
    assert (audit.actor, audit.channel, audit.approvers) == ("bob", "signal", ["alice", "bob"])
    assert len(await brain.rows(LeadRow, handle.id)) == 1


async def test_a_reject_signal_vetoes_a_quorum(brain: Brain) -> None:
    await brain.set_policy(min_approvals=3, requester_may_approve=False)
    handle = await brain.start()
    await parked(handle)
    await handle.signal(LeadScoringWorkflow.approve, {"by": "alice"})
    # The requester may still say no: four-eyes bars approving one's own run only.
    await handle.signal(LeadScoringWorkflow.reject, {"by": "tester", "comment": "withdrawn"})
    result = await handle.result()
    assert result.state is RunState.REJECTED
    assert result.decision is not None and result.decision.actor == "tester"
    [audit] = await brain.audit(handle.id)
    assert (audit.decision, audit.approvers) == ("reject", None)
    assert await brain.rows(LeadRow, handle.id) == []
