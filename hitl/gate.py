"""The HITL gate, written once: every process workflow is a subclass naming its definition.

A run: the AI step proposes; the gate reads the policy and either proceeds on its own or
parks with one pending approval; votes and decisions arrive by Update (REST, CLI), Signal
(Web UI, CLI), policy change or timeout, each checked and claimed synchronously
(``hitl.ballot``), so two decisions can never both pass; then the decision is recorded and
applied once (``hitl.steps``). State lives in one ``GateState``; paths kept for runs started
by earlier code are listed in ``hitl/PATCHES.md``.
"""

import asyncio
from collections.abc import Sequence
from datetime import timedelta
from typing import Any, ClassVar

from pydantic import ValidationError
from temporalio import workflow
from temporalio.common import RawValue, SearchAttributeUpdate
from temporalio.exceptions import ActivityError, ApplicationError

from hitl import ballot, steps
from hitl.details import render_details
from hitl.state import GateState

with workflow.unsafe.imports_passed_through():
    from models.activity_io import RunRef
    from models.events import EventType
    from models.hitl import (
        DecideOutcome,
        DecideRequest,
        DecisionPayload,
        Policy,
        PolicyChange,
        RunStatus,
    )
    from models.processes import Action, Channel, Process, RunState
    from models.workflow_io import ProcessResult, ProcessStart
    from processes.kit.definition import ProcessDefinition
    from processes.kit.edits import compact_errors
    from temporal import door, errors
    from temporal.handlers import LEGACY_POLICY_CHANGED_SIGNAL, POLICY_CHANGED_SIGNAL
    from temporal.search_attributes import BRAIN_CONFIDENCE, BRAIN_PROCESS, BRAIN_STATE

