"""``brain ops patches``: how many open runs still need each path kept for earlier code
(hitl/PATCHES.md), so ops know when one can be retired.

Runs started from gate 5 on carry ``BrainGateVersion`` (a visibility count per version).
Older runs carry none: each is asked its version from the start of its history (the start's
``gate_version``, else the patch markers of its first task), which costs a read per run but
only for the runs from before gate 5, whose number only falls.
"""

import json
from collections import Counter
from dataclasses import dataclass

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from hitl.versions import GATE_V3, GATE_V4, GATE_V5, PATCHES
from models.workflow_io import GATE_VERSION
from temporal.search_attributes import BRAIN_GATE_VERSION

# Enough events to hold the start and the first workflow task's markers.
_FIRST_EVENTS = 40


@dataclass(frozen=True)
class PatchUse:
    patch: str
    where: str
    gate_versions: list[int]
    open_runs: int


@dataclass(frozen=True)
class PatchReport:
    open_runs_by_gate_version: dict[int, int]
    items: list[PatchUse]


async def report(client: Client, task_queue: str) -> PatchReport:
    scope = (
        f'ExecutionStatus = "Running" AND BrainProcess IS NOT NULL AND TaskQueue = "{task_queue}"'
    )
    by_version: Counter[int] = Counter()
    for version in range(5, GATE_VERSION + 1):
        query = f"{scope} AND {BRAIN_GATE_VERSION.name} = {version}"
        by_version[version] = (await client.count_workflows(query)).count
    async for run in client.list_workflows(f"{scope} AND {BRAIN_GATE_VERSION.name} IS NULL"):
        by_version[await _version(client, run.id, run.run_id)] += 1
    items = [
        PatchUse(
            patch=p.id,
            where=p.where,
            gate_versions=sorted(p.versions),
            open_runs=sum(by_version[v] for v in p.versions),
        )
        for p in PATCHES
    ]
    return PatchReport(dict(sorted(by_version.items())), items)


async def _version(client: Client, workflow_id: str, run_id: str | None) -> int:
    """The gate version of a run started before ``BrainGateVersion`` existed."""
    handle = client.get_workflow_handle(workflow_id, run_id=run_id)
    markers: set[str] = set()
    declared = 0
    async for event in handle.fetch_history_events(page_size=_FIRST_EVENTS):
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
            declared = _declared(event.workflow_execution_started_event_attributes.input)
        elif event.event_type == EventType.EVENT_TYPE_MARKER_RECORDED:
            details = event.marker_recorded_event_attributes.details.get("patch-data")
            if details is not None and details.payloads:
                markers.add(json.loads(details.payloads[0].data).get("id", ""))
        if event.event_id >= _FIRST_EVENTS:
            break
    if declared:
        return declared
    for version, marker in ((5, GATE_V5), (4, GATE_V4), (3, GATE_V3)):
        if marker in markers:
            return version
    return 2


def _declared(payloads: object) -> int:
    try:
        start = json.loads(payloads.payloads[0].data)  # type: ignore[attr-defined]
        return int(start.get("gate_version") or 0)
    except (AttributeError, IndexError, ValueError, TypeError):
        return 0
