"""The REST door of SPEC §3: a decision carried to the workflow as the Update ``decide``,
and a cancel. Temporal's answers are translated into the API's error hierarchy here."""

import asyncio
import hashlib
import json
import logging
from typing import Any, cast

from sqlalchemy.exc import SQLAlchemyError
from temporalio.client import (
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from api import errors, queries
from api.auth import Principal
from api.schemas import ApproveBody, CancelResponse, RejectBody, VoteRecorded
from api.state import AppState
from hitl.gate import GatedWorkflow
from models.activity_io import RunRef
from models.hitl import DecideOutcome, DecideRequest, Decision
from models.processes import Action, Channel, Process, RunState
from models.tables import RunRow
from store import audit, runs
from temporal import door
from temporal import errors as types

log = logging.getLogger(__name__)
# A retry is safe (the update id dedupes), so tell clients to come back soon.
_RETRY_AFTER_SECONDS = 2
# The refusals that mean "the approval moved on" (409); the API's error classes carry the
# same names as the workflow's ApplicationError types, so the JSON "error" is that type.
_REFUSALS: dict[str, type[errors.BrainError]] = {
    **{t: getattr(errors, t) for t in types.CONFLICT_TYPES},
    types.FOUR_EYES: errors.FourEyes,
    types.UNTRUSTED_DOOR: errors.UntrustedDoor,
    types.NOT_ELIGIBLE: errors.NotEligible,
    types.DOOR_CLOSED: errors.DoorClosed,
}
# Closed-run answers of the frontend: the execution is gone or no longer takes updates.
_CLOSED = (RPCStatusCode.NOT_FOUND, RPCStatusCode.FAILED_PRECONDITION)


async def visible_run(state: AppState, principal: Principal, workflow_id: str) -> RunRow:
    """The run's row; another tenant's run answers exactly like a missing one."""
    row = await queries.get_run(state.sessions, workflow_id)
    if row is None or not principal.can_see(row.tenant):
        raise errors.WorkflowNotFound(f"no workflow {workflow_id!r}")
    return row


def update_id(request: DecideRequest, under_vote: dict[str, Any] | None = None) -> str:
    """Stable per (approval, proposal under vote, action, subject, body): a retried request
    attaches to the first and gets its answer; a different request by the same person (other
    edits, another comment) is a new decision, which the run refuses (409) if one was taken.
    The proposal under vote counts because an edit restarts a quorum: the same approve sent
    again afterwards is a new vote, not a retry of the old one."""
    body = request.model_dump(mode="json", include={"comment", "edits"})
    key = "\x1f".join(
        (
            request.approval_id or "-",
            json.dumps(under_vote, sort_keys=True, default=str),
            request.action.value,
            request.by,
            json.dumps(body, sort_keys=True),
        )
    )
    return f"decide-{hashlib.sha256(key.encode()).hexdigest()[:40]}"


async def decide(
    state: AppState,
    principal: Principal,
    workflow_id: str,
    action: Action,
    body: ApproveBody | RejectBody,
    *,
    channel: Channel = Channel.API,
    origin: dict[str, str] | None = None,
) -> Decision | VoteRecorded:
    """Carry a decision to the run through a signed door: the REST API, or Slack (the
    API's Slack route, ``channel`` slack, ``origin`` the Slack user and team)."""
    row = await visible_run(state, principal, workflow_id)
    # Pin the approval read now, so that retries of this request share one update id.
    approval_id = body.approval_id or _pending_id(row)
    request = DecideRequest(
        action=action,
        by=principal.sub,
        approval_id=approval_id,
        comment=body.comment,
        edits=getattr(body, "edits", None),
        channel=channel,
        # Verified by the token; the signature below vouches for them to the run.
        groups=list(principal.groups),
        origin=origin,
    )
    assert state.door_key is not None
    signature = door.sign(state.door_key, workflow_id, request.model_dump(mode="json"))
    request = request.model_copy(update={"door_signature": signature})
    handle = state.client.get_workflow_handle(workflow_id)
    under_vote = row.approval.get("proposal") if isinstance(row.approval, dict) else None
    call = handle.execute_update(GatedWorkflow.decide, request, id=update_id(request, under_vote))
    try:
        # The handler is async (it may wait for the next gate): the SDK types its result as
        # the coroutine, not what the coroutine returns.
        outcome = cast(DecideOutcome, await asyncio.wait_for(call, timeout=state.confirm_timeout))
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError):
        raise _not_confirmed() from None
    except WorkflowUpdateFailedError as e:
        raise _refusal(e.cause) from None
    except RPCError as e:
        if e.status is RPCStatusCode.RESOURCE_EXHAUSTED:
            raise errors.RateLimited(
                "too many decisions in flight for this run", retry_after=_RETRY_AFTER_SECONDS
            ) from None
        if e.status in _CLOSED:
            return await _first_outcome_or_closed(state, workflow_id, request)
        if e.status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED):
            raise _not_confirmed() from None
        raise
    # An approval's audit row and run row are written by the run's apply step (within
    # milliseconds), in one transaction, so a read that shows it completed shows its audit
    # too; writing them here as well was a second write of each on every approval. A
    # rejection applies nothing: it is recorded here at once, so a read that follows the
    # answer says rejected and finds the audit row with it.
    if outcome.decision is not None and outcome.decision.action is Action.REJECT:
        await _record_rejection(state, row, outcome.decision)
    return answer(outcome)


