"""The apply step: write an approved proposal as its process's business row, exactly once.

One transaction holds the decision's audit row, the business row, the run's final state
and its events in the webhook outbox, so a retry or a replay can never half-apply, and the
audit row is written only by a step that runs after the workflow task that took the
decision was committed: it always names the decision the run applied. One activity per
process, named by its definition, built from the set of definitions.
"""

from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from activities.db_errors import database_step
from activities.webhooks import events
from activities.webhooks.events import EventSink, RunEvents
from core.gate_metrics import GateMetrics, default_metrics
from models.activity_io import ApplyRequest
from models.processes import Channel, RunState
from processes import registry
from processes.kit.definition import ProcessDefinition
from store import audit, business, runs

# Raises to refuse an apply (an integration being down, say); tests use it to make a
# run fail on a condition they control.
ApplyGuard = Callable[[ApplyRequest], None]


class ApplyActivities:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        guard: ApplyGuard | None = None,
        metrics: GateMetrics | None = None,
        events: EventSink | None = None,
    ) -> None:
        self._sessions = sessions
        self._guard = guard
        self._metrics = metrics or default_metrics()
        self._events = RunEvents(events)

    def activities(self) -> list[Callable[..., Any]]:
        return [self._activity_for(d) for d in registry.definitions()]

    def _activity_for(self, definition: ProcessDefinition) -> Callable[..., Any]:
        async def apply(req: ApplyRequest) -> dict[str, Any]:
            return await self._apply(definition, req)

        apply.__qualname__ = f"ApplyActivities.{definition.apply_activity}"
        return activity.defn(name=definition.apply_activity)(apply)

    async def _apply(self, definition: ProcessDefinition, req: ApplyRequest) -> dict[str, Any]:
        if req.decision.final_proposal is None:
            raise ValueError("an approved decision must carry a final proposal")
        run_input = definition.parse_input(req.run_input)
        values = definition.apply(run_input, req.decision.final_proposal)
        if self._guard is not None:
            self._guard(req)
        async with database_step(), self._sessions.begin() as session:
            earlier = [d for d in req.earlier if await audit.record(session, req.run, d)]
            inserted = await audit.record(session, req.run, req.decision)
            row = await business.write_once(
                session,
                definition.table,
                req.run.workflow_id,
                {"tenant": req.run.tenant, "approval_id": req.decision.approval_id, **values},
            )
            outcome: dict[str, Any] = {
                "state": RunState.COMPLETED.value,
                "decision": req.decision.model_dump(mode="json"),
                "result": row,
                "error": None,
            }
            if req.ai is None:
                await runs.set_fields(session, req.run.workflow_id, **outcome)
            else:
                # A run that passed every gate on its own has no other write: its row (made
                # here if the run was started outside Brain) gets the AI step's result too.
                await runs.upsert(
                    session,
                    req.run,
                    proposal=req.ai.proposal,
                    confidence=req.ai.confidence,
                    ai=req.ai.model_dump(mode="json"),
                    gate=req.gate,
                    approval_id=req.decision.approval_id,
                    subject=req.run.subject,
                    **outcome,
                )
            told = [events.run_completed(req.run, RunState.COMPLETED, req.decision, row)]
            if req.decision.channel is not Channel.AUTO:
                told.insert(0, events.approval_decided(req.run, req.decision, RunState.COMPLETED))
            await self._events.write(session, *told)
        for decision in earlier:
            self._metrics.decided(req.run.process, decision)
        if inserted:  # committed, and the first time: count it once
            self._metrics.decided(req.run.process, req.decision, req.requested_at)
        decision = req.decision
        activity.logger.info(
            "decision %s by %s via %s applied", decision.action, decision.actor, decision.channel
        )
        return row
