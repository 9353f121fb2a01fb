"""Insights sample each gate's last human decisions: an index on (process, gate,
decided_at) finds a gate that few runs reach (finance, legal) without reading its process's
whole audit log (mirrors models/tables.py).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_decisions_process_gate_decided", "decisions", ["process", "gate", "decided_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_decisions_process_gate_decided", table_name="decisions")
