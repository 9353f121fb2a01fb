"""The business table of ``testimonial_generation`` (processes/testimonial_generation.py):
client success stories, ready to publish.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "client_stories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workflow_id", sa.String(length=300), nullable=False),
        sa.Column("tenant", sa.String(length=128), nullable=False),
        sa.Column("approval_id", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("client_name", sa.String(), nullable=False),
        sa.Column("company", sa.String(), nullable=False),
        sa.Column("industry", sa.String(), nullable=True),
        sa.Column("headline", sa.String(), nullable=False),
        sa.Column("story", sa.String(), nullable=False),
        sa.Column("pull_quote", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        # Named as PostgreSQL names an unnamed one, so migrated and create_all() match.
        sa.UniqueConstraint("workflow_id", name="client_stories_workflow_id_key"),
    )
    op.create_index("ix_client_stories_tenant", "client_stories", ["tenant"])


def downgrade() -> None:
    op.drop_index("ix_client_stories_tenant", table_name="client_stories")
    op.drop_table("client_stories")
