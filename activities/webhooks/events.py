"""The events a run raises (SPEC §6), built from what its activities know, and the seam
through which those activities write them: ``RunEvents.write(session, ...)``, inside the
transaction of the step that raised them (``outbox.py``).

Ids follow SPEC §8: ``<approval_id>:<type>`` for an approval's events, ``<workflow_id>:<type>``
for a run's, with ``:<n>`` for a fact that repeats (the n-th reminder, a vote), so the retry
of an activity, or a reset that repeats a step, writes nothing twice.
"""

from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from models.activity_io import RunRef
from models.events import Event, EventType, event_id
from models.hitl import Decision, PendingApproval
from models.processes import RunState


class EventSink(Protocol):
    """Where a step's events go: ``Outbox`` in Brain, a recorder in tests."""

    async def write(self, session: AsyncSession, *events: Event) -> int: ...


class RunEvents:
    """Writes a run's events to ``sink`` in the caller's transaction; with no sink (no
    webhook subsystem), nothing."""

    def __init__(self, sink: EventSink | None) -> None:
        self._sink = sink

    async def write(self, session: AsyncSession, *events: Event) -> None:
        if self._sink is not None:
            await self._sink.write(session, *events)


def _event(
    kind: EventType, about: str, run: RunRef, state: RunState, *repeat: str | int, **data: Any
) -> Event:
    body: dict[str, Any] = {
        "workflow_id": run.workflow_id,
        "process": run.process.value,
        "state": state.value,
        **({"subject": run.subject} if run.subject else {}),
        **data,
    }
    return Event(
        id=event_id(about, kind, *repeat),
        type=kind,
        created_at=datetime.now(UTC),
        tenant=run.tenant,
        data=body,
    )


def _gate(of: PendingApproval | Decision) -> dict[str, Any]:
    """``gate``, for a process with several gates: the one this approval or decision is at."""
    gate = getattr(of, "gate", None)
    return {"gate": gate} if gate else {}


def approval_requested(run: RunRef, approval: PendingApproval) -> Event:
    return _event(
        EventType.APPROVAL_REQUESTED,
        approval.approval_id,
        run,
        RunState.AWAITING_APPROVAL,
        **_gate(approval),
        approval=approval.model_dump(mode="json"),
    )


def approval_waiting(kind: EventType, run: RunRef, approval: PendingApproval, n: int) -> Event:
    """The ``n``-th reminder of an approval still waiting, or its escalation (once)."""
    repeat = (n,) if kind is EventType.APPROVAL_REMINDER else ()
    return _event(
        kind, approval.approval_id, run, RunState.AWAITING_APPROVAL, *repeat,
        **_gate(approval), approval=approval.model_dump(mode="json"),
    )  # fmt: skip


def vote_cast(run: RunRef, approval: PendingApproval, sequence: int) -> Event:
    vote = approval.votes[-1]
    return _event(
        EventType.APPROVAL_DECIDED,
        approval.approval_id,
        run,
        RunState.AWAITING_APPROVAL,
        f"vote-{sequence}",
        **_gate(approval),
        approval=approval.model_dump(mode="json"),
        vote=vote.model_dump(mode="json"),
        votes=len(approval.votes),
        needed=approval.min_approvals,
    )


def approval_decided(run: RunRef, decision: Decision, state: RunState) -> Event:
    return _event(
        EventType.APPROVAL_DECIDED,
        decision.approval_id,
        run,
        state,
        **_gate(decision),
        decision=decision.model_dump(mode="json"),
    )


def run_completed(
    run: RunRef, state: RunState, decision: Decision | None, result: dict[str, Any] | None
) -> Event:
    return _event(
        EventType.RUN_COMPLETED,
        run.workflow_id,
        run,
        state,
        decision=decision.model_dump(mode="json") if decision else None,
        result=result,
    )


def run_failed(run: RunRef, state: RunState, error: str | None) -> Event:
    return _event(EventType.RUN_FAILED, run.workflow_id, run, state, error=error)
