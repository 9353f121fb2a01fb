"""Each process end to end with the embedded rules model: the auto path, a person's
approval with edits (derived fields recomputed), invalid edits refused, and a rejection."""

from typing import Any

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from activities.rules_model import RulesModel
from models.hitl import Decision
from models.processes import Action, Channel, Process, RunState
from processes import registry
from processes.campaign_tuning import CampaignChangeRow
from processes.content_generation import ContentRow
from processes.lead_scoring import LeadRow
from processes.product_sourcing import PurchaseOrderDraftRow
from temporal import errors
from tests.support import Brain, decide, parked
from workflows.process_workflow import LeadScoringWorkflow

# process: (business table, valid edits, what the edits must produce, invalid edits)
CASES: dict[Process, tuple[Any, dict, dict, dict]] = {
    Process("lead_scoring"): (LeadRow, {"score": 45}, {"score": 45, "tier": "warm"}, {"tier": "x"}),
    Process("product_sourcing"): (
        PurchaseOrderDraftRow,
        {"supplier": "Pacific Bottle Co."},
        {"supplier": "Pacific Bottle Co.", "unit_price": 6.2, "total_cost": 12400.0},
        {"supplier": "Nobody Ltd"},
    ),
    Process("campaign_tuning"): (
        CampaignChangeRow,
        {"budgets": {"google_search": 10000, "meta_ads": 8000, "linkedin": 4000, "email": 3000}},
        {"budgets": {"google_search": 10000, "meta_ads": 8000, "linkedin": 4000, "email": 3000}},
        {"budgets": {"google_search": 20000, "meta_ads": 8000}},
    ),
    Process("content_generation"): (
        ContentRow,
        {"title": "Edited by a person"},
        {"title": "Edited by a person"},
        {"title": ""},
    ),
}


def _body(process: Process, kind: str = "confident") -> dict:
    return dict(registry.definition(process).examples[kind])


def _case(process: Process) -> tuple[Any, dict, dict, dict]:
    """The cases above, or for any other process an edit of the rationale."""
    edit = {"rationale": "Edited by a person."}
    return CASES.get(process, (registry.definition(process).table, edit, edit, {"rationale": ""}))


@pytest.fixture
def rules_brain(brain: Brain) -> Brain:
    brain.model.delegate = RulesModel()
    return brain


@pytest.mark.parametrize("process", list(registry.processes()))
async def test_confident_proposal_applies_on_its_own_when_autonomous(
    rules_brain: Brain, process: Process
) -> None:
    await rules_brain.set_policy(process, hitl_enabled=False)
    await rules_brain.later_gates_on_their_own(process)
    handle = await rules_brain.start(process, _body(process))
    result = await handle.result()
    assert result.state is RunState.COMPLETED
    assert result.decision is not None and result.decision.channel is Channel.AUTO
    table = _case(process)[0]
    [row] = await rules_brain.rows(table, handle.id)
    assert result.result is not None and result.result["id"] == row.id


@pytest.mark.parametrize("process", list(registry.processes()))
async def test_unsure_proposal_parks_even_when_autonomous(
    rules_brain: Brain, process: Process
) -> None:
    await rules_brain.set_policy(process, hitl_enabled=False)
    handle = await rules_brain.start(process, _body(process, "unsure"))
    status = await parked(handle)
    assert status.approval is not None
    assert status.approval.confidence < status.approval.threshold
    await handle.signal(LeadScoringWorkflow.reject, {"by": "ops"})
    assert (await handle.result()).state is RunState.REJECTED
    assert await rules_brain.rows(_case(process)[0], handle.id) == []


@pytest.mark.parametrize("process", list(registry.processes()))
async def test_person_approves_with_edits_and_invalid_edits_are_refused(
    rules_brain: Brain, process: Process
) -> None:
    table, edits, expected, invalid = _case(process)
    await rules_brain.set_policy(process, hitl_enabled=True)
    await rules_brain.later_gates_on_their_own(process)
    handle = await rules_brain.start(process, _body(process))
    await parked(handle)
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await decide(handle, Action.APPROVE, by="a", edits=invalid)
    assert isinstance(refused.value.cause, ApplicationError)
    assert refused.value.cause.type == errors.INVALID_EDITS
    decision = await decide(handle, Action.APPROVE, by="a", edits=edits)
    assert isinstance(decision, Decision) and decision.final_proposal is not None
    assert {k: decision.final_proposal[k] for k in expected} == expected
    await handle.result()
    [row] = await rules_brain.rows(table, handle.id)
    columns = {k: v for k, v in expected.items() if k in table.model_fields}
    assert {k: getattr(row, k) for k in columns} == columns
    first_gate = registry.definition(process).gates[0].name
    [audit] = [a for a in await rules_brain.audit(handle.id) if a.gate == first_gate]
    assert audit.edits == edits and audit.final_proposal == decision.final_proposal
