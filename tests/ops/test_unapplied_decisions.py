"""Every decision is audited once, applied or not: the auto path and a policy release leave
their audit row to the apply step, so a run whose apply step fails for good is audited
when its failure is recorded."""

from temporalio.client import WorkflowFailureError, WorkflowHandle

from models.processes import Process
from tests.ops.conftest import Guard
from tests.support import Brain, ai_result, eventually, parked


async def _failed(brain: Brain, handle: WorkflowHandle) -> None:
    try:
        await handle.result()
    except WorkflowFailureError:
        pass
    else:
        raise AssertionError("the apply step was refused; the run should have failed")

    async def row_failed() -> bool:
        row = await brain.run_row(handle.id)
        return row is not None and row.state == "failed"

    await eventually(row_failed)


async def test_an_auto_decision_whose_apply_fails_is_audited(brain: Brain, guard: Guard) -> None:
    await brain.set_policy(hitl_enabled=False, confidence_threshold=0.5)
    handle = await brain.start()
    await _failed(brain, handle)
    [audit] = await brain.audit(handle.id)
    assert (audit.channel, audit.actor, audit.decision) == ("auto", "brain", "approve")
    assert guard.refused == 1


async def test_a_policy_release_whose_apply_fails_is_audited(brain: Brain, guard: Guard) -> None:
    brain.model.default = ai_result(confidence=0.8)
    handle = await brain.start()
    await parked(handle)
    await brain.set_policy(hitl_enabled=False, confidence_threshold=0.7)
    policy = await brain.policies.effective(Process("lead_scoring"), brain.tenant)
    await brain.policy_changed(handle, policy)
    await _failed(brain, handle)
    [audit] = await brain.audit(handle.id)
    assert (audit.channel, audit.actor, audit.policy_version) == ("policy", "root", policy.version)
