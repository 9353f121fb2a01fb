"""Webhook deliveries become the outbox (SPEC §6; mirrors models/webhook_tables.py): each row
carries its event (``payload``) and the task queue whose deliverer sends it (``queue``), and
the deliverer's claim reads the new index of due rows.

Rows written before this revision have neither: the delivery workflows that still hold
their events hand them over when they next attempt (``activities/webhooks/legacy.py``).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
# Re-chained onto the latest revision when the ones before it land.
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLE = "webhook_deliveries"
_DUE = "ix_webhook_deliveries_due"


def upgrade() -> None:
    op.add_column(_TABLE, sa.Column("payload", sa.JSON(), nullable=True))
    op.add_column(_TABLE, sa.Column("queue", sa.String(length=200), nullable=True))
    op.create_index(_DUE, _TABLE, ["queue", "state", "next_attempt_at"])


def downgrade() -> None:
    op.drop_index(_DUE, table_name=_TABLE)
    # SQLite drops a column by rebuilding the table: batch mode does that on both.
    with op.batch_alter_table(_TABLE) as batch:
        batch.drop_column("queue")
        batch.drop_column("payload")
