"""Business rows written by the apply steps; one per workflow, enforced by a unique key."""

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from store.sql import insert


async def write_once(
    session: AsyncSession, table: type[SQLModel], workflow_id: str, values: dict[str, Any]
) -> dict[str, Any]:
    """Insert the row unless the workflow already wrote it; return the row as stored."""
    stmt = insert(session, table).values(workflow_id=workflow_id, **values)
    await session.execute(stmt.on_conflict_do_nothing(index_elements=["workflow_id"]))
    row = (
        await session.execute(select(table).where(table.workflow_id == workflow_id))  # type: ignore[attr-defined]
    ).scalar_one()
    return row.model_dump(mode="json")
