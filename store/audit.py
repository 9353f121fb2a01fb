"""The audit log: each decision (or cancel) written once, keyed by its approval id."""

from typing import Any, cast

from sqlalchemy import Table, inspect
from sqlalchemy.ext.asyncio import AsyncSession

from models.activity_io import RunRef
from models.hitl import Decision
from models.processes import AuditDecision, Channel
from models.tables import DecisionRow, RunRow, utcnow
from store.sql import built_once, dialect, dialect_insert, rowcount


async def record(session: AsyncSession, run: RunRef, decision: Decision) -> bool:
    """Insert the decision's audit row; return False when it was already there."""
    return await _insert(
        session,
        approval_id=decision.approval_id,
        workflow_id=run.workflow_id,
        run_id=run.run_id,
        tenant=run.tenant,
        process=run.process.value,
        decision=decision.action.value,
        actor=decision.actor,
        channel=decision.channel.value,
        confidence=decision.confidence,
        threshold=decision.threshold,
        hitl_enabled=decision.hitl_enabled,
        policy_version=decision.policy_version,
        comment=decision.comment,
        original_proposal=decision.original_proposal,
        edits=decision.edits,
        final_proposal=decision.final_proposal,
        model=decision.model,
        model_call=decision.model_call.model_dump(mode="json") if decision.model_call else None,
        approvers=decision.approvers or None,
        gate=decision.gate,
        origin=decision.origin,
        requested_at=decision.requested_at,
        decided_at=decision.decided_at,
    )


async def record_cancel(
    session: AsyncSession,
    run: RunRef,
    *,
    approval_id: str,
    actor: str,
    channel: Channel,
    row: RunRow | None,
) -> bool:
    """Audit the cancel of a run before its decision, with what it was about to decide."""
    ai = row.ai if row is not None and isinstance(row.ai, dict) else {}
    approval = row.approval if row is not None and isinstance(row.approval, dict) else {}
    return await _insert(
        session,
        approval_id=approval_id,
        workflow_id=run.workflow_id,
        run_id=run.run_id,
        tenant=run.tenant,
        process=run.process.value,
        decision=AuditDecision.CANCEL.value,
        actor=actor,
        channel=channel.value,
        confidence=float(ai.get("confidence") or 0.0),
        threshold=float(approval.get("threshold") or 0.0),
        hitl_enabled=bool(approval.get("hitl_enabled", False)),
        policy_version=int(row.policy_version or 0) if row is not None else 0,
        comment="canceled before a decision",
        original_proposal=row.proposal if row is not None else None,
        model=ai.get("model"),
        gate=row.gate if row is not None else None,
        decided_at=utcnow(),
    )


async def _insert(session: AsyncSession, **values: Any) -> bool:
    """Insert the row once per approval. A retry or replay of the same run writes nothing;
    a later run of the workflow (a reset that decided again) replaces its predecessor's
    row, so the entry always names the decision the workflow finally took."""
    values.setdefault("recorded_at", utcnow())
    stmt = _upsert(dialect(session), tuple(sorted(values)))
    return bool(rowcount(await session.execute(stmt, values)))


_TABLE = cast(Table, inspect(DecisionRow).local_table)


@built_once
def _upsert(dialect_name: str, columns: tuple[str, ...]) -> Any:
    # On the Core table: an ORM-enabled insert answers without the count of rows written.
    stmt = dialect_insert(dialect_name, _TABLE)
    newer = (stmt.excluded.run_id != _TABLE.c.run_id) & (
        stmt.excluded.decided_at > _TABLE.c.decided_at
    )
    replaced = {k: getattr(stmt.excluded, k) for k in columns if k != "approval_id"}
    return stmt.on_conflict_do_update(
        index_elements=[_TABLE.c.approval_id], set_=replaced, where=newer
    )
