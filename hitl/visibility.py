"""What the Temporal Web UI and visibility show of a run: its current details, its state
and confidence as search attributes, and where it waits (gate and deadline, the inbox's
columns). Written from workflow code, so replays rewrite the same."""

from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributeUpdate

from hitl.details import render_details
from hitl.state import GateState

with workflow.unsafe.imports_passed_through():
    from models.processes import RunState
    from processes import registry
    from temporal.search_attributes import (
        BRAIN_CONFIDENCE,
        BRAIN_DEADLINE,
        BRAIN_GATE,
        BRAIN_PROCESS,
        BRAIN_STATE,
        BRAIN_SUBJECT,
    )


def show(s: GateState, process: str) -> None:
    """Refresh the current details after anything a person should see changed."""
    info = workflow.info()
    gates = len(registry.definition(process).gates)
    workflow.set_current_details(
        render_details(info.workflow_id, process, s, gates=gates, namespace=info.namespace)
    )


def set_state(s: GateState, process: str, state: RunState, *, searchable: bool = True) -> None:
    if state is s.state:
        return
    s.state = state
    show(s, process)
    if not searchable or not carries_brain_attributes():
        return
    updates: list[SearchAttributeUpdate[Any]] = [BRAIN_STATE.value_set(state.value)]
    known = workflow.info().typed_search_attributes
    if s.ai is not None and (s.version < 5 or known.get(BRAIN_CONFIDENCE) is None):
        # Set once: the AI's confidence never changes after its step (runs before gate 5
        # wrote it at every change, and replay as they ran).
        updates.append(BRAIN_CONFIDENCE.value_set(s.ai.confidence))
    if s.version >= 5 and carries_inbox_attributes():
        # In the same write as the state: where it waits, and until when; gone once not.
        waiting = state is RunState.AWAITING_APPROVAL and s.approval is not None
        if waiting and s.gate is not None:
            updates.append(BRAIN_GATE.value_set(s.gate))
        if waiting and s.approval is not None:
            updates.append(BRAIN_DEADLINE.value_set(s.approval.expires_at))
        elif known.get(BRAIN_DEADLINE) is not None:
            updates.append(BRAIN_DEADLINE.value_unset())
    workflow.upsert_search_attributes(updates)


def carries_brain_attributes() -> bool:
    """Runs started by Brain carry its attributes from the start. A run started bare (the
    time-skipping test server, a namespace without them) must not upsert attributes the
    server does not know: that would fail every workflow task."""
    return workflow.info().typed_search_attributes.get(BRAIN_PROCESS) is not None


def carries_inbox_attributes() -> bool:
    """Runs started with ``BrainSubject`` were started on a namespace that has the inbox's
    attributes (registered together), so setting the gate and deadline cannot fail."""
    return workflow.info().typed_search_attributes.get(BRAIN_SUBJECT) is not None
