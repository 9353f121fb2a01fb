"""``brain ops verify-audit``: is the audit log true? Each audit row (``decisions``) is
compared with what its workflow actually decided, as Temporal knows it: the result of a
completed run, the ``status`` query of any other (a closed one is replayed by a worker).

Findings, per workflow (each has at most one audit row: its approval id is derived from the
workflow id):

- ``mismatches``: the row and the decision differ (action, actor, channel, approvers,
  final proposal, approval id);
- ``missing``: the workflow decided and applied, rejected, or recorded a decision it could
  not apply (or was canceled before deciding), and there is no row;
- ``orphans``: a row whose workflow never took that decision (a ``cancel`` row whose run
  was not canceled, or a decision row for a run that decided nothing);
- ``unverified``: runs Temporal could not answer for (past retention, no worker to answer
  the query); listed, never silently passed;
- ``violations``: rows that break a rule whatever their workflow says (services/
  audit_rules.py): a policy release by a version the change log does not hold or by someone
  who wrote no change, a quorum that counts one person twice, a four-eyes approval by the
  requester. A workflow made to decide falsely (a forged signal) has a row that matches it;
  these rules still catch it.

Ops, so across tenants by design; ``tenant`` narrows it.
"""

import asyncio
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowFailureError,
    WorkflowQueryFailedError,
)
from temporalio.service import RPCError

from hitl.gate import GatedWorkflow
from models.hitl import Decision
from models.processes import AuditDecision, Channel, Process, RunState
from models.tables import DecisionRow, PolicyChangeRow, RunRow
from models.workflow_io import ProcessResult
from services import audit_rules
from services.audit_rules import LoggedChange

Sessions = async_sessionmaker[AsyncSession]

DEFAULT_LIMIT = 500
CONCURRENCY = 8
_QUERY_TIMEOUT = timedelta(seconds=10)
# The gate audits a decision before it reports these states: a decision in them must
# have its row, even while the run is still open.
_RECORDED_STATES = (RunState.COMPLETED, RunState.REJECTED)
# Closed like this, the gate audited whatever it had decided before closing (a failed
# apply step's decision, a decision a cancel cut short).
_AUDITED_ON_CLOSE = (WorkflowExecutionStatus.FAILED, WorkflowExecutionStatus.CANCELED)
_ORPHAN_CANCEL = "a cancel row, but the run was not canceled before deciding"
_ORPHAN_DECISION = "the workflow took no decision"


class Unverifiable(Exception):
    """Temporal cannot say what this workflow decided."""


@dataclass(frozen=True)
class Truth:
    """What the workflow's current run decided, and how it stands."""

    status: WorkflowExecutionStatus
    state: RunState
    decision: Decision | None
    # Every gate's decision, for a process with several (the last is ``decision``).
    decisions: list[Decision] = field(default_factory=list)

    def by_approval(self) -> dict[str, Decision]:
        taken = self.decisions or ([self.decision] if self.decision is not None else [])
        return {d.approval_id: d for d in taken}


@dataclass
class AuditReport:
    checked: int = 0
    mismatches: list[dict[str, Any]] = field(default_factory=list)
    missing: list[dict[str, Any]] = field(default_factory=list)
    orphans: list[dict[str, Any]] = field(default_factory=list)
    unverified: list[dict[str, Any]] = field(default_factory=list)
    violations: list[dict[str, Any]] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (
            self.mismatches or self.missing or self.orphans or self.unverified or self.violations
        )

    def as_json(self) -> dict[str, Any]:
        return {"clean": self.clean, **asdict(self)}


async def verify(
    client: Client,
    sessions: Sessions,
    *,
    tenant: str | None = None,
    process: Process | None = None,
    limit: int = DEFAULT_LIMIT,
    case_sensitive: bool = False,
) -> AuditReport:
    """Check the ``limit`` newest runs of the scope, and the workflows of its ``limit``
    newest audit rows (so a row whose run has no row of its own is checked too).
    ``case_sensitive``: how subjects compare (``BRAIN_SUBJECTS_CASE_SENSITIVE``)."""
    runs, rows = await _load(sessions, tenant, process, limit)
    report = AuditReport(checked=len(runs))
    every_row = [row for audit in rows.values() for row in audit]
    report.violations = audit_rules.violations(
        every_row,
        {wid: run for wid, run in runs.items() if isinstance(run, RunRow)},
        await _changes(sessions, every_row),
        case_sensitive=case_sensitive,
    )
    limiter = asyncio.Semaphore(CONCURRENCY)

    async def one(workflow_id: str) -> Truth | str:
        async with limiter:
            try:
                return await _truth(client, workflow_id)
            except Unverifiable as err:
                return str(err)

    ids = sorted(runs)
    answers = await asyncio.gather(*(one(wid) for wid in ids))
    for wid, answer in zip(ids, answers, strict=True):
        run, audit = runs[wid], rows.get(wid, [])
        if isinstance(answer, str):
            report.unverified.append({**_who(run), "reason": answer})
            continue
        _compare(report, run, answer, audit)
    return report


