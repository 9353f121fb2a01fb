"""The HITL gate, written once: every process workflow inherits it.

The flow of a run: the AI step proposes; the gate reads the policy and either proceeds on
its own or parks with one pending approval; a decision arrives by Update (REST), Signal
(Web UI, CLI), policy change or timeout; it is claimed synchronously, before any await, so
two decisions can never both pass; the decision is recorded, then the apply step runs once.
"""

import asyncio
from datetime import timedelta
from typing import Any

from pydantic import BaseModel
from temporalio import workflow
from temporalio.exceptions import ActivityError

from hitl.doors import DecisionDoors

with workflow.unsafe.imports_passed_through():
    from activities.audit import AuditActivities
    from activities.policy import PolicyActivities
    from hitl.details import render_details
    from models.activity_io import (
        ApplyRequest,
        GateOpened,
        OpenGate,
        RecordDecision,
        RecordOutcome,
        RunRef,
    )
    from models.ai import AIResult
    from models.hitl import (
        Decision,
        PendingApproval,
        Policy,
        RunStatus,
    )
    from models.processes import Action, Channel, Process, RunState
    from models.workflow_io import ProcessResult, ProcessStart
    from temporal import retry
    from temporal.search_attributes import BRAIN_CONFIDENCE, BRAIN_PROCESS, BRAIN_STATE


# Runs recorded before confidence became searchable right after the AI step have no upsert
# there; ``workflow.patched`` keeps them replaying (tests/histories record both shapes).
CONFIDENCE_EARLY = "confidence-searchable-early"
# A run released by a policy change has its audit row written by the apply step.
POLICY_AUDIT_ON_APPLY = "policy-release-audit-on-apply"


