"""Business rows written by the apply steps; one per workflow, enforced by a unique key."""

from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from store.sql import insert

if TYPE_CHECKING:
    from processes.kit.models import BusinessRow


async def write_once(
    session: AsyncSession, table: "type[BusinessRow]", workflow_id: str, values: dict[str, Any]
) -> dict[str, Any]:
    """Insert the row unless the workflow already wrote it; return the row as stored."""
    stmt = insert(session, table).values(workflow_id=workflow_id, **values)
    await session.execute(stmt.on_conflict_do_nothing(index_elements=["workflow_id"]))
    found = await session.execute(select(table).where(col(table.workflow_id) == workflow_id))
    row = found.scalar_one()
    return row.model_dump(mode="json")
