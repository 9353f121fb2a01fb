"""Recorded histories replay with the current code: a non-deterministic change to a
workflow fails here, before it can break runs parked in production.

Two kinds of files in ``tests/histories/``: single histories (``<name>.json``, recorded by
``scripts/record_histories.py``, some from before a patch) and one bundle per process and
gate version (``<process>@<gate>.json``, ``scripts/record_process_histories.py``). Both are
added, never overwritten, so old shapes keep proving that old runs replay.
"""

import json
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

with workflow.unsafe.imports_passed_through():
    # This module defines a workflow: the sandbox re-imports it, not these.
    from hitl.gate import GatedWorkflow
    from models.workflow_io import ProcessResult, ProcessStart
    from temporal.sandbox import WORKFLOW_RUNNER
    from workers.registry import WORKFLOWS
    from workflows.process_workflow import LeadScoringWorkflow

DIR = Path(__file__).parents[1] / "histories"


def recorded() -> list[tuple[str, str]]:
    """``(name, history JSON)`` of every recorded history, bundles unpacked."""
    found = []
    for path in sorted(DIR.glob("*.json")):
        data = json.loads(path.read_text())
        if "histories" in data:
            found += [(f"{path.stem}:{k}", json.dumps(v)) for k, v in data["histories"].items()]
        else:
            found.append((path.stem, path.read_text()))
    return found


HISTORIES = recorded()


@pytest.mark.parametrize(("name", "history"), HISTORIES, ids=[n for n, _ in HISTORIES])
async def test_history_replays_with_current_code(name: str, history: str) -> None:
    replayer = Replayer(
        workflows=WORKFLOWS, data_converter=pydantic_data_converter, workflow_runner=WORKFLOW_RUNNER
    )
    await replayer.replay_workflow(WorkflowHistory.from_json(name, history))


@workflow.defn(name="LeadScoringWorkflow")
class _ReorderedLeadScoring(GatedWorkflow):
    """A careless change: the gate now reads the policy before asking the AI. (Lead
    scoring's class as workflows/process_workflow.py makes it, but for the sleep: a type
    checker cannot subclass a class made at run time.)"""

    definition = LeadScoringWorkflow.definition

    @workflow.run
    async def run(self, start: ProcessStart) -> ProcessResult:
        await workflow.sleep(1)
        return await self.run_process(start)


@pytest.mark.parametrize("name", ["lead_scoring_approved", "lead_scoring@gate-v3:approved"])
async def test_a_non_deterministic_change_fails_replay(name: str) -> None:
    replayer = Replayer(
        workflows=[_ReorderedLeadScoring],
        data_converter=pydantic_data_converter,
        workflow_runner=WORKFLOW_RUNNER,
    )
    history = dict(HISTORIES)[name]
    result = await replayer.replay_workflow(
        WorkflowHistory.from_json(name, history), raise_on_replay_failure=False
    )
    assert result.replay_failure is not None
    assert (
        "Nondeterminism" in type(result.replay_failure).__name__
        or "nondetermin" in str(result.replay_failure).lower()
    )