class GatedWorkflow(DecisionDoors):
    """Base class of the four process workflows; subclasses only name their steps."""

    process: Process

    def __init__(self) -> None:
        self._run: RunRef | None = None
        self._input: BaseModel | None = None
        self._state = RunState.RUNNING
        self._ai: AIResult | None = None
        self._policy: Policy | None = None
        self._approval: PendingApproval | None = None
        self._decision: Decision | None = None
        self._result: dict[str, Any] | None = None
        self._ignored: list[str] = []
        self._early_signals: list[tuple[Action, Any]] = []
        self._approval_id = ""
        # Set when a policy change altered the deadline, so the wait recomputes it.
        self._deadline_moved = False

    # ----- the process ---------------------------------------------------------------

    async def run_process(self, start: ProcessStart, propose: Any, apply: Any) -> ProcessResult:
        """Propose, gate, apply. ``propose`` and ``apply`` are the process's activities."""
        info = workflow.info()
        self._run = RunRef(
            workflow_id=info.workflow_id,
            run_id=info.run_id,
            tenant=start.tenant,
            process=self.process,
        )
        self._input = start.input  # type: ignore[attr-defined]
        # Derived from the workflow id alone, so a reset run keeps it and the audit row's
        # unique key still dedupes the decision.
        self._approval_id = f"{info.workflow_id}:1"
        try:
            self._ai = await self._propose(propose)
            self._publish_confidence()
            await self._open_gate()
            if self._decision is None:
                await self._await_decision()
                # Runs released before the apply step took over the audit replay as they ran.
                if self._released_by_policy() and workflow.patched(POLICY_AUDIT_ON_APPLY):
                    # Searchable and on its row as parked until the apply step completes it:
                    # one visibility write per released run fewer, and the two agree.
                    self._set_state(RunState.RUNNING, searchable=False)
                else:
                    await self._record_decision()
            if self._decision is not None and self._decision.action is Action.APPROVE:
                await self._apply(apply)
        except asyncio.CancelledError:
            await self._record_outcome(RunState.CANCELED)
            raise
        except ActivityError as err:
            await self._record_outcome(RunState.FAILED, error=str(err.cause or err))
            raise
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._outcome()

    async def _propose(self, propose: Any) -> AIResult:
        try:
            return await workflow.execute_activity_method(
                propose,
                self._input,
                start_to_close_timeout=retry.AI_STEP_START_TO_CLOSE,
                schedule_to_close_timeout=retry.AI_STEP_SCHEDULE_TO_CLOSE,
                retry_policy=retry.AI_STEP_RETRY,
            )
        except ActivityError as err:
            # Out of attempts: a person supplies the proposal instead of the run failing.
            reason = str(err.cause or err)
            workflow.logger.warning("AI step failed for good, parking for review: %s", reason)
            return AIResult(
                proposal=None,
                confidence=0.0,
                rationale=f"The AI step failed: {reason}",
                model="unavailable",
                needs_review=True,
                error=reason,
            )

    def _publish_confidence(self) -> None:
        """Make the run searchable by confidence as soon as it is known: autonomous runs
        never park, and people search by it either way."""
        assert self._ai is not None
        if workflow.patched(CONFIDENCE_EARLY) and self._carries_brain_attributes():
            workflow.upsert_search_attributes([BRAIN_CONFIDENCE.value_set(self._ai.confidence)])

    async def _open_gate(self) -> None:
        assert self._run is not None and self._ai is not None
        opened: GateOpened = await workflow.execute_local_activity_method(
            PolicyActivities.open_gate,
            OpenGate(
                run=self._run,
                ai=self._ai,
                approval_id=self._approval_id,
                requested_at=workflow.now(),
            ),
            start_to_close_timeout=retry.DB_STEP_TIMEOUT,
            retry_policy=retry.DB_STEP_RETRY,
        )
        self._policy = opened.policy
        self._approval = opened.approval
        if opened.approval is None:
            self._claim(Action.APPROVE, actor="brain", channel=Channel.AUTO)
        else:
            self._set_state(RunState.AWAITING_APPROVAL)
        self._release_early_signals()

    async def _await_decision(self) -> None:
        while self._decision is None:
            assert self._approval is not None
            self._deadline_moved = False
            remaining = (self._approval.expires_at - workflow.now()).total_seconds()
            try:
                await workflow.wait_condition(
                    lambda: self._decision is not None or self._deadline_moved,
                    timeout=timedelta(seconds=max(remaining, 0.001)),
                    timeout_summary="approval timeout",
                )
            except TimeoutError:
                if self._decision is None and not self._deadline_moved:
                    self._decide_on_timeout()

    def _decide_on_timeout(self) -> None:
        assert self._policy is not None and self._approval is not None
        action = Action(self._policy.on_timeout)
        comment = f"no decision within {self._policy.approval_timeout_seconds} s"
        if action is Action.APPROVE and self._approval.proposal is None:
            # Nothing valid to approve: a step that needs review can only time out rejected.
            action, comment = Action.REJECT, comment + "; nothing valid to approve"
        self._claim(action, actor="timeout", channel=Channel.TIMEOUT, comment=comment)

    def _released_by_policy(self) -> bool:
        """A policy change approved the run: like the auto path, its audit row is written by
        the apply step, in the same transaction as the business row, a step sooner (a flip
        may release thousands of runs at once)."""
        assert self._decision is not None
        return self._decision.channel is Channel.POLICY

    async def _record_decision(self) -> None:
        assert self._run is not None and self._decision is not None
        approved = self._decision.action is Action.APPROVE
        state = RunState.RUNNING if approved else RunState.REJECTED
        await workflow.execute_local_activity_method(
            AuditActivities.record_decision,
            RecordDecision(run=self._run, decision=self._decision, state=state),
            start_to_close_timeout=retry.DB_STEP_TIMEOUT,
            retry_policy=retry.DB_STEP_RETRY,
        )
        self._set_state(state)

    async def _apply(self, apply: Any) -> None:
        assert self._run is not None and self._decision is not None and self._input is not None
        request = ApplyRequest(
            run=self._run,
            decision=self._decision,
            run_input=self._input.model_dump(mode="json"),
            requested_at=self._approval.requested_at if self._approval else None,
        )
        step = asyncio.ensure_future(
            workflow.execute_activity_method(
                apply,
                request,
                start_to_close_timeout=retry.APPLY_STEP_TIMEOUT,
                retry_policy=retry.APPLY_STEP_RETRY,
            )
        )
        try:
            self._result = await asyncio.shield(step)
        except asyncio.CancelledError:
            # Once the apply step has started, a cancel is too late: finish applying, so the
            # business row and the run's state never disagree.
            self._result = await step
        self._set_state(RunState.COMPLETED)

    async def _record_outcome(self, state: RunState, error: str | None = None) -> None:
        if self._run is None:
            return
        self._set_state(state)
        await workflow.execute_local_activity_method(
            AuditActivities.record_outcome,
            RecordOutcome(run=self._run, state=state, error=error, decision=self._decision),
            start_to_close_timeout=retry.DB_STEP_TIMEOUT,
            retry_policy=retry.DB_STEP_RETRY,
        )

    def _outcome(self) -> ProcessResult:
        assert self._run is not None
        return ProcessResult(
            workflow_id=self._run.workflow_id,
            process=self.process,
            tenant=self._run.tenant,
            state=self._state,
            decision=self._decision,
            result=self._result,
        )

    @workflow.query(description="The run's state, proposal, pending approval and decision.")
    def status(self) -> RunStatus:
        info = workflow.info()
        return RunStatus(
            workflow_id=info.workflow_id,
            process=self.process,
            tenant=self._run.tenant if self._run else "",
            state=self._state,
            ai=self._ai,
            policy=self._policy,
            approval=self._approval if self._decision is None else None,
            decision=self._decision,
            result=self._result,
            ignored_signals=self._ignored,
        )

    # ----- visibility ----------------------------------------------------------------

    def _set_state(self, state: RunState, *, searchable: bool = True) -> None:
        if state is self._state:
            return
        self._state = state
        self._refresh_details()
        if not searchable or not self._carries_brain_attributes():
            return
        updates = [BRAIN_STATE.value_set(state.value)]
        if self._ai is not None:
            updates.append(BRAIN_CONFIDENCE.value_set(self._ai.confidence))
        workflow.upsert_search_attributes(updates)

    @staticmethod
    def _carries_brain_attributes() -> bool:
        """Runs started by Brain carry its attributes from the start. A run started bare (the
        time-skipping test server, a namespace without them) must not upsert attributes the
        server does not know: that would fail every workflow task."""
        return workflow.info().typed_search_attributes.get(BRAIN_PROCESS) is not None

    def _refresh_details(self) -> None:
        workflow.set_current_details(
            render_details(
                workflow_id=workflow.info().workflow_id,
                process=self.process,
                state=self._state,
                ai=self._ai,
                policy=self._policy,
                approval=self._approval,
                decision=self._decision,
                ignored=self._ignored,
            )
        )
