"""bench/hops.py counts what a history holds: each kind of hop once, and every payload
however it is nested (a list, a map of payloads, a map of payload lists)."""

from temporalio.api.common.v1 import Header, Memo, Payload, Payloads, SearchAttributes
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import (
    HistoryEvent,
    MarkerRecordedEventAttributes,
    UpsertWorkflowSearchAttributesEventAttributes,
    WorkflowExecutionStartedEventAttributes,
)

from bench import hops


def _p(data: bytes) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=data)


def test_counts_hops_and_every_nested_payload() -> None:
    started = HistoryEvent(
        event_type=EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
        workflow_execution_started_event_attributes=WorkflowExecutionStartedEventAttributes(
            input=Payloads(payloads=[_p(b"1"), _p(b"22")]),
            header=Header(fields={"h": _p(b"3")}),
            memo=Memo(fields={"m": _p(b"4")}),
            search_attributes=SearchAttributes(indexed_fields={"s": _p(b"5")}),
        ),
    )
    marker = HistoryEvent(
        event_type=EventType.EVENT_TYPE_MARKER_RECORDED,
        marker_recorded_event_attributes=MarkerRecordedEventAttributes(
            marker_name=hops.LOCAL_ACTIVITY_MARKER,
            details={"data": Payloads(payloads=[_p(b"6")]), "result": Payloads()},
        ),
    )
    patch = HistoryEvent(
        event_type=EventType.EVENT_TYPE_MARKER_RECORDED,
        marker_recorded_event_attributes=MarkerRecordedEventAttributes(
            marker_name=hops.PATCH_MARKER
        ),
    )
    upsert = HistoryEvent(
        event_type=EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES,
        upsert_workflow_search_attributes_event_attributes=(
            UpsertWorkflowSearchAttributesEventAttributes(
                search_attributes=SearchAttributes(indexed_fields={"a": _p(b"7"), "b": _p(b"8")})
            )
        ),
    )
    tasks = [
        HistoryEvent(event_type=EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED),
        HistoryEvent(event_type=EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED),
        HistoryEvent(event_type=EventType.EVENT_TYPE_TIMER_STARTED),
        HistoryEvent(event_type=EventType.EVENT_TYPE_TIMER_CANCELED),
        HistoryEvent(event_type=EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED),
        HistoryEvent(event_type=EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED),
        HistoryEvent(event_type=EventType.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED),
    ]
    found = hops.count([started, marker, patch, upsert, *tasks])
    assert found["payloads"] == 8
    assert found["payload_bytes"] == sum(
        _p(d).ByteSize() for d in (b"1", b"22", b"3", b"4", b"5", b"6", b"7", b"8")
    )
    assert found["events"] == 11
    assert {k: v for k, v in found.items() if k not in ("payloads", "payload_bytes", "events")} == {
        "workflow_tasks": 1,
        "activities": 1,
        "local_activities": 1,
        "patch_markers": 1,
        "search_attribute_upserts": 1,
        "properties_modified": 1,
        "signals": 1,
        "updates": 1,
        "timers": 1,
        "timer_cancels": 1,
    }
