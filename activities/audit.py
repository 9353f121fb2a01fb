"""Audit activities: a rejection, a vote toward a quorum, a run that ended without
applying (canceled or failed). Each is a regular activity scheduled by the workflow task
that decided, so it runs only once that task was committed: a discarded task (a lost
update race, a failed or timed-out task, a killed worker) leaves no row behind.
"""

from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col
from temporalio import activity

from activities.db_errors import database_step
from activities.webhooks import events
from activities.webhooks.events import EventSink, RunEvents
from core.gate_metrics import GateMetrics, default_metrics
from models.activity_io import RecordDecision, RecordOutcome, RecordVote
from models.processes import Channel, RunState
from models.tables import RunRow, utcnow
from store import audit, runs
from store.db import sqlite_immediate

# Who cancelled a run that the REST API did not cancel (Web UI, CLI, another client).
OUTSIDE_CANCELLER = "temporal-ui"


class AuditActivities:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        metrics: GateMetrics | None = None,
        events: EventSink | None = None,
    ) -> None:
        self._sessions = sessions
        self._metrics = metrics or default_metrics()
        self._events = RunEvents(events)

    @activity.defn
    async def record_decision(self, req: RecordDecision) -> None:
        """Audit the decision and move the run to ``req.state`` (``rejected``, or, for runs
        started before the apply step took this over, ``running``)."""
        async with database_step(), self._sessions.begin() as session:
            earlier = [d for d in req.earlier if await audit.record(session, req.run, d)]
            inserted = await audit.record(session, req.run, req.decision)
            requested_at = await session.scalar(
                select(col(RunRow.requested_at)).where(
                    col(RunRow.workflow_id) == req.run.workflow_id
                )
            )
            await runs.set_fields(
                session,
                req.run.workflow_id,
                state=req.state.value,
                decision=req.decision.model_dump(mode="json"),
            )
            if req.state is RunState.REJECTED:
                await self._events.write(
                    session,
                    events.approval_decided(req.run, req.decision, req.state),
                    events.run_completed(req.run, req.state, req.decision, None),
                )
        for decision in earlier:
            self._metrics.decided(req.run.process, decision)
        if inserted:  # committed, and the first time: count it once
            self._metrics.decided(req.run.process, req.decision, requested_at)
            decision = req.decision
            activity.logger.info(
                "decision %s by %s via %s", decision.action, decision.actor, decision.channel
            )

    @activity.defn
    async def record_vote(self, req: RecordVote) -> None:
        """Show the votes so far on the parked run's row; an older vote never overwrites a
        newer one (votes may be recorded out of order)."""
        stmt = (
            update(RunRow)
            .where(
                col(RunRow.workflow_id) == req.run.workflow_id,
                col(RunRow.state) == RunState.AWAITING_APPROVAL.value,
                or_(
                    col(RunRow.approval_sequence).is_(None),
                    col(RunRow.approval_sequence) < req.sequence,
                ),
            )
            .values(
                approval=req.approval.model_dump(mode="json"),
                proposal=req.approval.proposal,
                approval_sequence=req.sequence,
                updated_at=utcnow(),
            )
        )
        async with database_step(), self._sessions.begin() as session:
            await session.execute(stmt)
            await self._events.write(session, events.vote_cast(req.run, req.approval, req.sequence))

    @activity.defn
    async def record_outcome(self, req: RecordOutcome) -> None:
        """The run ended without applying (canceled or failed); say so on its row. A
        decision no one recorded yet (the apply step writes those) is audited here: every
        decision is written once, applied or not. A cancel with no decision is audited as
        ``cancel`` by whoever asked for it."""
        inserted = False
        async with database_step(), self._sessions.begin() as session:
            # The cancel branch reads, then writes: on SQLite take the write lock first.
            await session.connection(execution_options=sqlite_immediate)
            earlier = [d for d in req.earlier if await audit.record(session, req.run, d)]
            if req.decision is not None:
                inserted = await audit.record(session, req.run, req.decision)
            elif req.state is RunState.CANCELED and req.approval_id is not None:
                row = await session.get(RunRow, req.run.workflow_id)
                by_api = row.cancel_requested_by if row is not None else None
                await audit.record_cancel(
                    session,
                    req.run,
                    approval_id=req.approval_id,
                    actor=by_api if by_api is not None else OUTSIDE_CANCELLER,
                    channel=Channel.API if by_api is not None else Channel.SIGNAL,
                    row=row,
                )
            decided: dict[str, Any] = (
                {"decision": req.decision.model_dump(mode="json")} if req.decision else {}
            )
            await runs.set_fields(
                session, req.run.workflow_id, state=req.state.value, error=req.error, **decided
            )
            told = [events.run_failed(req.run, req.state, req.error)]
            if req.decision is not None and req.decision.channel is not Channel.AUTO:
                # Decided but never applied: the decision is told all the same (once: a
                # replay that applies it later writes the same event id).
                told.insert(0, events.approval_decided(req.run, req.decision, req.state))
            await self._events.write(session, *told)
        for decision in earlier:
            self._metrics.decided(req.run.process, decision)
        if inserted:
            assert req.decision is not None
            self._metrics.decided(req.run.process, req.decision)