async def _load(
    sessions: Sessions, tenant: str | None, process: Process | None, limit: int
) -> tuple[dict[str, RunRow | DecisionRow], dict[str, list[DecisionRow]]]:
    """The runs to check (by workflow id: its run row, or its audit row when it has none)
    and every audit row of those workflows."""
    newest_runs = select(RunRow).order_by(col(RunRow.created_at).desc()).limit(limit)
    newest_rows = select(DecisionRow).order_by(col(DecisionRow.id).desc()).limit(limit)
    if tenant is not None:
        newest_runs = newest_runs.where(col(RunRow.tenant) == tenant)
        newest_rows = newest_rows.where(col(DecisionRow.tenant) == tenant)
    if process is not None:
        newest_runs = newest_runs.where(col(RunRow.process) == process.value)
        newest_rows = newest_rows.where(col(DecisionRow.process) == process.value)
    async with sessions() as session:
        found: dict[str, RunRow | DecisionRow] = {
            r.workflow_id: r for r in (await session.execute(newest_runs)).scalars()
        }
        for row in (await session.execute(newest_rows)).scalars():
            found.setdefault(row.workflow_id, row)
        rows: dict[str, list[DecisionRow]] = {}
        ids = list(found)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            stmt = select(DecisionRow).where(col(DecisionRow.workflow_id).in_(chunk))
            for row in (await session.execute(stmt)).scalars():
                rows.setdefault(row.workflow_id, []).append(row)
    return found, rows


async def _changes(sessions: Sessions, rows: list[DecisionRow]) -> list[LoggedChange]:
    """The change log of the processes that policy changes released runs of."""
    processes = {r.process for r in rows if r.channel == Channel.POLICY.value}
    if not processes:
        return []
    stmt = select(
        col(PolicyChangeRow.process),
        col(PolicyChangeRow.tenant),
        col(PolicyChangeRow.version),
        col(PolicyChangeRow.changed_by),
    ).where(col(PolicyChangeRow.process).in_(sorted(processes)))
    async with sessions() as session:
        return [LoggedChange(*found) for found in await session.execute(stmt)]


async def _truth(client: Client, workflow_id: str) -> Truth:
    handle = client.get_workflow_handle(workflow_id)
    try:
        described = await handle.describe()
    except RPCError as err:
        raise Unverifiable(f"Temporal does not know it (past retention?): {err.message}") from None
    status = described.status or WorkflowExecutionStatus.RUNNING
    current = client.get_workflow_handle(
        workflow_id, run_id=described.run_id, result_type=ProcessResult
    )
    try:
        if status is WorkflowExecutionStatus.COMPLETED:
            result = await current.result(follow_runs=False)
            return Truth(status, result.state, result.decision, result.decisions)
        # Open runs answer from the worker's cache; a closed one is replayed to its end.
        ran = await current.query(GatedWorkflow.status, rpc_timeout=_QUERY_TIMEOUT)
        return Truth(status, ran.state, ran.decision, ran.decisions)
    except (RPCError, WorkflowFailureError, WorkflowQueryFailedError) as err:
        raise Unverifiable(f"no answer from the workflow ({status.name}): {err}") from None


def _compare(
    report: AuditReport, run: RunRow | DecisionRow, truth: Truth, audit: list[DecisionRow]
) -> None:
    decision = truth.decision
    canceled = truth.status is WorkflowExecutionStatus.CANCELED or (
        truth.state is RunState.CANCELED
    )
    # Each gate's decision has its row, keyed by its approval (one for a single gate).
    taken = truth.by_approval()
    seen: set[str] = set()
    for row in audit:
        if row.decision == AuditDecision.CANCEL.value and row.approval_id not in taken:
            if not canceled:
                report.orphans.append(_orphan(row, _ORPHAN_CANCEL))
            continue
        match = taken.get(row.approval_id)
        if match is None and len(taken) == 1 and decision is not None:
            match = decision  # a single decision: an approval id that differs is a mismatch
        if match is None:
            report.orphans.append(_orphan(row, _ORPHAN_DECISION))
            continue
        if match.approval_id in seen:  # a second row for the same decision
            report.orphans.append(_orphan(row, "a second row for this workflow's decision"))
            continue
        seen.add(match.approval_id)
        differs = _differences(row, match)
        if differs:
            report.mismatches.append({**_who(run), "audit_id": row.id, "fields": differs})
    if decision is None:
        if not audit and truth.status is WorkflowExecutionStatus.CANCELED:
            report.missing.append(
                {**_who(run), "state": RunState.CANCELED.value, "decision": "cancel"}
            )
        return
    if not (truth.state in _RECORDED_STATES or truth.status in _AUDITED_ON_CLOSE):
        return
    for approval_id, taken_there in taken.items():
        # A single decision with a row of its own was compared above, whatever its id.
        if approval_id not in seen and not (audit and len(taken) == 1):
            report.missing.append(
                {**_who(run), "state": truth.state.value, **_summary(taken_there)}
            )


def _differences(row: DecisionRow, decision: Decision) -> dict[str, dict[str, Any]]:
    pairs: dict[str, tuple[Any, Any]] = {
        "approval_id": (row.approval_id, decision.approval_id),
        "decision": (row.decision, decision.action.value),
        "actor": (row.actor, decision.actor),
        "channel": (row.channel, decision.channel.value),
        "approvers": (list(row.approvers or []), list(decision.approvers)),
        "final_proposal": (row.final_proposal, decision.final_proposal),
    }
    return {
        name: {"audit": audit, "workflow": workflow}
        for name, (audit, workflow) in pairs.items()
        if audit != workflow
    }


def _who(run: RunRow | DecisionRow) -> dict[str, Any]:
    return {"workflow_id": run.workflow_id, "tenant": run.tenant, "process": run.process}


def _orphan(row: DecisionRow, reason: str) -> dict[str, Any]:
    return {
        **_who(row),
        "audit_id": row.id,
        "approval_id": row.approval_id,
        "decision": row.decision,
        "actor": row.actor,
        "reason": reason,
    }


def _summary(decision: Decision) -> dict[str, Any]:
    return {
        "approval_id": decision.approval_id,
        "decision": decision.action.value,
        "actor": decision.actor,
        "channel": decision.channel.value,
    }
