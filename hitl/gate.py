"""The HITL gate, written once: every process workflow is a subclass naming its definition.

A run: the AI step proposes; the gate reads the policy and either proceeds on its own or
parks with one pending approval; votes and decisions arrive by Update (REST, CLI), Signal
(Web UI, CLI), policy change or timeout, each checked and claimed synchronously
(``hitl.ballot``), so two decisions can never both pass; then the decision is recorded and
applied once (``hitl.steps``). State lives in one ``GateState``; waiting and timers are in
``hitl.waiting``, policy changes in ``hitl.policy_change``, what the Web UI shows in
``hitl.visibility``; paths kept for runs started by earlier code are in ``hitl/PATCHES.md``.
"""

import asyncio
from collections.abc import Sequence
from typing import Any, ClassVar

from pydantic import ValidationError
from temporalio import workflow
from temporalio.common import RawValue
from temporalio.exceptions import ActivityError, ApplicationError

from hitl import ballot, steps, visibility
from hitl.policy_change import on_policy_change
from hitl.start import begin, fields, short
from hitl.state import GateState
from hitl.versions import POLICY_AUDIT_ON_APPLY, gate_version
from hitl.waiting import await_decision

with workflow.unsafe.imports_passed_through():
    from models.hitl import DecideOutcome, DecideRequest, DecisionPayload, PolicyChange, RunStatus
    from models.processes import Action, Channel, Process, RunState
    from models.workflow_io import ProcessResult, ProcessStart
    from processes.kit.definition import ProcessDefinition
    from temporal.handlers import LEGACY_POLICY_CHANGED_SIGNAL, POLICY_CHANGED_SIGNAL

_SIGNAL_HELP = (
    'Payload (JSON, every field optional): {"by": "<your name>", "comment": "...", '
    '"approval_id": "<from the details>"'
)


