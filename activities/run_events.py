"""The events a run raises (SPEC §6), built from what its activities know. Each id is
derived from the fact it reports (``models.events.event_id``), so the retry of an activity,
or a reset that repeats a step, publishes nothing twice."""

from datetime import UTC, datetime
from typing import Any, Protocol

from models.activity_io import RunRef
from models.events import Event, EventType, event_id
from models.hitl import Decision, PendingApproval
from models.processes import RunState


class EventSink(Protocol):
    async def publish(self, event: Event) -> int: ...


class RunEvents:
    """Publishes a run's events to ``sink``; with none (no webhook subsystem), nothing."""

    def __init__(self, sink: EventSink | None) -> None:
        self._sink = sink

    async def publish(self, *events: Event) -> None:
        if self._sink is None:
            return
        for event in events:
            await self._sink.publish(event)


def _event(kind: EventType, run: RunRef, state: RunState, *id_parts: str, **data: Any) -> Event:
    body: dict[str, Any] = {
        "workflow_id": run.workflow_id,
        "process": run.process.value,
        "state": state.value,
        **({"subject": run.subject} if run.subject else {}),
        **data,
    }
    return Event(
        id=event_id(kind, run.workflow_id, *id_parts),
        type=kind,
        created_at=datetime.now(UTC),
        tenant=run.tenant,
        data=body,
    )


def approval_requested(run: RunRef, approval: PendingApproval) -> Event:
    return _event(
        EventType.APPROVAL_REQUESTED,
        run,
        RunState.AWAITING_APPROVAL,
        approval.approval_id,
        approval=approval.model_dump(mode="json"),
    )


def approval_waiting(kind: EventType, run: RunRef, approval: PendingApproval, n: int) -> Event:
    """A reminder (the ``n``-th) or the escalation of an approval still waiting."""
    return _event(
        kind, run, RunState.AWAITING_APPROVAL, approval.approval_id, str(n),
        approval=approval.model_dump(mode="json"),
    )  # fmt: skip


def vote_cast(run: RunRef, approval: PendingApproval, sequence: int) -> Event:
    vote = approval.votes[-1]
    return _event(
        EventType.APPROVAL_DECIDED,
        run,
        RunState.AWAITING_APPROVAL,
        approval.approval_id,
        f"vote-{sequence}",
        approval=approval.model_dump(mode="json"),
        vote=vote.model_dump(mode="json"),
        votes=len(approval.votes),
        needed=approval.min_approvals,
    )


def approval_decided(run: RunRef, decision: Decision, state: RunState) -> Event:
    return _event(
        EventType.APPROVAL_DECIDED,
        run,
        state,
        decision.approval_id,
        "decision",
        decision=decision.model_dump(mode="json"),
    )


def run_completed(
    run: RunRef, state: RunState, decision: Decision | None, result: dict[str, Any] | None
) -> Event:
    return _event(
        EventType.RUN_COMPLETED,
        run,
        state,
        decision=decision.model_dump(mode="json") if decision else None,
        result=result,
    )


def run_failed(run: RunRef, state: RunState, error: str | None) -> Event:
    return _event(EventType.RUN_FAILED, run, state, error=error)
