"""Insights (SPEC §7) read one tenant's decisions of a process, newest first: an index on
(tenant, process, decided_at) lets the last 500 human decisions be read from its end
instead of sorting the tenant's whole audit log (mirrors models/tables.py).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_decisions_tenant_process_decided",
        "decisions",
        ["tenant", "process", "decided_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_decisions_tenant_process_decided", table_name="decisions")
