"""``workflow.patched`` in the gate (shown on lead scoring): histories from before the change
and after it both replay with the current code; without the patch the new ones would break."""

from pathlib import Path

from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from hitl.gate import GatedWorkflow
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


@workflow.defn(name="LeadScoringWorkflow")
class _BeforeThePatch(GatedWorkflow):
    """The code as it was: no early confidence upsert. (Lead scoring's class as
    workflows/process_workflow.py makes it, but for that: a type checker cannot subclass a
    class made at run time.)"""

    definition = LeadScoringWorkflow.definition

    @workflow.run
    async def run(self, start):  # type: ignore[no-untyped-def]
        return await self.run_process(start)

    def _publish_confidence(self) -> None:
        pass


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


async def test_rolling_back_the_patch_breaks_runs_recorded_with_it() -> None:
    replayed = await _replayer(_BeforeThePatch).replay_workflow(
        _load("lead_scoring_patched_approved"), raise_on_replay_failure=False
    )
    assert replayed.replay_failure is not None
