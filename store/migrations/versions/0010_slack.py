"""Deciding from Slack (SPEC §8 "Slack"; mirrors models/slack_tables.py and the new column of
models/webhook_tables.py): a tenant's Slack workspace and signing secret, its Slack users'
Brain identities, the Slack requests already taken, and interactive slack subscriptions.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from store import rls

revision: str = "0010"
# Re-chained onto the latest revision when the ones before it land.
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _s(length: int) -> sa.String:
    return sa.String(length=length)


def _ts() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "slack_workspaces",
        sa.Column("tenant", _s(128), nullable=False),
        sa.Column("team_id", _s(32), nullable=False),
        sa.Column("signing_secret", _s(200), nullable=False),
        sa.Column("set_by", _s(200), nullable=False),
        sa.Column("set_at", _ts(), nullable=False),
        sa.PrimaryKeyConstraint("tenant"),
        sa.UniqueConstraint("team_id", name="uq_slack_workspaces_team"),
    )
    op.create_table(
        "slack_users",
        sa.Column("tenant", _s(128), nullable=False),
        sa.Column("slack_user", _s(32), nullable=False),
        sa.Column("subject", _s(200), nullable=False),
        sa.Column("groups", sa.JSON(), nullable=False),
        sa.Column("set_by", _s(200), nullable=False),
        sa.Column("set_at", _ts(), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "slack_user"),
    )
    op.create_table(
        "slack_seen_requests",
        sa.Column("signature", _s(80), nullable=False),
        sa.Column("expires_at", _ts(), nullable=False),
        sa.PrimaryKeyConstraint("signature"),
    )
    op.create_index("ix_slack_seen_requests_expires", "slack_seen_requests", ["expires_at"])
    # Existing subscriptions post as before: not interactive.
    op.add_column(
        "webhook_subscriptions",
        sa.Column("interactive", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        rls.protect(bind, "slack_workspaces")
        rls.protect(bind, "slack_users")
        rls.protect(bind, "slack_seen_requests", tenant_owned=False)


def downgrade() -> None:
    # SQLite drops a column by rebuilding the table: batch mode does that on both.
    with op.batch_alter_table("webhook_subscriptions") as batch:
        batch.drop_column("interactive")
    op.drop_index("ix_slack_seen_requests_expires", table_name="slack_seen_requests")
    op.drop_table("slack_seen_requests")
    op.drop_table("slack_users")
    op.drop_table("slack_workspaces")
