"""The REST door proves itself (issue 10): a Temporal-side caller of the ``decide`` Update
cannot pass for the REST API (channel ``api``) nor claim the gate's own channels; the
signature binds the run and every field, so one seen in a history is no use elsewhere."""

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from hitl.gate import GatedWorkflow
from models.hitl import DecideRequest, Decision
from models.processes import Action, Channel
from temporal import door, errors
from tests.support import Brain, decide, parked, send_decide, signed


async def _refused(brain: Brain, request: DecideRequest) -> str:
    handle = await brain.start()
    await parked(handle)
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await send_decide(handle, request)
    cause = refused.value.cause
    assert isinstance(cause, ApplicationError)
    await handle.signal(GatedWorkflow.reject, {"by": "ops"})
    await handle.result()
    return cause.type or ""


async def test_an_unsigned_api_claim_is_refused(brain: Brain) -> None:
    request = DecideRequest(action=Action.APPROVE, by="mallory", channel=Channel.API)
    assert await _refused(brain, request) == errors.UNTRUSTED_DOOR


@pytest.mark.parametrize("channel", [Channel.POLICY, Channel.TIMEOUT, Channel.AUTO])
async def test_the_gates_own_channels_cannot_be_claimed(brain: Brain, channel: Channel) -> None:
    request = DecideRequest(action=Action.APPROVE, by="mallory", channel=channel)
    assert await _refused(brain, request) == errors.UNTRUSTED_DOOR


async def test_a_signature_for_another_request_or_run_is_refused(brain: Brain) -> None:
    handle = await brain.start()
    await parked(handle)
    approve = DecideRequest(action=Action.APPROVE, by="alice")
    stolen = signed(handle.id, approve)
    for forged in (
        stolen.model_copy(update={"edits": {"score": 5}}),  # other fields, same signature
        stolen.model_copy(update={"by": "mallory"}),
        signed("another-workflow", approve),  # signed for another run
        approve.model_copy(update={"door_signature": door.sign(b"k" * 32, handle.id, {})}),
    ):
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await send_decide(handle, forged)
        assert isinstance(refused.value.cause, ApplicationError)
        assert refused.value.cause.type == errors.UNTRUSTED_DOOR
    # The genuine request goes through.
    decision = await decide(handle, Action.APPROVE, by="alice")
    assert isinstance(decision, Decision) and decision.channel is Channel.API


async def test_an_operator_decides_over_channel_signal(brain: Brain) -> None:
    handle = await brain.start()
    await parked(handle)
    decision = await decide(handle, Action.REJECT, by="ops", channel=Channel.SIGNAL)
    assert isinstance(decision, Decision)
    assert (decision.actor, decision.channel) == ("ops", Channel.SIGNAL)
    await handle.result()  # the rejection is audited by its own step, after the decision
    [audit] = await brain.audit(handle.id)
    assert (audit.actor, audit.channel) == ("ops", "signal")
