"""Webhook subscriptions and deliveries (mirrors models/webhook_tables.py; SPEC §6).

Revision ID: 0005
Revises: 0003
Create Date: 2026-01-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
# Re-chained onto the latest revision when the ones before it land.
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _s(length: int) -> sa.String:
    return sa.String(length=length)


def _ts() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "webhook_subscriptions",
        sa.Column("id", _s(40), nullable=False),
        sa.Column("tenant", _s(128), nullable=False),
        sa.Column("url", _s(2048), nullable=False),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("process", _s(64), nullable=True),
        sa.Column("format", _s(16), nullable=False),
        sa.Column("secret", _s(200), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("disabled_reason", _s(500), nullable=True),
        sa.Column("created_by", _s(200), nullable=False),
        sa.Column("created_at", _ts(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_webhook_subscriptions_tenant_enabled", "webhook_subscriptions", ["tenant", "enabled"]
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscription_id", _s(40), nullable=False),
        sa.Column("tenant", _s(128), nullable=False),
        sa.Column("event_id", _s(600), nullable=False),
        sa.Column("event_type", _s(32), nullable=False),
        sa.Column("state", _s(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", _s(500), nullable=True),
        sa.Column("next_attempt_at", _ts(), nullable=True),
        sa.Column("delivered_at", _ts(), nullable=True),
        sa.Column("created_at", _ts(), nullable=False),
        sa.Column("updated_at", _ts(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("subscription_id", "event_id", name="uq_webhook_deliveries_sub_event"),
    )
    op.create_index(
        "ix_webhook_deliveries_sub_created",
        "webhook_deliveries",
        ["subscription_id", "created_at"],
    )
    op.create_index("ix_webhook_deliveries_tenant", "webhook_deliveries", ["tenant"])


def downgrade() -> None:
    op.drop_index("ix_webhook_deliveries_tenant", table_name="webhook_deliveries")
    op.drop_index("ix_webhook_deliveries_sub_created", table_name="webhook_deliveries")
    op.drop_table("webhook_deliveries")
    op.drop_index("ix_webhook_subscriptions_tenant_enabled", table_name="webhook_subscriptions")
    op.drop_table("webhook_subscriptions")
