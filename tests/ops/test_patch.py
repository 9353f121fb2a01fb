"""``workflow.patched`` in the gate (shown on lead scoring): histories from before the change
and after it both replay with the current code; without the patch the new ones would break."""

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from hitl import legacy
from hitl.versions import CONFIDENCE_EARLY
from temporal.sandbox import WORKFLOW_RUNNER
from workflows.process_workflow import LeadScoringWorkflow

HISTORIES = Path(__file__).parents[1] / "histories"


def _load(name: str) -> WorkflowHistory:
    return WorkflowHistory.from_json(name, (HISTORIES / f"{name}.json").read_text())


def _patches(h: WorkflowHistory) -> list[str]:
    return [
        e.marker_recorded_event_attributes.details["patch-data"].payloads[0].data.decode()
        for e in h.events
        if e.marker_recorded_event_attributes.marker_name == "core_patch"
    ]


def _replayer(*workflows: type) -> Replayer:
    return Replayer(
        workflows=list(workflows),
        data_converter=pydantic_data_converter,
        workflow_runner=WORKFLOW_RUNNER,
    )


async def test_old_and_new_histories_replay_with_the_patched_code() -> None:
    old, new = _load("lead_scoring_approved"), _load("lead_scoring_patched_approved")
    assert _patches(old) == [] and CONFIDENCE_EARLY in _patches(new)[0]
    for history in (old, new):
        await _replayer(LeadScoringWorkflow).replay_workflow(history)


async def test_rolling_back_the_patch_breaks_runs_recorded_with_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The code as it was before the patch: no early confidence upsert (the gate's module is
    # shared with the sandbox, hitl being passed through: temporal/sandbox.py).
    monkeypatch.setattr(legacy, "_publish_confidence", lambda flow: None)
    replayed = await _replayer(LeadScoringWorkflow).replay_workflow(
        _load("lead_scoring_patched_approved"), raise_on_replay_failure=False
    )
    failure = replayed.replay_failure
    assert failure is not None
    assert "nondetermin" in f"{type(failure).__name__} {failure}".lower(), failure
