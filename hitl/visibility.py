"""What the Temporal Web UI and visibility show of a run: its current details, its state
and confidence as search attributes. Written from workflow code, so replays rewrite the same."""

from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributeUpdate

from hitl.details import render_details
from hitl.state import GateState
from hitl.versions import CONFIDENCE_EARLY

with workflow.unsafe.imports_passed_through():
    from models.processes import RunState
    from temporal.search_attributes import BRAIN_CONFIDENCE, BRAIN_PROCESS, BRAIN_STATE


def show(s: GateState, process: str) -> None:
    """Refresh the current details after anything a person should see changed."""
    workflow.set_current_details(render_details(workflow.info().workflow_id, process, s))


def set_state(s: GateState, process: str, state: RunState, *, searchable: bool = True) -> None:
    if state is s.state:
        return
    s.state = state
    show(s, process)
    if not searchable or not carries_brain_attributes():
        return
    updates: list[SearchAttributeUpdate[Any]] = [BRAIN_STATE.value_set(state.value)]
    if s.ai is not None:
        updates.append(BRAIN_CONFIDENCE.value_set(s.ai.confidence))
    workflow.upsert_search_attributes(updates)


def publish_confidence(s: GateState) -> None:
    """Runs before gate 4 made confidence searchable right after the AI step (gate 4 makes
    it searchable with the state: at parking or completion, one visibility write less)."""
    assert s.ai is not None
    if s.version >= 4:
        return
    if not s.current and not workflow.patched(CONFIDENCE_EARLY):
        return
    if carries_brain_attributes():
        workflow.upsert_search_attributes([BRAIN_CONFIDENCE.value_set(s.ai.confidence)])


def carries_brain_attributes() -> bool:
    """Runs started by Brain carry its attributes from the start. A run started bare (the
    time-skipping test server, a namespace without them) must not upsert attributes the
    server does not know: that would fail every workflow task."""
    return workflow.info().typed_search_attributes.get(BRAIN_PROCESS) is not None
