"""Who may decide, and what a decision does to the pending approval (SPEC §3).

Pure functions over ``GateState``: the Update's validator and handler and the signal door
all check through ``check``; ``cast`` then applies an accepted approve or reject, so a
quorum counts the same whichever door a vote came through. Nothing here awaits: a claim
is synchronous, so two decisions can never both pass.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from temporalio.exceptions import ApplicationError

from core.identity import same_subject
from hitl.eligibility import judge
from hitl.state import GateState
from models.hitl import DecideOutcome, DecideRequest, Decision, PendingApproval, Policy, Vote
from models.processes import Action, Channel
from processes.kit.definition import ProcessDefinition
from processes.kit.edits import EditsRefused, compact_errors
from temporal import door, errors


def _refuse(kind: str, message: str, details: Any = None) -> ApplicationError:
    args = (details,) if details is not None else ()
    return ApplicationError(message, *args, type=kind, non_retryable=True)


def invalid_edits(found: list[dict[str, Any]]) -> ApplicationError:
    """The first errors, field and reason, in the message: the Web UI shows only that."""
    said = "; ".join(
        f"{'.'.join(str(p) for p in ['edits', *e['loc']])}: {e['msg']}" for e in found[:3]
    )
    return _refuse(errors.INVALID_EDITS, f"invalid edits ({said})", {"errors": found})


@dataclass(frozen=True)
class Ballot:
    """What an accepted decision would do: the proposal it settles on, and whether its
    edits changed the proposal under vote."""

    final: dict[str, Any] | None
    changed: bool


def check_channel(workflow_id: str, request: DecideRequest) -> None:
    """Channels ``api`` and ``slack`` only with the API's signature (it vouches for the
    subject and groups); ``cli`` and ``signal`` are the operators' (trusted, like the
    Signals, with no groups); the gate's own channels cannot be claimed. For the Update's
    validator only: it never runs on replay, so a rotated key never breaks one."""
    if request.channel in (Channel.SIGNAL, Channel.CLI):
        if request.groups is not None:
            raise _refuse(
                errors.UNTRUSTED_DOOR,
                f"channel {request.channel} cannot carry groups: only a signed door proves them",
            )
        return
    if request.channel in (Channel.API, Channel.SLACK):
        if door.verify(workflow_id, request.model_dump(mode="json"), request.door_signature):
            return
        raise _refuse(
            errors.UNTRUSTED_DOOR,
            f"channel {request.channel} is reserved to the REST API and this request is not "
            "signed by it; decide over channel cli or signal as an operator",
        )
    raise _refuse(
        errors.UNTRUSTED_DOOR,
        f"channel {request.channel} belongs to the gate and cannot be claimed",
    )


def check(
    state: GateState,
    definition: ProcessDefinition,
    action: Action,
    actor: str,
    approval_id: str | None,
    edits: dict[str, Any] | None,
    *,
    channel: Channel,
    groups: list[str] | None = None,
) -> Ballot:
    """Refuse a decision that cannot apply (``ApplicationError`` of a ``temporal.errors``
    type); return what it would do otherwise. Changes nothing. ``groups``: the actor's
    groups as a verified door proved them (``None`` otherwise)."""
    if state.decision is not None:
        raise _refuse(
            errors.ALREADY_DECIDED,
            f"approval {state.decision.approval_id} was already decided "
            f"({state.decision.action} by {state.decision.actor})",
        )
    approval = state.approval
    if approval is None:
        raise _refuse(errors.NOTHING_PENDING, "nothing is pending on this run")
    if approval_id is not None and approval_id != approval.approval_id:
        raise _refuse(
            errors.STALE_APPROVAL,
            f"approval {approval_id} is not the pending one ({approval.approval_id})",
        )
    entry = channel.door
    if entry is None:
        raise _refuse(errors.UNTRUSTED_DOOR, f"channel {channel} is not a door people use")
    refusal = judge(
        approval,
        actor,
        groups if entry.verified else None,
        entry,
        case_sensitive=_case_sensitive(state),
    )
    if refusal is not None:
        raise _refuse(refusal.kind, refusal.reason)
    if action is Action.REJECT:
        if edits:
            raise invalid_edits(
                [{"loc": [], "msg": "edits apply to approvals only", "type": "value_error"}]
            )
        return Ballot(final=approval.proposal, changed=False)
    if not approval.requester_may_approve and _same(state, actor, state.requested_by):
        raise _refuse(
            errors.FOUR_EYES,
            f"four-eyes: {actor} requested this run and may not approve it",
        )
    final = _final_proposal(state, definition, approval, edits)
    changed = final != approval.proposal
    if not changed and any(_same(state, v.actor, actor) for v in approval.votes):
        raise _refuse(errors.ALREADY_VOTED, f"{actor} has already approved this proposal")
    return Ballot(final=final, changed=changed)


def _case_sensitive(state: GateState) -> bool:
    return state.case_sensitive


def _same(state: GateState, a: str, b: str) -> bool:
    """One person? Runs from gate 5 on compare after the identity rule (core/identity.py);
    runs before compare raw strings, as they did when recorded."""
    if state.version < 5:
        return a == b
    return same_subject(a, b, case_sensitive=state.case_sensitive)


def _final_proposal(
    state: GateState,
    definition: ProcessDefinition,
    approval: PendingApproval,
    edits: dict[str, Any] | None,
) -> dict[str, Any] | None:
    if not edits:
        if approval.proposal is None:
            raise invalid_edits(
                [
                    {
                        "loc": [],
                        "msg": "this step needs review and has no proposal: approve it with "
                        "edits that form a complete proposal",
                        "type": "missing",
                    }
                ]
            )
        return approval.proposal
    assert state.input is not None
    try:
        return definition.apply_edits(state.input, approval.proposal, edits)
    except EditsRefused as err:
        raise invalid_edits(err.errors) from None
    except ValidationError as err:
        raise invalid_edits(compact_errors(err.errors(include_url=False))) from None


def cast(
    state: GateState,
    ballot: Ballot,
    action: Action,
    *,
    actor: str,
    channel: Channel,
    comment: str | None,
    edits: dict[str, Any] | None,
    now: datetime,
    origin: dict[str, str] | None = None,
) -> DecideOutcome:
    """Apply an accepted vote: a reject decides; an approve counts toward the quorum (an
    edit restarts the count with this vote) and decides once it is reached. ``origin``:
    where the vote came from beyond its channel (the Slack user and team)."""
    approval = state.approval
    assert approval is not None
    if action is Action.REJECT:
        claim(
            state,
            Action.REJECT,
            actor=actor,
            channel=channel,
            comment=comment,
            now=now,
            origin=origin,
        )
        return outcome(state)
    vote = Vote(actor=actor, channel=channel, at=now, comment=comment, origin=origin)
    if ballot.changed:
        state.edits = {**state.edits, **(edits or {})}
        approval = approval.model_copy(update={"proposal": ballot.final, "votes": [vote]})
    else:
        approval = approval.model_copy(update={"votes": [*approval.votes, vote]})
    state.approval = approval
    if len(approval.votes) >= approval.min_approvals:
        claim(
            state,
            Action.APPROVE,
            actor=actor,
            channel=channel,
            comment=comment,
            now=now,
            origin=origin,
        )
    else:
        state.vote_sequence += 1
        state.unrecorded_votes.append((state.vote_sequence, approval))
    return outcome(state)


def claim(
    state: GateState,
    action: Action,
    *,
    actor: str,
    channel: Channel,
    now: datetime,
    comment: str | None = None,
    origin: dict[str, str] | None = None,
) -> Decision:
    """Take the current gate's decision. Synchronous on purpose: nothing can interleave
    with it. An approval carries the proposal on to the next gate, edits included."""
    assert state.ai is not None and state.policy is not None
    approval = state.approval
    original = state.proposal
    final = approval.proposal if approval is not None else original
    approvers = [v.actor for v in approval.votes] if approval is not None else []
    state.decision = Decision(
        approval_id=state.approval_id,
        action=action,
        actor=actor,
        channel=channel,
        comment=comment,
        edits=state.edits or None,
        original_proposal=original,
        final_proposal=final,
        confidence=state.ai.confidence,
        threshold=state.policy.confidence_threshold,
        hitl_enabled=state.policy.hitl_enabled,
        policy_version=state.policy.version,
        decided_at=now,
        model=state.ai.model,
        model_call=state.ai.call,
        approvers=approvers if action is Action.APPROVE else [],
        gate=state.gate,
        origin=origin,
        requested_at=approval.requested_at if approval is not None else None,
    )
    state.decisions.append(state.decision)
    state.unaudited.append(state.decision)
    if action is Action.APPROVE:
        state.proposal = final
        # From this moment, in this very activation, a decision for the next gate waits.
        state.between_gates = state.more_gates
    return state.decision


def outcome(state: GateState) -> DecideOutcome:
    approval = state.approval
    voters = [v.actor for v in approval.votes] if approval is not None else []
    return DecideOutcome(
        approval_id=state.approval_id,
        decision=state.decision,
        votes=len(voters),
        needed=approval.min_approvals if approval is not None else 1,
        voters=voters,
    )


def settled_by_policy(state: GateState, policy: Policy) -> bool:
    """Whether ``policy`` settles the pending approval without another person: the
    proposal no longer needs one, or the votes already cast now meet the quorum."""
    approval = state.approval
    assert approval is not None
    if not policy.needs_human(approval.confidence, approval.needs_review):
        return True
    return approval.proposal is not None and 0 < len(approval.votes) >= policy.min_approvals
