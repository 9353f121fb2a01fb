"""The business table of ``returns_triage``: each settled return, once per run.

A branch of its own (``branch_labels``) beside Brain's: Brain's ``migrate`` upgrades every
head, its own and each installed process's. Revision ids are global across branches, so
they carry the package's name.

Revision ID: brain_returns_0001
Revises:
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from store import rls

revision: str = "brain_returns_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("brain_returns",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "return_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workflow_id", sa.String(length=300), nullable=False),
        sa.Column("tenant", sa.String(length=128), nullable=False),
        sa.Column("approval_id", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("order_id", sa.String(), nullable=False),
        sa.Column("resolution", sa.String(), nullable=False),
        sa.Column("refund_amount", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        # The apply step's key: a retried or replayed apply writes nothing twice.
        sa.UniqueConstraint("workflow_id", name="return_decisions_workflow_id_key"),
    )
    op.create_index("ix_return_decisions_tenant", "return_decisions", ["tenant"])
    if op.get_bind().dialect.name == "postgresql":
        # Tenant-owned, as Brain's tables: row-level security for the app role.
        rls.protect(op.get_bind(), "return_decisions")


def downgrade() -> None:
    op.drop_index("ix_return_decisions_tenant", table_name="return_decisions")
    op.drop_table("return_decisions")
