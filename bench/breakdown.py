"""Where a run's time goes, read from its Temporal history: waits in task queues (workflow
tasks and activities waiting for a worker slot) against time spent working; and what the run
asked of Temporal on the way (``hops``: tasks, markers, upserts, events, payloads)."""

import asyncio
import statistics
import time
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from bench import hops

_WFT_SCHEDULED = EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED
_WFT_STARTED = EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED
_WFT_COMPLETED = EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED
_ACT_SCHEDULED = EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
_ACT_STARTED = EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED
_ACT_COMPLETED = EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED
_SIGNALED = EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
_UPDATE_ACCEPTED = EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED
# A history ending in one of these has a task in flight: more events are on their way.
_IN_FLIGHT = {_WFT_SCHEDULED, _WFT_STARTED, _ACT_SCHEDULED, _ACT_STARTED}
_SETTLE_WITHIN = 60.0


def _decision_index(events: list[Any]) -> int:
    """Where the decision entered the history: a Signal's event, or for an Update the
    workflow task that ran its handler (the Update's events follow that task)."""
    for i, e in enumerate(events):
        if e.event_type == _SIGNALED:
            return i
        if e.event_type == _UPDATE_ACCEPTED:
            while i > 0 and events[i].event_type != _WFT_SCHEDULED:
                i -= 1
            return i
    return 0


def _ms(a: Timestamp, b: Timestamp) -> float:
    return (b.ToDatetime() - a.ToDatetime()).total_seconds() * 1000


async def _events(client: Client, workflow_id: str, settled: bool) -> list[Any]:
    """The run's history; ``settled``: once no task is in flight (an open run that parked:
    the workflow task that parked it has completed)."""
    deadline = time.monotonic() + _SETTLE_WITHIN
    while True:
        events = list((await client.get_workflow_handle(workflow_id).fetch_history()).events)
        if not settled or events[-1].event_type not in _IN_FLIGHT:
            return events
        if time.monotonic() > deadline:
            raise RuntimeError(f"{workflow_id}: a task still in flight after {_SETTLE_WITHIN} s")
        await asyncio.sleep(0.05)


async def one(
    client: Client, workflow_id: str, from_decision: bool = False, settled: bool = False
) -> dict[str, Any]:
    """``from_decision``: count only what follows the decision (the Update's workflow task,
    or the Signal: a person's, or the policy change that released the run), not the run's
    start and its parked wait. ``hops``: ``hops.count`` over the same events. ``settled``:
    of an open run, once nothing is in flight."""
    events = await _events(client, workflow_id, settled)
    by_id = {e.event_id: e for e in events}
    if from_decision:
        events = events[_decision_index(events) :]
    out: dict[str, Any] = {
        "workflow_tasks": 0.0,
        "workflow_task_queue_ms": 0.0,
        "workflow_task_work_ms": 0.0,
        "activities": 0.0,
        "activity_queue_ms": 0.0,
        "activity_work_ms": 0.0,
        "total_ms": _ms(events[0].event_time, events[-1].event_time),
    }
    for e in events:
        if e.event_type == _WFT_STARTED:
            sched = by_id[e.workflow_task_started_event_attributes.scheduled_event_id]
            out["workflow_tasks"] += 1
            out["workflow_task_queue_ms"] += _ms(sched.event_time, e.event_time)
        elif e.event_type == _WFT_COMPLETED:
            started = by_id[e.workflow_task_completed_event_attributes.started_event_id]
            out["workflow_task_work_ms"] += _ms(started.event_time, e.event_time)
        elif e.event_type == _ACT_STARTED:
            sched = by_id[e.activity_task_started_event_attributes.scheduled_event_id]
            out["activities"] += 1
            out["activity_queue_ms"] += _ms(sched.event_time, e.event_time)
        elif e.event_type == _ACT_COMPLETED:
            started = by_id[e.activity_task_completed_event_attributes.started_event_id]
            out["activity_work_ms"] += _ms(started.event_time, e.event_time)
    out["hops"] = hops.count(events)
    return out


async def mean(
    client: Client, workflow_ids: list[str], from_decision: bool = False, settled: bool = False
) -> dict[str, Any]:
    """Per-run means over ``workflow_ids``; the rest of ``total_ms`` is transit between them.
    ``hops``: the per-run means of the counts (a fraction says the runs differed)."""
    rows = [await one(client, wid, from_decision, settled) for wid in workflow_ids]
    if not rows:
        return {}
    avg: dict[str, Any] = {
        k: round(statistics.fmean(r[k] for r in rows), 1) for k in rows[0] if k != "hops"
    }
    accounted = sum(v for k, v in avg.items() if k.endswith("_ms") and k != "total_ms")
    avg["other_ms"] = round(avg["total_ms"] - accounted, 1)
    avg["runs_sampled"] = len(rows)
    avg["hops"] = {k: round(statistics.fmean(r["hops"][k] for r in rows), 2) for k in hops.KEYS}
    return avg


async def hops_of(client: Client, workflow_ids: list[str], settled: bool = False) -> dict[str, Any]:
    """The per-run means of ``hops.count`` over the whole histories of ``workflow_ids`` (runs
    still open: what they did so far), and how many were sampled."""
    found = await mean(client, workflow_ids, settled=settled)
    if not found:
        return {}
    return {**found["hops"], "runs_sampled": found["runs_sampled"]}
