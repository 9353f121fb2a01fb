"""An entry of the policy change log (SPEC §2: every change audited, who, when, old → new),
as the REST API and ``brain policy log`` show it."""

from datetime import UTC
from typing import Any

from pydantic import BaseModel, Field

from models.processes import Process
from models.tables import PolicyChangeRow
from models.timestamps import Timestamp

# The store keeps a reminder or escalation turned off as 0, an amount as -1 (NULL would
# inherit); the log says "off", so 0 never reads as "every 0 seconds" and null keeps meaning
# "not set".
_OFF_STORED = {"remind_every_seconds": 0, "escalate_after_seconds": 0, "amount_over": -1}


class PolicyChangeEntry(BaseModel):
    id: int
    process: Process
    tenant: str = Field(description="The tenant whose row changed; `*` is the global row")
    gate: str | None = Field(None, description="The gate whose policy changed")
    version: int
    changed_by: str
    changed_at: Timestamp
    old: dict[str, Any] = Field(description="The changed fields before (null: not set)")
    new: dict[str, Any] = Field(description="The changed fields after")

    @classmethod
    def from_row(cls, row: PolicyChangeRow) -> "PolicyChangeEntry":
        assert row.id is not None
        at = row.changed_at
        return cls(
            id=row.id,
            process=Process(row.process),
            tenant=row.tenant,
            gate=row.gate,
            version=row.version,
            changed_by=row.changed_by,
            # SQLite hands back naive datetimes; every timestamp Brain writes is UTC.
            changed_at=at if at.tzinfo is not None else at.replace(tzinfo=UTC),
            old=_shown(row.old),
            new=_shown(row.new),
        )


def _shown(values: dict[str, Any] | None) -> dict[str, Any]:
    return {
        k: "off" if k in _OFF_STORED and v == _OFF_STORED[k] else v
        for k, v in (values or {}).items()
    }
