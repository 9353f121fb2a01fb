"""What a run asks of Temporal, counted from its history (issue 24: the fewest hops and round
trips the guarantees need, per path): workflow tasks, activities, local activities, patch
markers, search-attribute upserts, workflow property (memo) modifications, signals,
updates, timers, and the history's size: its events, its payloads and their bytes (each
payload is serialized by the SDK and stored and sent by the server: a proxy for the
serialization cost)."""

from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from temporalio.api.common.v1 import Payload
from temporalio.api.enums.v1 import EventType

# The SDK's marker names (sdk-core): one marker per local activity, one per patch.
LOCAL_ACTIVITY_MARKER = "core_local_activity"
PATCH_MARKER = "core_patch"

# The counts, in the order the report shows them.
KEYS = (
    "workflow_tasks",
    "activities",
    "local_activities",
    "patch_markers",
    "search_attribute_upserts",
    "properties_modified",
    "signals",
    "updates",
    "timers",
    "timer_cancels",
    "events",
    "payloads",
    "payload_bytes",
)

_BY_TYPE = {
    EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED: "workflow_tasks",
    EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED: "activities",
    EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES: "search_attribute_upserts",
    EventType.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED: "properties_modified",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED: "signals",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED: "updates",
    EventType.EVENT_TYPE_TIMER_STARTED: "timers",
    EventType.EVENT_TYPE_TIMER_CANCELED: "timer_cancels",
}
_MARKERS = {LOCAL_ACTIVITY_MARKER: "local_activities", PATCH_MARKER: "patch_markers"}


def count(events: Sequence[Any]) -> dict[str, int]:
    """The counts over ``events`` (``HistoryEvent`` messages), every key of ``KEYS``."""
    out: Counter[str] = Counter({k: 0 for k in KEYS})
    for e in events:
        out["events"] += 1
        key = _BY_TYPE.get(e.event_type)
        if key is not None:
            out[key] += 1
        elif e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED:
            marker = _MARKERS.get(e.marker_recorded_event_attributes.marker_name)
            if marker is not None:
                out[marker] += 1
        for payload in payloads(e):
            out["payloads"] += 1
            out["payload_bytes"] += payload.ByteSize()
    return {k: out[k] for k in KEYS}


def payloads(msg: Message) -> Iterator[Payload]:
    """Every ``Payload`` inside ``msg``, however deep (inputs, results, failures' details,
    headers, memo, search attributes, user metadata), each once."""
    for field, value in msg.ListFields():
        if field.type != FieldDescriptor.TYPE_MESSAGE:
            continue
        items: Any
        entry = field.message_type
        assert entry is not None  # a message field names its message type
        if entry.GetOptions().map_entry:
            if entry.fields_by_name["value"].type != FieldDescriptor.TYPE_MESSAGE:
                continue
            items = value.values()
        elif field.is_repeated:
            items = value
        else:
            items = (value,)
        for item in items:
            if isinstance(item, Payload):
                yield item
            else:
                yield from payloads(item)
