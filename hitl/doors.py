"""The doors a decision comes through (SPEC §3): the Update ``decide`` (REST), the described
Signals ``approve`` and ``reject`` (Web UI, CLI), and a policy change that makes a parked
proposal auto-approvable. Each refuses what cannot apply and claims the decision
synchronously, so two decisions can never both pass.

A mixin of ``GatedWorkflow``: the state it reads is set up by the gate.
"""

from datetime import timedelta
from typing import Any

from pydantic import BaseModel, ValidationError
from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.policy import PolicyActivities
    from hitl.rules import needs_human
    from models.activity_io import RefreshPolicy, RunRef
    from models.ai import AIResult
    from models.hitl import (
        DecideRequest,
        Decision,
        DecisionPayload,
        PendingApproval,
        Policy,
        PolicyChange,
    )
    from models.processes import Action, Channel, Process
    from models.proposals import apply_edits
    from temporal import errors, retry

_SIGNAL_PAYLOAD_HELP = (
    'Payload (JSON, all fields optional): {"by": "<your name>", "comment": "...", '
    '"approval_id": "<from the current details>"'
)
_MAX_IGNORED = 20


class DecisionDoors:
    process: Process
    _run: RunRef | None
    _input: BaseModel | None
    _ai: AIResult | None
    _policy: Policy | None
    _approval: PendingApproval | None
    _approval_id: str
    _decision: Decision | None
    _ignored: list[str]
    _early_signals: list[tuple[Action, Any]]
    _deadline_moved: bool

    def _refresh_details(self) -> None:
        raise NotImplementedError

    def _release_early_signals(self) -> None:
        """Put held signals through the signal door, in arrival order, once the approval is
        open; the first valid one decides and the rest are refused as already decided. With
        no approval (the run proceeded on its own) they are recorded as ignored."""
        held, self._early_signals = self._early_signals, []
        for action, raw in held:
            if self._approval is None:
                reason = f"{action} signal ignored: nothing was pending; the run proceeded"
                self._ignored = [*self._ignored, reason][-_MAX_IGNORED:]
                continue
            self._decide_by_signal(action, raw)

    def _check_decidable(
        self, action: Action, approval_id: str | None, edits: dict[str, Any] | None
    ) -> dict[str, Any] | None:
        """Refuse a decision that cannot apply; return the final proposal otherwise.

        Pure (no state change), so the Update validator and the handlers share it.
        """
        if self._decision is not None:
            raise ApplicationError(
                f"approval {self._decision.approval_id} was already decided "
                f"({self._decision.action} by {self._decision.actor})",
                type=errors.ALREADY_DECIDED,
                non_retryable=True,
            )
        if self._approval is None:
            raise ApplicationError(
                "nothing is pending on this run", type=errors.NOTHING_PENDING, non_retryable=True
            )
        if approval_id is not None and approval_id != self._approval.approval_id:
            raise ApplicationError(
                f"approval {approval_id} is not the pending one ({self._approval.approval_id})",
                type=errors.STALE_APPROVAL,
                non_retryable=True,
            )
        if action is Action.REJECT:
            if edits:
                raise ApplicationError(
                    "edits apply to approvals only", type=errors.INVALID_EDITS, non_retryable=True
                )
            return self._approval.proposal
        if not edits:
            if self._approval.proposal is None:
                raise ApplicationError(
                    "this step needs review and has no proposal: approve it with edits "
                    "that form a complete proposal",
                    {"errors": [{"loc": ["edits"], "msg": "required", "type": "missing"}]},
                    type=errors.INVALID_EDITS,
                    non_retryable=True,
                )
            return self._approval.proposal
        assert self._input is not None
        try:
            return apply_edits(self.process, self._input, self._approval.proposal, edits)
        except ValidationError as err:
            raise ApplicationError(
                f"invalid edits: {err.error_count()} error(s)",
                {"errors": err.errors(include_url=False, include_context=False)},
                type=errors.INVALID_EDITS,
                non_retryable=True,
            ) from None

    def _claim(
        self,
        action: Action,
        *,
        actor: str,
        channel: Channel,
        comment: str | None = None,
        edits: dict[str, Any] | None = None,
        final: dict[str, Any] | None = None,
    ) -> Decision:
        """Take the decision. Synchronous on purpose: nothing can interleave with it."""
        assert self._ai is not None and self._policy is not None
        original = self._approval.proposal if self._approval else self._ai.proposal
        self._decision = Decision(
            approval_id=self._approval_id,
            action=action,
            actor=actor,
            channel=channel,
            comment=comment,
            edits=edits or None,
            original_proposal=original,
            final_proposal=final if final is not None else original,
            confidence=self._ai.confidence,
            threshold=self._policy.confidence_threshold,
            hitl_enabled=self._policy.hitl_enabled,
            policy_version=self._policy.version,
            decided_at=workflow.now(),
            model=self._ai.model,
            model_call=self._ai.call,
        )
        self._refresh_details()
        return self._decision

    def _decide_by_signal(self, action: Action, raw: Any) -> None:
        if self._approval is None and self._decision is None:
            # The gate has not opened in history yet, though its row may already say parked
            # (a worker died between writing it and completing the workflow task). A signal
            # is accepted durably, so hold it and decide the moment the approval opens.
            self._early_signals.append((action, raw))
            workflow.logger.info("%s signal held until the approval opens", action)
            return
        try:
            payload = DecisionPayload.model_validate(raw or {})
            final = self._check_decidable(action, payload.approval_id, payload.edits)
        except (ValidationError, ApplicationError) as err:
            # A bad signal must never break the run: log it, show it, keep waiting.
            reason = f"{action} signal ignored: {err}"
            workflow.logger.warning(reason)
            self._ignored = [*self._ignored, reason][-_MAX_IGNORED:]
            self._refresh_details()
            return
        self._claim(
            action,
            actor=payload.by or "temporal-ui",
            channel=Channel.SIGNAL,
            comment=payload.comment,
            edits=payload.edits,
            final=final,
        )

    @workflow.signal(
        description="Approve the pending proposal (Web UI / CLI). "
        + _SIGNAL_PAYLOAD_HELP
        + ', "edits": {<fields to change>}}'
    )
    def approve(self, payload: dict[str, Any] | None = None) -> None:
        self._decide_by_signal(Action.APPROVE, payload)

    @workflow.signal(
        description="Reject the pending proposal (Web UI / CLI). " + _SIGNAL_PAYLOAD_HELP + "}"
    )
    def reject(self, payload: dict[str, Any] | None = None) -> None:
        self._decide_by_signal(Action.REJECT, payload)

    @workflow.update(
        description="Decide the pending approval (REST door): approve, with optional edits, "
        "or reject. Refused when nothing is pending, the approval id is stale, it was "
        "already decided, or the edits are invalid."
    )
    def decide(self, request: DecideRequest) -> Decision:
        # Re-checked here: two updates in one activation both pass their validators.
        final = self._check_decidable(request.action, request.approval_id, request.edits)
        return self._claim(
            request.action,
            actor=request.by,
            channel=request.channel,
            comment=request.comment,
            edits=request.edits,
            final=final,
        )

    @decide.validator
    def _validate_decide(self, request: DecideRequest) -> None:
        self._check_decidable(request.action, request.approval_id, request.edits)

    @workflow.signal(
        description="Internal: a policy of this run's process changed; re-read it. "
        'Payload {"process", "tenant", "version", "changed_by"}, optionally "policy": the '
        "run's new effective policy."
    )
    async def policy_changed(self, change: PolicyChange) -> None:
        if not self._policy_change_applies(change.version):
            return
        policy = self._carried_policy(change)
        if policy is None or self._needs_human(policy):
            # It stays parked (or the signal carried nothing usable): read the policy, and
            # record the new threshold and deadline on the run's row for the inbox.
            policy = await self._refresh_policy(change.version)
            # Anything may have happened during the await; re-check before acting.
            if not self._policy_change_applies(policy.version):
                return
        self._adopt_policy(policy)
        if self._needs_human(policy):
            self._deadline_moved = True
            self._refresh_details()
            return
        self._claim(
            Action.APPROVE,
            actor=change.changed_by,
            channel=Channel.POLICY,
            comment=f"released by policy version {policy.version}",
        )

    def _policy_change_applies(self, version: int) -> bool:
        if self._approval is None or self._decision is not None or self._run is None:
            return False
        assert self._policy is not None
        return version > self._policy.version

    def _carried_policy(self, change: PolicyChange) -> Policy | None:
        policy = change.policy
        assert self._run is not None
        if (
            policy is None
            or policy.version < change.version
            or policy.process is not self.process
            or policy.tenant != self._run.tenant
        ):
            return None
        return policy

    def _needs_human(self, policy: Policy) -> bool:
        assert self._approval is not None
        return needs_human(policy, self._approval.confidence, self._approval.needs_review)

    async def _refresh_policy(self, min_version: int) -> Policy:
        assert self._run is not None
        return await workflow.execute_local_activity_method(
            PolicyActivities.refresh_policy,
            RefreshPolicy(run=self._run, min_version=min_version, approval=self._approval),
            start_to_close_timeout=retry.DB_STEP_TIMEOUT,
            retry_policy=retry.DB_STEP_RETRY,
        )

    def _adopt_policy(self, policy: Policy) -> None:
        assert self._approval is not None
        self._policy = policy
        self._approval = self._approval.model_copy(
            update={
                "threshold": policy.confidence_threshold,
                "hitl_enabled": policy.hitl_enabled,
                "policy_version": policy.version,
                "expires_at": self._approval.requested_at
                + timedelta(seconds=policy.approval_timeout_seconds),
            }
        )
