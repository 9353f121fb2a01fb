"""The HITL gate, written once: every process workflow is a subclass naming its definition.

A run: the AI step proposes; the proposal passes the process's gates in order (one, or
several: a buyer then finance, an editor then legal). At each gate the policy either lets
it through on its own or parks it with one pending approval; votes and decisions arrive by
Update (REST, Slack, CLI), Signal (Web UI), policy change or timeout, each checked and
claimed synchronously (``hitl.ballot``: door, eligibility, four-eyes, quorum), so two
decisions can never both pass. A rejection at any gate rejects the run; once every gate
approved, the result is applied once and every gate's decision is audited (``hitl.steps``).

State lives in one ``GateState``; waiting and timers are in ``hitl.waiting``, policy changes
in ``hitl.policy_change``, what the Web UI shows in ``hitl.visibility``. Runs started
before gate 5 take their recorded path in ``hitl.legacy`` (hitl/PATCHES.md).
"""

import asyncio
from collections.abc import Sequence
from typing import Any, ClassVar

from pydantic import ValidationError
from temporalio import workflow
from temporalio.common import RawValue
from temporalio.exceptions import ActivityError, ApplicationError

from hitl import ballot, legacy, steps, visibility
from hitl.policy_change import on_policy_change
from hitl.start import begin, fields, short
from hitl.state import GateState
from hitl.versions import gate_version, signed_policy_change
from hitl.waiting import await_decision

