"""A policy change reaching a parked run: the policy the broadcast carries releases it with
no read of its own, and the apply step writes its audit row (as on the auto path)."""

import json

from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle

from models.hitl import RunStatus
from models.processes import Process, RunState
from models.tables import RunRow
from tests.support import Brain, ai_result, eventually, parked
from workflows.process_workflow import LeadScoringWorkflow


async def _local_activities(handle: WorkflowHandle) -> list[str]:
    """The local activities the run ran, in order, from their markers in its history."""
    history = await handle.fetch_history()
    return [
        json.loads(e.marker_recorded_event_attributes.details["data"].payloads[0].data)[
            "activity_type"
        ]
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
        and e.marker_recorded_event_attributes.marker_name == "core_local_activity"
    ]


async def test_a_carried_policy_releases_the_run_without_reading_it(brain: Brain) -> None:
    brain.model.default = ai_result(confidence=0.8)
    handle = await brain.start()
    await parked(handle)
    await brain.set_policy(hitl_enabled=False, confidence_threshold=0.7)
    policy = await brain.policies.effective(Process("lead_scoring"), brain.tenant)
    await brain.policy_changed(handle, policy)
    assert (await handle.result()).state is RunState.COMPLETED
    [audit] = await brain.audit(handle.id)
    assert (audit.channel, audit.actor, audit.policy_version) == ("policy", "root", policy.version)
    # No policy read on release (only the check that Brain signed the change), no separate
    # audit step before applying; and applied within the task that released it, since the
    # release rests on history alone (the signed change it carried).
    assert await _local_activities(handle) == ["park", "verify_brain_signal", "apply_lead"]
    row = await brain.run_row(handle.id)
    assert row is not None and row.state == "completed"
    assert row.decision is not None and row.decision["channel"] == "policy"


async def test_without_a_carried_policy_the_run_reads_its_own(brain: Brain) -> None:
    brain.model.default = ai_result(confidence=0.8)
    handle = await brain.start()
    await parked(handle)
    await brain.set_policy(hitl_enabled=False, confidence_threshold=0.7)
    await brain.policy_changed(handle, None)
    assert (await handle.result()).state is RunState.COMPLETED
    assert await _local_activities(handle) == [
        "park",
        "verify_brain_signal",
        "refresh_policy",
    ]
    [audit] = await brain.audit(handle.id)
    assert audit.channel == "policy"


async def test_a_policy_for_another_tenant_is_not_trusted(brain: Brain) -> None:
    brain.model.default = ai_result(confidence=0.8)
    handle = await brain.start()
    await parked(handle)
    await brain.set_policy(approval_timeout_seconds=7200)  # a new version; HITL still on
    own = await brain.policies.effective(Process("lead_scoring"), brain.tenant)
    foreign = own.model_copy(
        update={"tenant": "someone-else", "hitl_enabled": False, "confidence_threshold": 0.0}
    )
    await brain.policy_changed(handle, foreign)

    async def refreshed() -> RunStatus | None:
        status = await handle.query(LeadScoringWorkflow.status)
        return (
            status if status.policy is not None and status.policy.version == own.version else None
        )

    status = await eventually(refreshed)
    assert status.state is RunState.AWAITING_APPROVAL
    assert status.policy is not None and status.policy.hitl_enabled
    assert await _local_activities(handle) == [
        "park",
        "verify_brain_signal",
        "refresh_policy",
    ]
    await handle.signal(LeadScoringWorkflow.reject, {"by": "ops"})
    assert (await handle.result()).state is RunState.REJECTED


async def test_a_change_that_keeps_the_run_parked_updates_its_row(brain: Brain) -> None:
    brain.model.default = ai_result(confidence=0.8)
    handle = await brain.start()
    await parked(handle)
    # Autonomous now, but 0.8 is below the new threshold: still a person's call.
    await brain.set_policy(
        hitl_enabled=False, confidence_threshold=0.9, approval_timeout_seconds=600
    )
    policy = await brain.policies.effective(Process("lead_scoring"), brain.tenant)
    await brain.policy_changed(handle, policy)

    async def row_updated() -> RunRow | None:
        row = await brain.run_row(handle.id)
        ok = row is not None and row.approval and row.approval["threshold"] == 0.9
        return row if ok else None

    row = await eventually(row_updated)
    assert row.state == "awaiting_approval" and row.policy_version == policy.version
    status = await handle.query(LeadScoringWorkflow.status)
    approval = status.approval
    assert approval is not None and approval.threshold == 0.9
    assert (approval.expires_at - approval.requested_at).total_seconds() == 600
    await handle.signal(LeadScoringWorkflow.approve, {"by": "ops"})
    assert (await handle.result()).state is RunState.COMPLETED
