"""The last good point (services/history.py) on recorded histories, and on a live run whose
failing step is a local activity."""

import uuid
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client, WorkflowFailureError, WorkflowHistory
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.worker import Worker

from services import history, replay
from temporal.search_attributes import BRAIN_PROCESS, BRAIN_STATE, BRAIN_TENANT
from tests.ops import local_step_workflow as local

HISTORIES = Path(__file__).parents[1] / "histories"


def _load(name: str) -> WorkflowHistory:
    return WorkflowHistory.from_json(name, (HISTORIES / f"{name}.json").read_text())


def _event(h: WorkflowHistory, event_id: int) -> HistoryEvent:
    return next(e for e in h.events if e.event_id == event_id)


def test_a_failed_apply_resumes_at_the_task_that_scheduled_it() -> None:
    h = _load("lead_scoring_apply_failed")
    point = history.find_reset_point(h)
    assert _event(h, point).event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED
    [apply] = [
        e
        for e in h.events
        if e.activity_task_scheduled_event_attributes.activity_type.name == "apply_lead"
    ]
    assert apply.activity_task_scheduled_event_attributes.workflow_task_completed_event_id == point
    # Everything before the point is kept: the AI step and the opened gate (parked).
    kept = [e for e in h.events if e.event_id < point]
    assert any(
        e.activity_task_scheduled_event_attributes.activity_type.name == "score_lead" for e in kept
    )
    assert history.state_at(h.events, point, BRAIN_STATE.name) == "awaiting_approval"
    # Not the first task (would re-ask the AI and the approver), not the last (fails again).
    completed = [
        e.event_id for e in h.events if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED
    ]
    assert completed[0] < point < completed[-1]

    summary = history.describe_failure(h)
    assert (summary.step, summary.message, summary.failure_type) == (
        "apply_lead",
        "the CRM is down",
        "ApplyFailed",
    )


def test_a_terminated_run_resumes_at_its_last_completed_task() -> None:
    h = _load("lead_scoring_terminated")
    completed = [
        e.event_id for e in h.events if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED
    ]
    assert history.find_reset_point(h) == completed[-1]
    assert history.describe_failure(h).message == "terminated: recorded: terminated while parked"


@pytest.mark.parametrize("name", ["lead_scoring_approved", "campaign_tuning_auto"])
def test_a_completed_history_has_nothing_failed(name: str) -> None:
    summary = history.describe_failure(_load(name))
    assert summary.step is None and summary.message is None


def test_an_empty_history_has_no_reset_point() -> None:
    with pytest.raises(history.NoResetPoint):
        history.find_reset_point([])


async def test_a_failed_local_activity_step_runs_again_after_a_reset(client: Client) -> None:
    queue = f"ops-local-{uuid.uuid4().hex[:8]}"
    local.BROKEN["local"], local.CALLS["fetch"], local.CALLS["record"] = True, 0, 0
    wid = f"local-step-{uuid.uuid4().hex[:8]}"
    attrs = TypedSearchAttributes(
        [SearchAttributePair(BRAIN_PROCESS, "lead_scoring"), SearchAttributePair(BRAIN_TENANT, "t")]
    )
    async with Worker(
        client,
        task_queue=queue,
        workflows=[local.LocalStepWorkflow],
        activities=[local.fetch, local.record],
    ):
        handle = await client.start_workflow(
            local.LocalStepWorkflow.run, id=wid, task_queue=queue, search_attributes=attrs
        )
        with pytest.raises(WorkflowFailureError):
            await handle.result()
        h = await handle.fetch_history()
        point = history.find_reset_point(h)
        [marker] = [e for e in h.events if e.marker_recorded_event_attributes.HasField("failure")]
        assert point == marker.marker_recorded_event_attributes.workflow_task_completed_event_id
        assert history.describe_failure(h).step == "record"

        local.BROKEN["local"] = False
        [item] = await replay.replay(client, tenant="t", workflow_id=wid)
        assert item.outcome == "replayed" and item.reset_event_id == point
        done = client.get_workflow_handle(wid, run_id=item.new_run_id, result_type=str)
        assert await done.result() == "recorded fetched"
    # The step before it was kept; only the failed local step ran again.
    assert local.CALLS == {"fetch": 1, "record": 2}