class GatedWorkflow:
    definition: ClassVar[ProcessDefinition]

    def __init__(self) -> None:
        self._gate = GateState()

    # ----- the process ---------------------------------------------------------------

    async def run_process(self, start: ProcessStart | None) -> ProcessResult:
        """Propose, gate, apply: the body of every process workflow's ``run``. ``None``: a
        start sent with a null payload from outside Brain, refused like any bad input."""
        s = self._gate
        start = start or ProcessStart()
        s.version = gate_version(start)
        s.current = s.version >= 3
        if s.version < 4:
            # Runs from before the internal signal's rename may hold it under its old name;
            # later runs list no unnamed handler (the Web UI would preselect it).
            workflow.set_dynamic_signal_handler(self._legacy_signal)
        begin(self.definition, s, start)
        try:
            s.ai = await steps.propose(self.definition, s)
            self._publish_confidence()
            await self._open_gate()
            if s.decision is None:
                await await_decision(s, self._show)
                await self._record_human_decision()
            assert s.decision is not None
            if s.decision.action is Action.APPROVE:
                await steps.apply(self.definition, s)
                self._set_state(RunState.COMPLETED)
        except asyncio.CancelledError:
            await self._end_without_applying(RunState.CANCELED, None)
            raise
        except (ActivityError, ApplicationError) as err:
            # A local activity that fails for good surfaces as its ApplicationError itself.
            await self._end_without_applying(RunState.FAILED, short(err))
            raise
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._outcome()

    async def _open_gate(self) -> None:
        s = self._gate
        opened = await steps.open_gate(s)
        s.policy, s.approval = opened.policy, opened.approval
        if opened.approval is None:
            ballot.claim(s, Action.APPROVE, actor="brain", channel=Channel.AUTO, now=workflow.now())
            self._show()
        else:
            self._set_state(RunState.AWAITING_APPROVAL)
        self._release_early_signals()

    async def _record_human_decision(self) -> None:
        """A person, a policy change or the timeout decided. An approval's audit row is
        written by its apply step (``steps.audit_writer``); a rejection's here."""
        s = self._gate
        assert s.decision is not None
        approved = s.decision.action is Action.APPROVE
        if s.current:
            if approved:
                self._set_state(RunState.RUNNING, searchable=False)
            else:
                await steps.record_decision(s, RunState.REJECTED, local=False)
                self._set_state(RunState.REJECTED)
            return
        # Runs started before GATE_V3 replay the path they ran (PATCHES.md).
        if s.decision.channel is Channel.POLICY and workflow.patched(POLICY_AUDIT_ON_APPLY):
            self._set_state(RunState.RUNNING, searchable=False)
            return
        state = RunState.RUNNING if approved else RunState.REJECTED
        await steps.record_decision(s, state, local=True)
        self._set_state(state)

    async def _end_without_applying(self, state: RunState, error: str | None) -> None:
        s = self._gate
        if s.run is None:
            return
        self._set_state(state)
        await steps.record_outcome(s, state, error, local=not s.current)

    def _outcome(self) -> ProcessResult:
        s = self._gate
        assert s.run is not None
        return ProcessResult(
            workflow_id=s.run.workflow_id,
            process=s.run.process,
            tenant=s.run.tenant,
            state=s.state,
            decision=s.decision,
            result=s.result,
        )

    # ----- decisions: the Update (REST, CLI) -------------------------------------------

    @workflow.update(
        description="Decide the pending approval (REST door; the CLI as an operator): "
        "approve, with optional edits, or reject. Refused when nothing is pending, the "
        "approval id is stale, it was already decided, this person already approved, "
        "four-eyes forbids it, or the edits are invalid."
    )
    def decide(self, request: DecideRequest) -> DecideOutcome:
        # Re-checked here: two updates in one activation both pass their validators.
        s = self._gate
        vote = ballot.check(
            s, self.definition, request.action, request.by, request.approval_id, request.edits
        )
        out = ballot.cast(
            s,
            vote,
            request.action,
            actor=request.by,
            channel=request.channel,
            comment=request.comment,
            edits=request.edits,
            now=workflow.now(),
        )
        self._show()
        return out

    @decide.validator
    def _validate_decide(self, request: DecideRequest) -> None:
        ballot.check_channel(workflow.info().workflow_id, request)
        ballot.check(
            self._gate,
            self.definition,
            request.action,
            request.by,
            request.approval_id,
            request.edits,
        )

    # ----- decisions: the Signals (Web UI, CLI) ----------------------------------------

    @workflow.signal(
        description="Approve the pending proposal (Web UI / CLI). "
        + _SIGNAL_HELP
        + ', "edits": {<only the fields to change>}}'
    )
    def approve(self, payload: Any = None) -> None:
        self._decide_by_signal(Action.APPROVE, payload)

    @workflow.signal(
        description="Reject the pending proposal (Web UI / CLI). " + _SIGNAL_HELP + "}"
    )
    def reject(self, payload: Any = None) -> None:
        self._decide_by_signal(Action.REJECT, payload)

    def _decide_by_signal(self, action: Action, raw: object) -> None:
        s = self._gate
        if s.approval is None and s.decision is None:
            # The gate has not opened in history yet, though its row may already say parked
            # (a worker died between writing it and completing the workflow task). A signal
            # is accepted durably, so hold it and decide the moment the approval opens.
            s.early_signals.append((action, raw))
            workflow.logger.info("%s signal held until the approval opens", action)
            return
        try:
            payload = DecisionPayload.model_validate(raw or {})
            actor = payload.by or "temporal-ui"
            vote = ballot.check(
                s, self.definition, action, actor, payload.approval_id, payload.edits
            )
        except ValidationError as err:
            self._ignore(action, f"invalid payload ({fields(err.errors())})")
            return
        except ApplicationError as err:
            self._ignore(action, f"{err.type}: {err.message}")
            return
        ballot.cast(
            s,
            vote,
            action,
            actor=actor,
            channel=Channel.SIGNAL,
            comment=payload.comment,
            edits=payload.edits,
            now=workflow.now(),
        )
        self._show()

    def _ignore(self, action: Action, reason: str) -> None:
        # A bad signal must never break the run: log it, show it, keep waiting.
        message = f"{action} signal ignored: {reason}"
        workflow.logger.warning(message)
        self._gate.ignore(message)
        self._show()

    def _release_early_signals(self) -> None:
        """Put held signals through the signal door, in arrival order, once the approval is
        open; with no approval (the run proceeded on its own) they are ignored."""
        s = self._gate
        held, s.early_signals = s.early_signals, []
        for action, raw in held:
            if s.approval is None:
                s.ignore(f"{action} signal ignored: nothing was pending; the run proceeded")
                continue
            self._decide_by_signal(action, raw)

    # ----- policy changes (internal signals) -------------------------------------------

    @workflow.signal(
        name=POLICY_CHANGED_SIGNAL,
        description="INTERNAL to Brain (the policy broadcast): not for people. Use approve "
        "or reject.",
    )
    async def _policy_changed(self, change: Any) -> None:
        try:
            parsed = PolicyChange.model_validate(change)
        except ValidationError as err:  # whatever the payload is, the run keeps waiting
            self._gate.ignore(f"policy change ignored: {fields(err.errors())}")
            return
        await on_policy_change(self._gate, parsed, self._show)

    async def _legacy_signal(self, name: str, args: Sequence[RawValue]) -> None:
        """Runs started before the signal's rename (PATCHES.md) may hold ``policy_changed``."""
        if name != LEGACY_POLICY_CHANGED_SIGNAL or not args:
            self._gate.ignore(f"signal {name!r} ignored: no such signal")
            return
        try:
            change = workflow.payload_converter().from_payload(args[0].payload, PolicyChange)
        except Exception as err:  # whatever the payload is, the run keeps waiting
            self._gate.ignore(f"signal {name!r} ignored: {type(err).__name__}")
            return
        await on_policy_change(self._gate, change, self._show)

    # ----- what people see -------------------------------------------------------------

    @workflow.query(description="The run's state, proposal, pending approval and decision.")
    def status(self) -> RunStatus:
        s = self._gate
        return RunStatus(
            workflow_id=workflow.info().workflow_id,
            process=Process(self.definition.name),
            tenant=s.run.tenant if s.run else "",
            state=s.state,
            requested_by=s.requested_by or None,
            ai=s.ai,
            policy=s.policy,
            approval=s.approval if s.decision is None else None,
            decision=s.decision,
            result=s.result,
            ignored_signals=s.ignored,
        )

    def _set_state(self, state: RunState, *, searchable: bool = True) -> None:
        visibility.set_state(self._gate, self.definition.name, state, searchable=searchable)

    def _publish_confidence(self) -> None:
        visibility.publish_confidence(self._gate)

    def _show(self) -> None:
        visibility.show(self._gate, self.definition.name)
