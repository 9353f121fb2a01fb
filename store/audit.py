"""The audit log: each decision written once, keyed by its approval id."""

from sqlalchemy.ext.asyncio import AsyncSession

from models.activity_io import RunRef
from models.hitl import Decision
from models.tables import DecisionRow
from store.sql import insert


async def record(session: AsyncSession, run: RunRef, decision: Decision) -> bool:
    """Insert the decision's audit row; return False when it was already there."""
    stmt = insert(session, DecisionRow).values(
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
        decided_at=decision.decided_at,
    )
    result = await session.execute(
        stmt.on_conflict_do_nothing(index_elements=[DecisionRow.approval_id])
    )
    return bool(result.rowcount)
