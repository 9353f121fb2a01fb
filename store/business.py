"""Business rows written by the apply steps; one per workflow, enforced by a unique key."""

from typing import TYPE_CHECKING, Any

from sqlalchemy import inspect, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from store.sql import built_once, dialect, dialect_insert

if TYPE_CHECKING:
    from processes.kit.models import BusinessRow


async def write_once(
    session: AsyncSession, table: "type[BusinessRow]", workflow_id: str, values: dict[str, Any]
) -> dict[str, Any]:
    """Insert the row unless the workflow already wrote it; return the row as stored. One
    round trip on the usual path (``RETURNING``); a retry that finds the row reads it."""
    stmt = _insert(dialect(session), table, tuple(sorted(values)))
    inserted = (await session.execute(stmt, {**values, "workflow_id": workflow_id})).first()
    if inserted is not None:
        return table.model_validate(dict(inserted._mapping)).model_dump(mode="json")
    found = await session.execute(select(table).where(col(table.workflow_id) == workflow_id))
    return found.scalar_one().model_dump(mode="json")


@built_once
def _insert(dialect_name: str, table: "type[BusinessRow]", columns: tuple[str, ...]) -> Any:
    # On the Core table, built once per process and shape: the apply step's write.
    core = inspect(table).local_table
    stmt = dialect_insert(dialect_name, core).on_conflict_do_nothing(index_elements=["workflow_id"])
    return stmt.returning(*core.columns)
