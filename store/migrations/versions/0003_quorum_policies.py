"""Quorum, four-eyes, reminders and escalation (SPEC §2, §3): new policy fields, the
approvers of each audited decision, the vote sequence of a parked run, and an index for
insights. Existing rows keep their values and versions (NULL fields inherit defaults).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("policies") as batch:
        batch.add_column(sa.Column("min_approvals", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("requester_may_approve", sa.Boolean(), nullable=True))
        batch.add_column(sa.Column("remind_every_seconds", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("escalate_after_seconds", sa.Integer(), nullable=True))
    with op.batch_alter_table("decisions") as batch:
        batch.add_column(sa.Column("approvers", sa.JSON(), nullable=True))
    op.create_index(
        "ix_decisions_process_channel_decided",
        "decisions",
        ["process", "channel", "decided_at"],
    )
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("approval_sequence", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("approval_sequence")
    op.drop_index("ix_decisions_process_channel_decided", table_name="decisions")
    with op.batch_alter_table("decisions") as batch:
        batch.drop_column("approvers")
    with op.batch_alter_table("policies") as batch:
        batch.drop_column("escalate_after_seconds")
        batch.drop_column("remind_every_seconds")
        batch.drop_column("requester_may_approve")
        batch.drop_column("min_approvals")
