"""The gate as runs started before gate 5 (one gate per process) take it, kept apart so
today's path reads straight (``hitl/gate.py``). One call site: ``GatedWorkflow.run_process``
hands such a run to ``run``. Each branch here replays a shape recorded in
``tests/histories/`` (hitl/PATCHES.md says which and when it can go): change nothing here
that changes the commands a run issues; ``brain ops patches`` tells how many open runs
still take each path.

Shared with today's path: the decision handlers and ballot (whose rules for these runs are
the ones they were recorded with: raw subject comparison, no gate name), waiting and
timers, the visibility writes.
"""

from typing import ClassVar, Protocol

from temporalio import workflow

from hitl import ballot, steps
from hitl.start import begin
from hitl.state import GateState
from hitl.versions import CONFIDENCE_EARLY, POLICY_AUDIT_ON_APPLY
from hitl.visibility import carries_brain_attributes
from hitl.waiting import await_decision

with workflow.unsafe.imports_passed_through():
    from activities.policy import PolicyActivities
    from models.activity_io import GateOpened, OpenGate
    from models.processes import Action, Channel, RunState
    from models.workflow_io import ProcessStart
    from processes.kit.definition import ProcessDefinition
    from temporal import retry
    from temporal.search_attributes import BRAIN_CONFIDENCE


class Flow(Protocol):
    """What the workflow lends this path: its state and how it shows itself."""

    definition: ClassVar[ProcessDefinition]

    @property
    def state(self) -> GateState: ...

    def show(self) -> None: ...

    def set_state(self, state: RunState, *, searchable: bool = True) -> None: ...

    def release_early_signals(self) -> None: ...


async def run(flow: Flow, start: ProcessStart) -> None:
    """Propose, gate, apply, as gate 2, 3 or 4 did. Raises as today's path does; the caller
    ends the run."""
    s = flow.state
    s.current = s.version >= 3
    begin(flow.definition, s, start)
    # Before gate 5 a process had one gate and its approval id was ``<workflow_id>:1``.
    s.approval_id = f"{workflow.info().workflow_id}:1"
    s.ai = await steps.propose(flow.definition, s)
    s.proposal = s.ai.proposal
    _publish_confidence(flow)
    await _open_gate(flow)
    if s.decision is None:
        await await_decision(s, flow.show)
        await _record_human_decision(flow)
    assert s.decision is not None
    if s.decision.action is Action.APPROVE:
        await steps.apply(flow.definition, s)
        flow.set_state(RunState.COMPLETED)


async def end_without_applying(flow: Flow, state: RunState, error: str | None) -> None:
    s = flow.state
    if s.run is None:
        return
    flow.set_state(state)
    await steps.record_outcome(s, state, error, local=not s.current)


async def _open_gate(flow: Flow) -> None:
    s = flow.state
    assert s.run is not None and s.ai is not None
    opened: GateOpened = await workflow.execute_local_activity_method(
        PolicyActivities.open_gate,
        OpenGate(
            run=s.run,
            ai=s.ai,
            approval_id=s.approval_id,
            requested_at=workflow.now(),
            requested_by=s.requested_by or None,
        ),
        start_to_close_timeout=retry.DB_STEP_TIMEOUT,
        schedule_to_close_timeout=retry.DB_STEP_SCHEDULE_TO_CLOSE,
        retry_policy=retry.DB_STEP_RETRY,
    )
    s.policy, s.approval = opened.policy, opened.approval
    if opened.approval is None:
        ballot.claim(s, Action.APPROVE, actor="brain", channel=Channel.AUTO, now=workflow.now())
        flow.show()
    else:
        flow.set_state(RunState.AWAITING_APPROVAL)
    flow.release_early_signals()


async def _record_human_decision(flow: Flow) -> None:
    """A person, a policy change or the timeout decided. From gate 3 an approval's audit
    row is written by its apply step, a rejection's here; before, locally here."""
    s = flow.state
    assert s.decision is not None
    approved = s.decision.action is Action.APPROVE
    if s.current:
        if approved:
            flow.set_state(RunState.RUNNING, searchable=False)
        else:
            await steps.record_decision(s, RunState.REJECTED)
            flow.set_state(RunState.REJECTED)
        return
    if s.decision.channel is Channel.POLICY and workflow.patched(POLICY_AUDIT_ON_APPLY):
        flow.set_state(RunState.RUNNING, searchable=False)
        return
    state = RunState.RUNNING if approved else RunState.REJECTED
    await steps.record_decision(s, state, local=True)
    flow.set_state(state)


def _publish_confidence(flow: Flow) -> None:
    """Before gate 4, confidence was searchable right after the AI step (gate 4 made it
    searchable with the state: at parking or completion)."""
    s = flow.state
    assert s.ai is not None
    if s.version >= 4:
        return
    if not s.current and not workflow.patched(CONFIDENCE_EARLY):
        return
    if carries_brain_attributes():
        workflow.upsert_search_attributes([BRAIN_CONFIDENCE.value_set(s.ai.confidence)])
