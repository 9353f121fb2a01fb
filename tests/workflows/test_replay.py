"""Recorded histories replay with the current code: a non-deterministic change to a
workflow fails here, before it can break runs parked in production.

Re-record after an intended change: ``.venv/bin/python scripts/record_histories.py``.
"""

from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from temporal.sandbox import WORKFLOW_RUNNER
from workers.registry import WORKFLOWS
from workflows.lead_scoring_workflow import LeadScoringWorkflow

HISTORIES = sorted((Path(__file__).parents[1] / "histories").glob("*.json"))


def _history(path: Path) -> WorkflowHistory:
    return WorkflowHistory.from_json(path.stem, path.read_text())


def test_there_are_histories_for_every_process() -> None:
    names = {p.stem for p in HISTORIES}
    for process in ("lead_scoring", "product_sourcing", "campaign_tuning", "content_generation"):
        assert {f"{process}_approved", f"{process}_auto"} <= names


@pytest.mark.parametrize("path", HISTORIES, ids=lambda p: p.stem)
async def test_history_replays_with_current_code(path: Path) -> None:
    replayer = Replayer(
        workflows=WORKFLOWS, data_converter=pydantic_data_converter, workflow_runner=WORKFLOW_RUNNER
    )
    await replayer.replay_workflow(_history(path))


@workflow.defn(name="LeadScoringWorkflow")
class _ReorderedLeadScoring(LeadScoringWorkflow):
    """A careless change: the gate now reads the policy before asking the AI."""

    @workflow.run
    async def run(self, start):  # type: ignore[no-untyped-def, override]
        await workflow.sleep(1)
        return await super().run(start)


async def test_a_non_deterministic_change_fails_replay() -> None:
    replayer = Replayer(
        workflows=[_ReorderedLeadScoring],
        data_converter=pydantic_data_converter,
        workflow_runner=WORKFLOW_RUNNER,
    )
    path = next(p for p in HISTORIES if p.stem == "lead_scoring_approved")
    result = await replayer.replay_workflow(_history(path), raise_on_replay_failure=False)
    assert result.replay_failure is not None
    assert (
        "Nondeterminism" in type(result.replay_failure).__name__
        or "nondetermin" in str(result.replay_failure).lower()
    )