async def _record_rejection(state: AppState, row: RunRow, decision: Decision) -> None:
    """The rejection the run just confirmed: its audit row and the rejected state, in one
    transaction (the run's own step writes the same a moment later; the first write wins, per
    approval). Safe here: an Update's result comes back only once the workflow task that took
    the decision has been committed. A failure is left to the run."""
    run = RunRef(
        workflow_id=row.workflow_id,
        run_id=row.run_id or "",
        tenant=row.tenant,
        process=Process(row.process),
    )
    try:
        async with state.sessions.begin() as session:
            inserted = await audit.record(session, run, decision)
            await runs.set_fields(
                session,
                row.workflow_id,
                only_state=RunState.AWAITING_APPROVAL.value,
                state=RunState.REJECTED.value,
                decision=decision.model_dump(mode="json"),
            )
    except (SQLAlchemyError, OSError) as err:
        log.warning("rejection of %s confirmed; its rows are left to the run: %s", run, err)
        return
    if inserted:
        state.metrics.decided(run.process, decision, row.requested_at)


def answer(outcome: DecideOutcome) -> Decision | VoteRecorded:
    """The decision once taken; otherwise the votes so far toward the quorum."""
    if outcome.decision is not None:
        return outcome.decision
    return VoteRecorded(
        approval_id=outcome.approval_id,
        votes=outcome.votes,
        needed=outcome.needed,
        voters=outcome.voters,
    )


def _pending_id(row: RunRow) -> str | None:
    pending = row.approval.get("approval_id") if isinstance(row.approval, dict) else None
    return pending if isinstance(pending, str) else row.approval_id


def _not_confirmed() -> errors.NotConfirmed:
    return errors.NotConfirmed(
        "no worker confirmed the decision in time; retrying the same request is safe",
        retry_after=_RETRY_AFTER_SECONDS,
    )


def _refusal(cause: BaseException | None) -> errors.BrainError:
    if not isinstance(cause, ApplicationError):
        return errors.Conflict(f"the run refused the decision: {cause}")
    if cause.type == types.INVALID_EDITS:
        details: Any = cause.details[0] if cause.details else {}
        found = details.get("errors") if isinstance(details, dict) else None
        return errors.InvalidEdits(
            errors.field_errors(found, ("body", "edits"))
            if found
            else [{"loc": ["body", "edits"], "msg": cause.message, "type": "value_error"}]
        )
    refusal = _REFUSALS.get(cause.type or "", errors.Conflict)
    return refusal(cause.message)


async def _first_outcome_or_closed(
    state: AppState, workflow_id: str, request: DecideRequest
) -> Decision:
    """The run has closed. If it closed on this very decision (a retry whose first answer
    was lost), answer with that decision; otherwise say why nothing can be decided."""
    row = await queries.get_run(state.sessions, workflow_id)
    recorded = row.decision if row is not None else None
    if not isinstance(recorded, dict):
        raise errors.WorkflowClosed("the run is closed; nothing can be decided on it")
    decision = Decision.model_validate(recorded)
    if _retry_of(decision, request):
        return decision
    # A racing decision won and the run finished before this one reached it.
    raise errors.AlreadyDecided(
        f"approval {decision.approval_id} was already decided "
        f"({decision.action.value} by {decision.actor})"
    )


def _retry_of(decision: Decision, request: DecideRequest) -> bool:
    """Whether ``request`` repeats one that took part in ``decision``: the same person,
    action and approval, asking for nothing the decision lacks. The same person with other
    edits or another comment is a second decision, refused (409), not answered with the
    first as if its edits had applied."""
    if decision.channel is not request.channel or decision.action is not request.action:
        return False
    if request.approval_id not in (None, decision.approval_id):
        return False
    applied, asked = decision.edits or {}, request.edits or {}
    if len(decision.approvers) <= 1:
        # One approver: the decision's edits are exactly that request's.
        if asked != applied:
            return False
    elif any(k not in applied or applied[k] != v for k, v in asked.items()):
        # A quorum merges every voter's edits: a vote's own must be among them.
        return False
    if decision.actor == request.by:
        return (decision.comment or None) == (request.comment or None)
    # An earlier vote of a quorum: the decision keeps who voted, not each vote's comment.
    return request.by in decision.approvers


async def cancel(state: AppState, principal: Principal, workflow_id: str) -> CancelResponse:
    row = await visible_run(state, principal, workflow_id)
    if row.state not in queries.CANCELABLE or isinstance(row.decision, dict):
        raise errors.NotCancelable(f"the run is {row.state} and can no longer be canceled")
    if not await queries.mark_cancel_requested(state.sessions, workflow_id, principal.sub):
        raise errors.NotCancelable("the run moved on and can no longer be canceled")
    try:
        await state.client.get_workflow_handle(workflow_id).cancel()
    except RPCError as e:
        await queries.mark_cancel_requested(state.sessions, workflow_id, None)
        if e.status in _CLOSED:
            raise errors.WorkflowClosed("the run has already closed") from None
        raise
    marked = await visible_run(state, principal, workflow_id)
    assert marked.cancel_requested_by and marked.cancel_requested_at
    return CancelResponse(
        workflow_id=workflow_id,
        state=RunState(marked.state),
        cancel_requested_by=marked.cancel_requested_by,
        cancel_requested_at=queries.utc(marked.cancel_requested_at),
    )
