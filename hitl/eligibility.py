"""Who may decide a gate, and through which door (SPEC §8). Pure, so the gate (in workflow
code, on every door) and the API (``GET /approvals?mine=true``) judge alike.

The policy's ``approver_groups`` and ``approver_subjects`` name who may decide; both empty
means any approver of the tenant. Groups are proven only by a verified door (a token's
``groups`` over REST, the Slack mapping): a Temporal-side caller (a signal, the CLI) types
its ``by``, which can match ``approver_subjects`` and nothing else. Admins are not eligible
by role: eligibility is the policy's alone.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from core.identity import subject_key
from models.hitl import PendingApproval
from models.processes import Door
from temporal import errors


@dataclass(frozen=True)
class Refusal:
    kind: str  # errors.DOOR_CLOSED or errors.NOT_ELIGIBLE
    reason: str


def judge(
    approval: PendingApproval,
    actor: str,
    groups: Sequence[str] | None,
    door: Door,
    *,
    case_sensitive: bool = False,
) -> Refusal | None:
    """``None`` when ``actor`` may decide ``approval`` through ``door``; ``groups`` are the
    actor's verified groups (``None`` through a door that cannot prove them)."""
    gate = f"gate {approval.gate}" if approval.gate else "this gate"
    if door not in approval.doors:
        doors = ", ".join(d.value for d in approval.doors)
        return Refusal(
            errors.DOOR_CLOSED, f"{gate} takes decisions only through: {doors} (not {door.value})"
        )
    if may_decide(approval, actor, groups, case_sensitive=case_sensitive):
        return None
    who = []
    if approval.approver_groups:
        who.append("groups " + ", ".join(approval.approver_groups))
    if approval.approver_subjects:
        who.append("people " + ", ".join(approval.approver_subjects))
    reason = f"{actor} may not decide {gate}: it is for " + " and ".join(who)
    if not door.verified and approval.approver_groups:
        reason += (
            f"; a name typed through the {door.value} door cannot prove group membership: "
            "decide over the REST API or Slack, or be named in approver_subjects"
        )
    return Refusal(errors.NOT_ELIGIBLE, reason)


def may_decide(
    approval: PendingApproval,
    actor: str,
    groups: Sequence[str] | None,
    *,
    case_sensitive: bool = False,
) -> bool:
    if not approval.approver_groups and not approval.approver_subjects:
        return True
    key = subject_key(actor, case_sensitive=case_sensitive)
    if any(
        subject_key(s, case_sensitive=case_sensitive) == key for s in approval.approver_subjects
    ):
        return True
    return groups is not None and not set(groups).isdisjoint(approval.approver_groups)
