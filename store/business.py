"""Business rows written by the apply steps; one per workflow, enforced by a unique key."""

from typing import TYPE_CHECKING, Any

from sqlalchemy import inspect, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from store.sql import insert

if TYPE_CHECKING:
    from processes.kit.models import BusinessRow


async def write_once(
    session: AsyncSession, table: "type[BusinessRow]", workflow_id: str, values: dict[str, Any]
) -> dict[str, Any]:
    """Insert the row unless the workflow already wrote it; return the row as stored. One
    round trip on the usual path (``RETURNING``); a retry that finds the row reads it."""
    stmt = insert(session, table).values(workflow_id=workflow_id, **values)
    stmt = stmt.on_conflict_do_nothing(index_elements=["workflow_id"])
    columns = inspect(table).local_table.columns
    inserted = (await session.execute(stmt.returning(*columns))).first()
    if inserted is not None:
        return table.model_validate(dict(inserted._mapping)).model_dump(mode="json")
    found = await session.execute(select(table).where(col(table.workflow_id) == workflow_id))
    return found.scalar_one().model_dump(mode="json")
