"""Reading a run's history for ops: what failed, and the run's last good point (SPEC §4).

The last good point is where a reset resumes. It is not the first workflow task (that would
re-ask people for decisions they made) and not simply the last one (after a failed step that
fails again): it is the completion of the workflow task that scheduled the step that failed,
so the step runs again and everything recorded before it is kept. Decisions that arrived in
that same task (an Update is accepted in the task that then schedules the apply step) come
back because the reset reapplies signals and updates that follow the point.
"""

import contextlib
import json
from collections.abc import Sequence
from dataclasses import dataclass

from temporalio.api.enums.v1 import EventType, WorkflowTaskFailedCause
from temporalio.api.failure.v1 import Failure
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import WorkflowHistory

_WT_COMPLETED = EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED
_WT_FAILED = EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED
_SCHEDULED = EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
_ACTIVITY_CLOSED = frozenset(
    {
        EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED,
        EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED,
        EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT,
        EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED,
    }
)
# Failed workflow tasks that are a reset's own bookkeeping, not a problem.
_RESET_CAUSES = frozenset(
    {
        WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_RESET_WORKFLOW,
        WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_UPDATE,
    }
)
WORKFLOW_TASK_STEP = "workflow_task"


class NoResetPoint(Exception):
    """The history has no completed workflow task to resume from."""


@dataclass(frozen=True)
class FailureSummary:
    message: str | None
    # The activity type of the failing step, ``workflow_task`` for a run whose own code
    # keeps failing, None when nothing in particular failed (a terminated run, say).
    step: str | None
    failure_type: str | None = None


def _events(history: WorkflowHistory | Sequence[HistoryEvent]) -> list[HistoryEvent]:
    events = list(history.events if isinstance(history, WorkflowHistory) else history)
    if not events:
        raise NoResetPoint("the history is empty")
    return events


def find_reset_point(history: WorkflowHistory | Sequence[HistoryEvent]) -> int:
    """The event id of the WorkflowTaskCompleted event a reset of this run should resume at.

    - Failed because a step failed: the task that scheduled the step. For a regular
      activity that is its ``ActivityTaskScheduled`` event's workflow task; a local activity
      leaves only a ``MarkerRecorded`` event, written by the workflow task that ran it, so
      the point is the completion that precedes the failed marker (the step runs again when
      that task is redone).
    - Anything else (terminated, timed out, failed in workflow code, stuck): the last
      completed workflow task.
    """
    events = _events(history)
    point = _failed_step_point(events)
    return point if point is not None else last_completed_task(events)


def last_completed_task(events: Sequence[HistoryEvent]) -> int:
    for event in reversed(events):
        if event.event_type == _WT_COMPLETED:
            return event.event_id
    raise NoResetPoint("no workflow task of this run ever completed")


def _failed_step_point(events: Sequence[HistoryEvent]) -> int | None:
    last = events[-1]
    if not last.HasField("workflow_execution_failed_event_attributes"):
        return None
    activity = _activity_failure(last.workflow_execution_failed_event_attributes.failure)
    if activity is not None:
        by_id = {e.event_id: e for e in events}
        scheduled = by_id.get(activity.activity_failure_info.scheduled_event_id)
        if scheduled is not None and scheduled.event_type == _SCHEDULED:
            attrs = scheduled.activity_task_scheduled_event_attributes
            return attrs.workflow_task_completed_event_id
    marker = _failed_local_step(events)
    return (
        marker.marker_recorded_event_attributes.workflow_task_completed_event_id if marker else None
    )


def _activity_failure(failure: Failure) -> Failure | None:
    current: Failure | None = failure
    while current is not None:
        if current.HasField("activity_failure_info"):
            return current
        current = current.cause if current.HasField("cause") else None
    return None


def _failed_local_step(events: Sequence[HistoryEvent]) -> HistoryEvent | None:
    """The failed local activity's marker, when the run's final workflow task recorded it."""
    final_task = last_completed_task(events)
    for event in reversed(events):
        attrs = event.marker_recorded_event_attributes
        if event.HasField("marker_recorded_event_attributes") and attrs.HasField("failure"):
            return event if attrs.workflow_task_completed_event_id == final_task else None
    return None


def _marker_step(marker: HistoryEvent) -> str | None:
    """The local activity's type, from the metadata the SDK keeps in the marker."""
    data = marker.marker_recorded_event_attributes.details.get("data")
    for payload in data.payloads if data is not None else ():
        with contextlib.suppress(ValueError):
            value = json.loads(payload.data)
            if isinstance(value, dict) and value.get("activity_type"):
                return str(value["activity_type"])
    return None


def _innermost(failure: Failure) -> Failure:
    while failure.HasField("cause"):
        failure = failure.cause
    return failure


def _in_flight_step(events: Sequence[HistoryEvent]) -> str | None:
    """The activity that was scheduled and never closed (what a terminated run was doing)."""
    closed = {
        getattr(e, e.WhichOneof("attributes") or "").scheduled_event_id
        for e in events
        if e.event_type in _ACTIVITY_CLOSED
    }
    for event in reversed(events):
        if event.event_type == _SCHEDULED and event.event_id not in closed:
            return event.activity_task_scheduled_event_attributes.activity_type.name
    return None


def describe_failure(history: WorkflowHistory | Sequence[HistoryEvent]) -> FailureSummary:
    """What went wrong, in words an operator can act on, and in which step."""
    events = _events(history)
    last = events[-1]
    if last.HasField("workflow_execution_failed_event_attributes"):
        failure = last.workflow_execution_failed_event_attributes.failure
        activity = _activity_failure(failure)
        inner = _innermost(failure)
        marker = None if activity else _failed_local_step(events)
        step = activity.activity_failure_info.activity_type.name if activity else None
        return FailureSummary(
            message=inner.message or failure.message,
            step=step or (_marker_step(marker) if marker else None),
            failure_type=inner.application_failure_info.type or None,
        )
    if last.HasField("workflow_execution_terminated_event_attributes"):
        reason = last.workflow_execution_terminated_event_attributes.reason
        return FailureSummary(
            message=f"terminated: {reason}" if reason else "terminated",
            step=_in_flight_step(events),
        )
    if last.HasField("workflow_execution_timed_out_event_attributes"):
        return FailureSummary(message="the run timed out", step=_in_flight_step(events))
    for event in reversed(events):
        if event.event_type == _WT_FAILED:
            attrs = event.workflow_task_failed_event_attributes
            if attrs.cause in _RESET_CAUSES:
                continue
            return FailureSummary(
                message=_innermost(attrs.failure).message or attrs.failure.message,
                step=WORKFLOW_TASK_STEP,
                failure_type=WorkflowTaskFailedCause.Name(attrs.cause),
            )
    return FailureSummary(message=None, step=None)


def state_at(events: Sequence[HistoryEvent], point: int, attribute: str) -> str | None:
    """The last value a run upserted into the Keyword search attribute ``attribute`` before
    event ``point`` (what a run reset to ``point`` resumes as)."""
    for event in reversed(events):
        if event.event_id >= point:
            continue
        if not event.HasField("upsert_workflow_search_attributes_event_attributes"):
            continue
        fields = event.upsert_workflow_search_attributes_event_attributes.search_attributes
        payload = fields.indexed_fields.get(attribute)
        if payload is not None and payload.data:
            value = json.loads(payload.data)
            return value if isinstance(value, str) else None
    return None
