"""Rules every audit row must keep, whatever its workflow says (``brain ops verify-audit``).

Comparing a row with its workflow catches a row that was tampered with, not a workflow that
was made to decide falsely: a forged internal signal once released a parked run "by a policy
change" of a version nobody wrote, and the row matched the run. So each row is also held to
what the rest of the database knows:

- ``policy``: a decision by a policy change names a version that the change log holds for
  its process (its tenant's row or the global one), and its actor wrote a change of that
  scope up to that version. Usually the actor wrote that very version; when two changes
  race, the run may read the later one while the earlier one's announcement releases it;
- ``quorum``: the approvers are distinct people after normalization (core/identity.py): a
  quorum of ``Bob`` and ``bob`` is one approver;
- ``four_eyes``: when the run's approval was under four-eyes, its requester is not among
  the approvers (after normalization).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from core.identity import same_subject, subject_key
from models.hitl import GLOBAL_TENANT
from models.processes import Action, Channel
from models.tables import DecisionRow, RunRow

# Channels where the gate itself decides; on any other a person decides, and the actor of an
# approve is one of its approvers.
_GATES_CHANNELS = frozenset({Channel.POLICY.value, Channel.TIMEOUT.value, Channel.AUTO.value})


@dataclass(frozen=True)
class LoggedChange:
    """One entry of the policy change log, as far as these rules need it."""

    process: str
    tenant: str
    version: int
    changed_by: str


def violations(
    rows: Iterable[DecisionRow],
    runs: dict[str, RunRow],
    changes: Iterable[LoggedChange],
    *,
    case_sensitive: bool = False,
) -> list[dict[str, Any]]:
    """Each broken rule of each row: ``{workflow_id, tenant, process, audit_id, rule,
    reason}``. ``runs``: the rows' run rows, where there is one (four-eyes needs it)."""
    log: dict[str, list[LoggedChange]] = {}
    for change in changes:
        log.setdefault(change.process, []).append(change)
    found = []
    for row in rows:
        run = runs.get(row.workflow_id)
        for rule, reason in _broken(row, run, log.get(row.process, []), case_sensitive):
            found.append(
                {
                    "workflow_id": row.workflow_id,
                    "tenant": row.tenant,
                    "process": row.process,
                    "audit_id": row.id,
                    "rule": rule,
                    "reason": reason,
                }
            )
    return found


def _broken(
    row: DecisionRow, run: RunRow | None, log: list[LoggedChange], case_sensitive: bool
) -> Iterable[tuple[str, str]]:
    if row.channel == Channel.POLICY.value:
        reason = _policy_reason(row, log)
        if reason:
            yield "policy", reason
    approvers = [a for a in row.approvers or [] if isinstance(a, str)]
    repeated = _repeated(approvers, case_sensitive)
    if repeated:
        yield "quorum", f"the approvers name one person more than once: {', '.join(repeated)}"
    if row.decision == Action.APPROVE.value and row.channel not in _GATES_CHANNELS:
        approvers = [*approvers, row.actor]
    requester = _four_eyes_requester(run)
    if requester is not None and any(
        same_subject(a, requester, case_sensitive=case_sensitive) for a in approvers
    ):
        yield "four_eyes", f"four-eyes, but the requester {requester!r} approved"


def _policy_reason(row: DecisionRow, log: list[LoggedChange]) -> str | None:
    scope = [c for c in log if c.tenant in (row.tenant, GLOBAL_TENANT)]
    version = row.policy_version
    if not any(c.version == version for c in scope):
        newest = max((c.version for c in log), default=None)
        return (
            f"released by policy version {version}, which the change log does not hold "
            f"for this tenant (the newest version of the process is {newest})"
        )
    if any(c.version == version and c.changed_by == row.actor for c in scope):
        return None
    if any(c.version < version and c.changed_by == row.actor for c in scope):
        return None  # the actor's change, read at the later version that followed it
    writers = sorted({c.changed_by for c in scope if c.version == version})
    return (
        f"released by {row.actor!r} through policy version {version}, which "
        f"{', '.join(repr(w) for w in writers)} wrote; {row.actor!r} wrote no change up to it"
    )


def _repeated(approvers: list[str], case_sensitive: bool) -> list[str]:
    seen: dict[str, str] = {}
    repeated: list[str] = []
    for name in approvers:
        key = subject_key(name, case_sensitive=case_sensitive)
        if key in seen:
            repeated += [n for n in (seen[key], name) if n not in repeated]
        else:
            seen[key] = name
    return repeated


def _four_eyes_requester(run: RunRow | None) -> str | None:
    """The requester of a run whose approval was under four-eyes (as the run's row last
    recorded it: a policy change while it waited rewrites it); ``None`` otherwise."""
    approval = run.approval if run is not None else None
    if not isinstance(approval, dict) or approval.get("requester_may_approve") is not False:
        return None
    assert run is not None
    requester = approval.get("requested_by") or run.requested_by
    return requester if isinstance(requester, str) and requester else None
