"""Policy-store activities of the gate: read the policy at the gate, and again when it
changes while a run is parked. Results land in history, so replay is deterministic."""

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.db_errors import database_step
from activities.gates import judge
from activities.webhooks import events
from activities.webhooks.events import EventSink, RunEvents
from core.gate_metrics import GateMetrics, default_metrics
from models.activity_io import (
    GateOpened,
    GatesOpened,
    OpenGate,
    OpenGates,
    ParkAt,
    RefreshPolicy,
)
from models.hitl import PendingApproval, Policy
from models.processes import Channel, RunState
from processes import registry
from store import audit, runs
from store.db import sqlite_immediate
from store.policies import PolicyStore
from temporal import errors


class PolicyActivities:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        policies: PolicyStore,
        metrics: GateMetrics | None = None,
        events: EventSink | None = None,
    ) -> None:
        self._sessions = sessions
        self._policies = policies
        self._metrics = metrics or default_metrics()
        self._events = RunEvents(events)

    @activity.defn
    async def open_gate(self, req: OpenGate) -> GateOpened:
        """Read the effective policy, decide whether a person must look, record the run.

        A local activity: its write may outlive a workflow task that is then discarded, so
        it writes only what stays true if that happens (the run's row, which the retried
        task rewrites; an ``approval.requested`` event in the webhook outbox, in the same
        transaction, whose id makes the retried task's write a no-op)."""
        async with database_step(), self._sessions.begin() as session:
            # One transaction reads the policy and records the run (SQLite: the write lock
            # from BEGIN, so the read cannot go stale before the write).
            await session.connection(execution_options=sqlite_immediate)
            policy = await self._policies.effective(
                req.run.process, req.run.tenant, session=session
            )
            approval = _approval(req, policy)
            await runs.upsert(
                session,
                req.run,
                state=(RunState.AWAITING_APPROVAL if approval else RunState.RUNNING).value,
                proposal=req.ai.proposal,
                confidence=req.ai.confidence,
                ai=req.ai.model_dump(mode="json"),
                approval=approval.model_dump(mode="json") if approval else None,
                approval_id=req.approval_id,
                requested_at=req.requested_at if approval else None,
                policy_version=policy.version,
                approval_sequence=None,
            )
            if approval is not None:
                await self._events.write(session, events.approval_requested(req.run, approval))
        ai = req.ai
        if approval is not None:
            self._metrics.approval_requested(req.run.process)
            activity.logger.info(
                "parked for a person: confidence %.2f, threshold %.2f, hitl %s",
                ai.confidence,
                policy.confidence_threshold,
                policy.hitl_enabled,
            )
        else:
            activity.logger.info("proceeds on its own: confidence %.2f", ai.confidence)
        return GateOpened(policy=policy, approval=approval)

    @activity.defn
    async def open_gates(self, req: OpenGates) -> GatesOpened:
        """Read the policies of the gates from ``req.first`` on, in one statement; judge
        each gate in order (its condition on the proposal, then whether a person must
        look); record the run as parked at the first gate that needs a person, or as
        proceeding. The verdicts, recorded in history, are what the run follows.

        Run as a local activity when the AI step's proposal reaches the first gate: its
        write may outlive a discarded workflow task, so it writes only what stays true then
        (the run's row, which the retried task rewrites; an ``approval.requested`` event
        whose id dedupes a repeat). Run as a regular activity after a person decided a gate,
        scheduled by the committed task that took the decision: then ``req.record`` holds
        the decisions to audit, in the same transaction as the run's new row."""
        definition = registry.definition(req.run.process)
        gates = definition.gates[req.first :]
        run_input = definition.parse_input(req.run_input) if req.run_input is not None else None
        async with database_step(), self._sessions.begin() as session:
            await session.connection(execution_options=sqlite_immediate)
            recorded = [d for d in req.record if await audit.record(session, req.run, d)]
            policies = await self._policies.effective_gates(
                req.run.process, req.run.tenant, [g.name for g in gates], session=session
            )
            verdicts = judge(
                definition,
                req.run,
                req.ai,
                req.proposal,
                run_input,
                req.first,
                policies,
                req.requested_at,
                req.requested_by,
            )
            parked = verdicts[-1].approval
            last = verdicts[-1]
            await runs.upsert(
                session,
                req.run,
                state=(RunState.AWAITING_APPROVAL if parked else RunState.RUNNING).value,
                proposal=req.proposal,
                confidence=req.ai.confidence,
                ai=req.ai.model_dump(mode="json"),
                approval=parked.model_dump(mode="json") if parked else None,
                approval_id=last.approval_id,
                gate=last.gate,
                subject=req.run.subject,
                requested_at=req.requested_at if parked else None,
                policy_version=last.policy.version,
                approval_sequence=None,
                **({"decision": req.record[-1].model_dump(mode="json")} if req.record else {}),
            )
            told = [
                events.approval_decided(req.run, d, RunState.RUNNING)
                for d in req.record
                if d.channel is not Channel.AUTO
            ]
            if parked is not None:
                told.append(events.approval_requested(req.run, parked))
            if told:
                await self._events.write(session, *told)
        for decision in recorded:  # committed, and the first time: count it once
            self._metrics.decided(req.run.process, decision)
        if parked is not None:
            self._metrics.approval_requested(req.run.process)
            activity.logger.info(
                "parked at gate %s: confidence %.2f, threshold %.2f, hitl %s",
                last.gate,
                req.ai.confidence,
                last.policy.confidence_threshold,
                last.policy.hitl_enabled,
            )
        return GatesOpened(verdicts=verdicts)

    @activity.defn
    async def park(self, req: ParkAt) -> None:
        """Record the run as parked at the gate the AI step's verdicts stopped at: its row
        (the inbox) and ``approval.requested``, in one transaction. A local activity: a
        discarded task rewrites the same row and the event's id dedupes it, so what it
        writes stays true whether or not that task happened."""
        verdict, approval = req.verdict, req.verdict.approval
        assert approval is not None
        async with database_step(), self._sessions.begin() as session:
            await runs.upsert(
                session,
                req.run,
                state=RunState.AWAITING_APPROVAL.value,
                proposal=req.proposal,
                confidence=req.ai.confidence,
                ai=req.ai.model_dump(mode="json"),
                approval=approval.model_dump(mode="json"),
                approval_id=verdict.approval_id,
                gate=verdict.gate,
                subject=req.run.subject,
                requested_at=approval.requested_at,
                policy_version=verdict.policy.version,
                approval_sequence=None,
            )
            await self._events.write(session, events.approval_requested(req.run, approval))
        self._metrics.approval_requested(req.run.process)
        activity.logger.info(
            "parked at gate %s: confidence %.2f, threshold %.2f, hitl %s",
            verdict.gate,
            req.ai.confidence,
            verdict.policy.confidence_threshold,
            verdict.policy.hitl_enabled,
        )

    @activity.defn
    async def refresh_policy(self, req: RefreshPolicy) -> Policy:
        """Re-read the policy for a parked run; never older than the change that woke it."""
        async with database_step():
            policy = await self._policies.effective(
                req.run.process, req.run.tenant, gate=req.gate, min_version=req.min_version
            )
        if policy.version < req.min_version:
            # ``effective`` read the database itself (the cache held an older version), and
            # the broadcast signals only after the write committed: a version the database
            # does not hold was never written, whoever sent it. Retrying cannot help.
            raise ApplicationError(
                f"policy version {req.min_version} does not exist (the newest is {policy.version})",
                type=errors.POLICY_NOT_CURRENT,
                non_retryable=True,
            )
        approval = req.approval.under(policy) if req.approval is not None else None
        async with database_step(), self._sessions.begin() as session:
            await runs.set_fields(
                session,
                req.run.workflow_id,
                only_state=RunState.AWAITING_APPROVAL.value,
                policy_version=policy.version,
                approval=approval.model_dump(mode="json") if approval else None,
            )
        return policy


def _approval(req: OpenGate, policy: Policy) -> PendingApproval | None:
    """The pending approval the policy asks for; None: the run proceeds on its own."""
    ai = req.ai
    if not policy.needs_human(ai.confidence, ai.needs_review):
        return None
    return PendingApproval(
        approval_id=req.approval_id,
        process=req.run.process,
        proposal=ai.proposal,
        confidence=ai.confidence,
        threshold=policy.confidence_threshold,
        hitl_enabled=policy.hitl_enabled,
        rationale=ai.rationale,
        requested_at=req.requested_at,
        expires_at=req.requested_at + timedelta(seconds=policy.approval_timeout_seconds),
        needs_review=ai.needs_review,
        error=ai.error,
        policy_version=policy.version,
        requested_by=req.requested_by,
        min_approvals=policy.min_approvals,
        requester_may_approve=policy.requester_may_approve,
    )
