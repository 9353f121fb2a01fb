"""Several gates in one run, at the gate's own level: a decision for the next gate sent the
moment the previous one is decided is taken once that gate opens, by Update and by signal;
one without an approval id between two gates is refused with the reason."""

from typing import Any

from models.processes import Action, Process, RunState
from processes import registry
from tests.support import Brain, ai_result, decide, decided, eventually, parked
from workflows.process_workflow import LeadScoringWorkflow

SOURCING = Process("product_sourcing")
ORDER = {
    "product": "M6 bolts",
    "quantity": 1000,
    "suppliers": [
        {"name": "Acme", "unit_price": 0.3, "lead_time_days": 5, "rating": 4.5,
         "min_order_qty": 100},
    ],
}  # fmt: skip
PROPOSAL = {"supplier": "Acme", "unit_price": 0.3, "total_cost": 300.0, "rationale": "r"}


async def _two_gates(brain: Brain) -> Any:
    brain.model.default = ai_result(PROPOSAL, confidence=0.95)
    await brain.set_policy(SOURCING, gate="finance", amount_over=0)
    handle = await brain.start(SOURCING, ORDER)
    await parked(handle)
    return handle


async def test_the_next_gate_decided_at_once_by_update_is_taken_when_it_opens(
    brain: Brain,
) -> None:
    handle = await _two_gates(brain)
    await decide(handle, Action.APPROVE, by="bea", approval_id=f"{handle.id}:buyer:1")
    # Sent before the finance gate has opened (its opening is a step away): not refused.
    decision = await decided(handle, Action.APPROVE, by="fin", approval_id=f"{handle.id}:finance:2")
    assert decision.gate == "finance"
    result = await handle.result()
    assert result.state is RunState.COMPLETED
    assert [(d.gate, d.actor) for d in result.decisions] == [("buyer", "bea"), ("finance", "fin")]
    audit = sorted(await brain.audit(handle.id), key=lambda a: a.approval_id)
    assert [(a.gate, a.actor) for a in audit] == [("buyer", "bea"), ("finance", "fin")]


async def test_between_gates_a_signal_names_its_approval_or_is_refused(brain: Brain) -> None:
    handle = await _two_gates(brain)
    await handle.signal(LeadScoringWorkflow.approve, {"by": "bea"})
    # At once, both kinds: one meant for finance (named), one naming nothing.
    await handle.signal(
        LeadScoringWorkflow.approve, {"by": "fin", "approval_id": f"{handle.id}:finance:2"}
    )
    result = await handle.result()
    assert [(d.gate, d.actor) for d in result.decisions] == [("buyer", "bea"), ("finance", "fin")]


async def test_a_rejection_at_the_second_gate_keeps_the_first_gates_audit(brain: Brain) -> None:
    handle = await _two_gates(brain)
    await decide(handle, Action.APPROVE, by="bea")

    async def at_finance() -> Any:
        status = await handle.query(LeadScoringWorkflow.status)
        at = status.approval.approval_id if status.approval else ""
        return status if at.endswith(":finance:2") else None

    await eventually(at_finance)
    await handle.signal(LeadScoringWorkflow.reject, {"by": "fin", "comment": "no"})
    result = await handle.result()
    assert result.state is RunState.REJECTED and result.decision.gate == "finance"
    audit = {a.gate: (a.decision, a.actor) for a in await brain.audit(handle.id)}
    assert audit == {"buyer": ("approve", "bea"), "finance": ("reject", "fin")}
    assert await brain.rows(registry.definition(SOURCING).table, handle.id) == []