# PATCHES.md explains each.
GATE_V3 = "gate-v3-audit-after-commit"
CONFIDENCE_EARLY = "confidence-searchable-early"
POLICY_AUDIT_ON_APPLY = "policy-release-audit-on-apply"
# A run parked for months with reminders every minute would outgrow its history.
MAX_REMINDERS = 500
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
        s.current = workflow.patched(GATE_V3)
        self._begin(start or ProcessStart())
        try:
            s.ai = await steps.propose(self.definition, s)
            self._publish_confidence()
            await self._open_gate()
            if s.decision is None:
                await self._await_decision()
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
            await self._end_without_applying(RunState.FAILED, _short(err))
            raise
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._outcome()

    def _begin(self, start: ProcessStart) -> None:
        s = self._gate
        info = workflow.info()
        # Derived from the workflow id alone, so a reset run keeps it and the audit row's
        # unique key still dedupes the decision.
        s.approval_id = f"{info.workflow_id}:1"
        s.requested_by = start.requested_by
        try:
            if not start.tenant:
                raise ValueError("the start carries no tenant")
            s.input = self.definition.parse_input(start.input)
        except (ValidationError, ValueError) as err:
            # A start from outside Brain with a bad input ends the run, naming the fields,
            # instead of failing every workflow task.
            found = err.errors(include_url=False) if isinstance(err, ValidationError) else []
            raise ApplicationError(
                f"invalid input for {self.definition.name}: {_fields(found) or err}",
                {"errors": compact_errors(found)},
                type=errors.INVALID_INPUT,
                non_retryable=True,
            ) from None
        s.run = RunRef(
            workflow_id=info.workflow_id,
            run_id=info.run_id,
            tenant=start.tenant,
            process=Process(self.definition.name),
            subject=s.input.subject()[:300],
        )

    def _publish_confidence(self) -> None:
        """Searchable by confidence as soon as it is known: autonomous runs never park, and
        people search by it either way."""
        s = self._gate
        assert s.ai is not None
        if not s.current and not workflow.patched(CONFIDENCE_EARLY):
            return
        if self._carries_brain_attributes():
            workflow.upsert_search_attributes([BRAIN_CONFIDENCE.value_set(s.ai.confidence)])

    async def _open_gate(self) -> None:
        s = self._gate
        opened = await steps.open_gate(s)
        s.policy, s.approval = opened.policy, opened.approval
        if opened.approval is None:
            ballot.claim(s, Action.APPROVE, actor="brain", channel=Channel.AUTO, now=workflow.now())
            self._refresh_details()
        else:
            self._set_state(RunState.AWAITING_APPROVAL)
        self._release_early_signals()

    async def _await_decision(self) -> None:
        s = self._gate
        while s.decision is None:
            s.wake = False
            wait, summary = self._next_wake()
            try:
                await workflow.wait_condition(
                    lambda: s.decision is not None or s.wake or bool(s.unrecorded_votes),
                    timeout=wait,
                    timeout_summary=summary,
                )
            except TimeoutError:
                if s.decision is None and not s.wake:
                    await self._on_timer()
            if s.unrecorded_votes and s.decision is None and s.current:
                await steps.record_votes(s)
        s.unrecorded_votes = []

    def _next_wake(self) -> tuple[timedelta, str]:
        """The next timer: the approval's deadline, or a reminder or escalation before it."""
        s = self._gate
        assert s.approval is not None and s.policy is not None
        when, what = s.approval.expires_at, "approval timeout"
        if s.current:
            requested, p = s.approval.requested_at, s.policy
            if p.escalate_after_seconds and not s.escalated:
                at = requested + timedelta(seconds=p.escalate_after_seconds)
                when, what = min((when, what), (at, "escalation"))
            if p.remind_every_seconds and s.reminders_sent < MAX_REMINDERS:
                at = requested + timedelta(seconds=p.remind_every_seconds * (s.reminders_sent + 1))
                when, what = min((when, what), (at, "reminder"))
        return max(when - workflow.now(), timedelta(milliseconds=1)), what

    async def _on_timer(self) -> None:
        s = self._gate
        assert s.approval is not None and s.policy is not None
        now = workflow.now()
        if now >= s.approval.expires_at:
            self._decide_on_timeout()
            return
        p, since = s.policy, (now - s.approval.requested_at).total_seconds()
        if p.escalate_after_seconds and not s.escalated and since >= p.escalate_after_seconds:
            s.escalated = True
            await steps.publish(s, EventType.APPROVAL_ESCALATED.value, 1)
        if p.remind_every_seconds:
            due = min(int(since // p.remind_every_seconds), MAX_REMINDERS)
            if due > s.reminders_sent:
                s.reminders_sent = due
                await steps.publish(s, EventType.APPROVAL_REMINDER.value, due)

    def _decide_on_timeout(self) -> None:
        s = self._gate
        assert s.policy is not None and s.approval is not None
        action = Action(s.policy.on_timeout)
        comment = f"no decision within {s.policy.approval_timeout_seconds} s"
        if action is Action.APPROVE and s.approval.proposal is None:
            # Nothing valid to approve: a step that needs review can only time out rejected.
            action, comment = Action.REJECT, comment + "; nothing valid to approve"
        now = workflow.now()
        ballot.claim(s, action, actor="timeout", channel=Channel.TIMEOUT, comment=comment, now=now)
        self._refresh_details()

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
        self._refresh_details()
        return out

    @decide.validator
    def _validate_decide(self, request: DecideRequest) -> None:
        self._check_door(request)
        ballot.check(
            self._gate,
            self.definition,
            request.action,
            request.by,
            request.approval_id,
            request.edits,
        )

    def _check_door(self, request: DecideRequest) -> None:
        """Channel ``api`` only with the REST door's signature; ``signal`` is the operators'
        (trusted, like the Signals); the gate's own channels cannot be claimed."""
        if request.channel is Channel.SIGNAL:
            return
        if request.channel is Channel.API:
            fields = request.model_dump(mode="json")
            if door.verify(workflow.info().workflow_id, fields, request.door_signature):
                return
            raise ApplicationError(
                "channel api is reserved to the REST API and this request is not signed by "
                "it; decide over channel signal as an operator",
                type=errors.UNTRUSTED_DOOR,
                non_retryable=True,
            )
        raise ApplicationError(
            f"channel {request.channel} belongs to the gate and cannot be claimed",
            type=errors.UNTRUSTED_DOOR,
            non_retryable=True,
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
            self._ignore(action, f"invalid payload ({_fields(err.errors())})")
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
        self._refresh_details()

    def _ignore(self, action: Action, reason: str) -> None:
        # A bad signal must never break the run: log it, show it, keep waiting.
        message = f"{action} signal ignored: {reason}"
        workflow.logger.warning(message)
        self._gate.ignore(message)
        self._refresh_details()

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

    @workflow.signal(dynamic=True, description="Internal to Brain; not for people.")
    async def _internal_signal(self, name: str, args: Sequence[RawValue]) -> None:
        """Internal signals, unlisted so the Web UI offers only approve and reject; a name
        nobody handles (a typo) is shown as ignored."""
        if name not in (POLICY_CHANGED_SIGNAL, LEGACY_POLICY_CHANGED_SIGNAL) or not args:
            self._gate.ignore(f"signal {name!r} ignored: no such signal (approve or reject?)")
            self._refresh_details()
            return
        try:
            change = workflow.payload_converter().from_payload(args[0].payload, PolicyChange)
        except Exception as err:  # whatever the payload is, the run keeps waiting
            self._gate.ignore(f"signal {name!r} ignored: {type(err).__name__}")
            return
        await self._on_policy_change(change)

    async def _on_policy_change(self, change: PolicyChange) -> None:
        s = self._gate
        if not self._policy_change_applies(change.version):
            return
        policy = self._carried_policy(change)
        if policy is None or not ballot.settled_by_policy(s, policy):
            # It stays parked (or the signal carried nothing usable): read the policy, and
            # record the new threshold and deadline on the run's row for the inbox.
            try:
                policy = await steps.refresh_policy(s, change.version)
            except (ActivityError, ApplicationError) as err:
                # A change that names a version nobody wrote is ignored, never fatal.
                cause = err.cause if isinstance(err, ActivityError) else err
                s.ignore(f"policy change ignored: {cause or err}")
                self._refresh_details()
                return
            # Anything may have happened during the await; re-check before acting.
            if not self._policy_change_applies(policy.version):
                return
        assert s.approval is not None
        s.policy, s.approval = policy, s.approval.under(policy)
        if not ballot.settled_by_policy(s, policy):
            s.wake = True
            self._refresh_details()
            return
        ballot.claim(
            s,
            Action.APPROVE,
            actor=change.changed_by,
            channel=Channel.POLICY,
            comment=f"released by policy version {policy.version}",
            now=workflow.now(),
        )
        self._refresh_details()

    def _policy_change_applies(self, version: int) -> bool:
        s = self._gate
        if s.approval is None or s.decision is not None or s.run is None:
            return False
        assert s.policy is not None
        return version > s.policy.version

    def _carried_policy(self, change: PolicyChange) -> Policy | None:
        s = self._gate
        policy = change.policy
        assert s.run is not None
        if (
            policy is None
            or policy.version < change.version
            or policy.process is not s.run.process
            or policy.tenant != s.run.tenant
        ):
            return None
        return policy

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
        s = self._gate
        if state is s.state:
            return
        s.state = state
        self._refresh_details()
        if not searchable or not self._carries_brain_attributes():
            return
        updates: list[SearchAttributeUpdate[Any]] = [BRAIN_STATE.value_set(state.value)]
        if s.ai is not None:
            updates.append(BRAIN_CONFIDENCE.value_set(s.ai.confidence))
        workflow.upsert_search_attributes(updates)

    @staticmethod
    def _carries_brain_attributes() -> bool:
        """Runs started by Brain carry its attributes from the start. A run started bare (the
        time-skipping test server, a namespace without them) must not upsert attributes the
        server does not know: that would fail every workflow task."""
        return workflow.info().typed_search_attributes.get(BRAIN_PROCESS) is not None

    def _refresh_details(self) -> None:
        workflow.set_current_details(
            render_details(workflow.info().workflow_id, self.definition.name, self._gate)
        )


def _fields(found: Sequence[object]) -> str:
    locs = [".".join(str(p) for p in e["loc"]) for e in found if isinstance(e, dict)]
    shown = ", ".join(loc or "payload" for loc in locs[:5])
    return shown + (f" and {len(locs) - 5} more" if len(locs) > 5 else "")


def _short(err: ActivityError | ApplicationError) -> str:
    """A failure as a run's error: its type and message, clipped, never a traceback."""
    cause = err.cause if isinstance(err, ActivityError) else err
    if isinstance(cause, ApplicationError) and cause.type:
        return f"{cause.type}: {cause.message}"[:500]
    return str(cause or err)[:500]