with workflow.unsafe.imports_passed_through():
    from models.hitl import (
        DecideOutcome,
        DecideRequest,
        Decision,
        DecisionPayload,
        PolicyChange,
        RunStatus,
    )
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
        """Propose, pass the gates, apply: the body of every process workflow's ``run``.
        ``None``: a start sent with a null payload from outside Brain, refused like any bad
        input."""
        s = self._gate
        start = start or ProcessStart()
        s.version = gate_version(start)
        if s.version < 4:
            # Runs from before the internal signal's rename may hold it under its old name;
            # later runs list no unnamed handler (the Web UI would preselect it).
            workflow.set_dynamic_signal_handler(self._legacy_signal)
        try:
            if s.version < 5:
                await legacy.run(self, start)
            else:
                await self._run(start)
        except asyncio.CancelledError:
            await self._end_without_applying(RunState.CANCELED, None)
            raise
        except (ActivityError, ApplicationError) as err:
            # A local activity that fails for good surfaces as its ApplicationError itself.
            await self._end_without_applying(RunState.FAILED, short(err))
            raise
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._outcome()

    async def _run(self, start: ProcessStart) -> None:
        s = self._gate
        begin(self.definition, s, start)
        # The AI step reads and judges the gates' policies with its proposal: a run that
        # passes every gate on its own needs no step of its own until it applies.
        proposed = await steps.propose_at_gates(self.definition, s)
        s.ai, s.ahead, s.ahead_recorded = proposed.ai, proposed.verdicts, False
        s.ahead_local = False
        s.proposal = s.ai.proposal
        for index in range(len(self.definition.gates)):
            await self._pass_gate(index)
            if s.decision is not None and s.decision.action is Action.REJECT:
                await steps.record_decision(s, RunState.REJECTED)
                self.set_state(RunState.REJECTED)
                return
        assert s.decision is not None, "the first gate always applies"
        s.between_gates = False
        self.release_early_signals()
        await steps.apply(
            self.definition, s, local=self._replayable(), write_ai=not s.ahead_recorded
        )
        self.set_state(RunState.COMPLETED)

    def _replayable(self) -> bool:
        """Whether the task that took the last decision would take it again if it were
        discarded and retried: then the apply step can run within it, as a local step,
        its writes idempotent. So for a decision from history alone (a signal, a timer, a
        policy change Brain signed and carried, verdicts a regular activity returned); not
        for an Update (one accepted in a discarded task is gone) nor a decision resting on
        a local read made in that task (a retry reads again, and may read otherwise)."""
        s = self._gate
        last = s.decision
        assert last is not None
        if last.channel in (Channel.API, Channel.SLACK, Channel.CLI):
            return False
        if s.ahead_local:
            # The gate was opened by a local read (the fallback when the AI step brought no
            # verdicts): whatever decided it may have rested on what that read returned.
            return False
        if last.channel is Channel.POLICY:
            return not s.read_in_this_task
        return True  # the AI step's verdicts, a signal, the timer: all in history

    async def _pass_gate(self, index: int) -> None:
        """Open gate ``index`` and see it decided: on its own, or by whoever the policy
        names. A gate whose condition does not hold is skipped."""
        s = self._gate
        if not s.ahead:
            s.ahead = (await steps.open_gates(self.definition, s, index)).verdicts
            s.ahead_recorded = True  # the gate step wrote the run's row with them
            s.ahead_local = index == 0  # the first opening is a local step's read
        verdict = s.ahead.pop(0)
        if not verdict.applies:
            return
        if verdict.approval is not None and not s.ahead_recorded:
            # The AI step judged on its worker's clock: the wait is the workflow's, from now.
            verdict = verdict.model_copy(
                update={"approval": verdict.approval.asked_at(workflow.now(), verdict.policy)}
            )
        s.enter(index, verdict, more=index + 1 < len(self.definition.gates))
        if verdict.approval is None:
            # Passed on its own: the details are drawn once the run reaches its next state.
            ballot.claim(s, Action.APPROVE, actor="brain", channel=Channel.AUTO, now=workflow.now())
            self.release_early_signals()
            return
        if not s.ahead_recorded:
            # Judged by the AI step, which wrote nothing: the inbox learns of it here.
            await steps.park(s, verdict)
        self.set_state(RunState.AWAITING_APPROVAL)
        self.release_early_signals()
        await await_decision(s, self.show)
        assert s.decision is not None
        # Time has passed: the gates ahead are judged afresh, with their policies as they
        # are now and the proposal as this gate approved it.
        s.ahead = []
        if s.decision.action is Action.APPROVE:
            self.set_state(RunState.RUNNING, searchable=False)

    async def _end_without_applying(self, state: RunState, error: str | None) -> None:
        s = self._gate
        if s.version < 5:
            await legacy.end_without_applying(self, state, error)
            return
        if s.run is None:
            return
        self.set_state(state)
        await steps.record_outcome(s, state, error)

    def _outcome(self) -> ProcessResult:
        s = self._gate
        assert s.run is not None
        return ProcessResult(
            workflow_id=s.run.workflow_id,
            process=s.run.process,
            tenant=s.run.tenant,
            state=s.state,
            decision=s.decision,
            decisions=self._gate_decisions(),
            result=s.result,
        )

    def _gate_decisions(self) -> list[Decision]:
        """Every gate's decision, for a process with several gates (with one, ``decision``
        says it all: the result carries it once)."""
        s = self._gate
        return s.decisions if s.version >= 5 and len(self.definition.gates) > 1 else []

    # ----- decisions: the Update (REST, Slack, CLI) ------------------------------------

    @workflow.update(
        description="Decide the pending approval (the REST and Slack doors; the CLI as an "
        "operator): approve, with optional edits, or reject. Refused when nothing is "
        "pending, the approval id is stale, it was already decided, the policy does not "
        "name the caller or the door, this person already approved, four-eyes forbids it, "
        "or the edits are invalid."
    )
    async def decide(self, request: DecideRequest) -> DecideOutcome:
        s = self._gate
        if self._for_the_next_gate(request):
            # The next gate's approval is on its way (its row may already say so): decide
            # it once it opens, rather than refuse as if the gate just decided were meant.
            await workflow.wait_condition(lambda: not s.between_gates)
        # Re-checked here: two updates in one activation both pass their validators.
        vote = self._check(request)
        out = ballot.cast(
            s,
            vote,
            request.action,
            actor=request.by,
            channel=request.channel,
            comment=request.comment,
            edits=request.edits,
            now=workflow.now(),
            origin=request.origin,
        )
        self.show()
        return out

    @decide.validator
    def _validate_decide(self, request: DecideRequest) -> None:
        ballot.check_channel(workflow.info().workflow_id, request)
        if not self._for_the_next_gate(request):
            self._check(request)

    def _for_the_next_gate(self, request: DecideRequest) -> bool:
        s = self._gate
        return s.between_gates and request.approval_id not in (None, s.approval_id)

    def _check(self, request: DecideRequest) -> ballot.Ballot:
        return ballot.check(
            self._gate,
            self.definition,
            request.action,
            request.by,
            request.approval_id,
            request.edits,
            channel=request.channel,
            groups=request.groups,
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
        if s.between_gates and not (isinstance(raw, dict) and raw.get("approval_id")):
            # Meant for the gate just decided, or the next? Only an approval id says.
            self._ignore(
                action,
                f"gate {s.gate} was just decided and the next gate has not opened yet; "
                "send it again once it has (with its approval_id)",
            )
            return
        if (s.approval is None and s.decision is None) or s.between_gates:
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
                s,
                self.definition,
                action,
                actor,
                payload.approval_id,
                payload.edits,
                channel=Channel.SIGNAL,
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
        self.show()

    def _ignore(self, action: Action, reason: str) -> None:
        # A bad signal must never break the run: log it, show it, keep waiting.
        message = f"{action} signal ignored: {reason}"
        workflow.logger.warning(message)
        self._gate.ignore(message)
        self.show()

    def release_early_signals(self) -> None:
        """Put held signals through the signal door, in arrival order, once an approval is
        open; with no approval (the gate passed on its own) they are ignored."""
        s = self._gate
        held, s.early_signals = s.early_signals, []
        for action, raw in held:
            if s.approval is None or s.decision is not None:
                s.ignore(f"{action} signal ignored: nothing was pending; the run proceeded")
                continue
            self._decide_by_signal(action, raw)

    # ----- policy changes (internal signals) -------------------------------------------

    @workflow.signal(
        name=POLICY_CHANGED_SIGNAL,
        description="INTERNAL to Brain (the policy broadcast, signed by Brain): not for "
        "people. Use approve or reject.",
    )
    async def _policy_changed(self, change: Any) -> None:
        await self._on_policy_signal(change, POLICY_CHANGED_SIGNAL)

    async def _legacy_signal(self, name: str, args: Sequence[RawValue]) -> None:
        """Runs started before the signal's rename (PATCHES.md) may hold ``policy_changed``."""
        if name != LEGACY_POLICY_CHANGED_SIGNAL or not args:
            self._gate.ignore(f"signal {name!r} ignored: no such signal")
            return
        try:
            change = workflow.payload_converter().from_payload(args[0].payload)
        except Exception as err:  # whatever the payload is, the run keeps waiting
            self._gate.ignore(f"signal {name!r} ignored: {type(err).__name__}")
            return
        await self._on_policy_signal(change, name)

    async def _on_policy_signal(self, change: Any, name: str) -> None:
        s = self._gate
        try:
            parsed = PolicyChange.model_validate(change)
        except ValidationError as err:  # whatever the payload is, the run keeps waiting
            s.ignore(f"policy change ignored: {fields(err.errors())}")
            self.show()
            return
        if signed_policy_change(s) and not await steps.verify_brain_signal(
            s, change, parsed.signature
        ):
            # Anyone with access to Temporal can send this signal; only Brain can sign it.
            s.ignore(f"{name} signal refused: not signed by Brain (version {parsed.version})")
            self.show()
            return
        await on_policy_change(s, self.definition, parsed, self.show)

    # ----- what people see -------------------------------------------------------------

    @workflow.query(description="The run's state, proposal, pending approval and decisions.")
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
            decisions=self._gate_decisions(),
            result=s.result,
            ignored_signals=s.ignored,
        )

    @property
    def state(self) -> GateState:
        return self._gate

    def set_state(self, state: RunState, *, searchable: bool = True) -> None:
        visibility.set_state(self._gate, self.definition.name, state, searchable=searchable)

    def show(self) -> None:
        visibility.show(self._gate, self.definition.name)
