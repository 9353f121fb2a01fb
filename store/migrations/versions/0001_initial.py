"""Initial schema (mirrors models/tables.py) and the default global policies (SPEC §1).

Revision ID: 0001
Revises:
Create Date: 2026-01-01
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen here on purpose: a migration must not change when the code's defaults do later.
# (process, hitl_enabled, confidence_threshold)
_DEFAULT_POLICIES = [
    ("lead_scoring", True, 0.85),
    ("product_sourcing", True, 0.90),
    ("campaign_tuning", False, 0.75),
    ("content_generation", False, 0.80),
]


def _s(length: int | None = None) -> sa.String:
    return sa.String(length=length)


def _ts() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _business_table(name: str, *columns: sa.Column) -> None:
    """The columns every business row shares (models.tables._BusinessRow), then its own."""
    op.create_table(
        name,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workflow_id", _s(300), nullable=False),
        sa.Column("tenant", _s(128), nullable=False),
        sa.Column("approval_id", _s(300), nullable=False),
        sa.Column("created_at", _ts(), nullable=False),
        *columns,
        sa.PrimaryKeyConstraint("id"),
        # Named as PostgreSQL names an unnamed one, so migrated and create_all() schemas match.
        sa.UniqueConstraint("workflow_id", name=f"{name}_workflow_id_key"),
    )
    op.create_index(f"ix_{name}_tenant", name, ["tenant"])


def upgrade() -> None:
    policies = op.create_table(
        "policies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("process", _s(64), nullable=False),
        sa.Column("tenant", _s(128), nullable=False),
        sa.Column("hitl_enabled", sa.Boolean(), nullable=True),
        sa.Column("confidence_threshold", sa.Float(), nullable=True),
        sa.Column("approval_timeout_seconds", sa.Integer(), nullable=True),
        sa.Column("on_timeout", _s(16), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_by", _s(200), nullable=False),
        sa.Column("updated_at", _ts(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("process", "tenant", name="uq_policies_process_tenant"),
    )

    op.create_table(
        "policy_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("process", _s(64), nullable=False),
        sa.Column("tenant", _s(128), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("changed_by", _s(200), nullable=False),
        sa.Column("changed_at", _ts(), nullable=False),
        sa.Column("old", sa.JSON(), nullable=True),
        sa.Column("new", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_policy_changes_process", "policy_changes", ["process"])

    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("approval_id", _s(300), nullable=False),
        sa.Column("workflow_id", _s(300), nullable=False),
        sa.Column("run_id", _s(64), nullable=False),
        sa.Column("tenant", _s(128), nullable=False),
        sa.Column("process", _s(64), nullable=False),
        sa.Column("decision", _s(16), nullable=False),
        sa.Column("actor", _s(200), nullable=False),
        sa.Column("channel", _s(16), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("hitl_enabled", sa.Boolean(), nullable=False),
        sa.Column("policy_version", sa.Integer(), nullable=False),
        sa.Column("comment", _s(), nullable=True),
        sa.Column("original_proposal", sa.JSON(), nullable=True),
        sa.Column("edits", sa.JSON(), nullable=True),
        sa.Column("final_proposal", sa.JSON(), nullable=True),
        sa.Column("model", _s(200), nullable=True),
        sa.Column("model_call", sa.JSON(), nullable=True),
        sa.Column("decided_at", _ts(), nullable=False),
        sa.Column("recorded_at", _ts(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("approval_id", name="decisions_approval_id_key"),
    )
    op.create_index("ix_decisions_tenant_process", "decisions", ["tenant", "process"])
    op.create_index("ix_decisions_workflow", "decisions", ["workflow_id"])

    op.create_table(
        "runs",
        sa.Column("workflow_id", _s(300), nullable=False),
        sa.Column("run_id", _s(64), nullable=True),
        sa.Column("tenant", _s(128), nullable=False),
        sa.Column("process", _s(64), nullable=False),
        sa.Column("state", _s(32), nullable=False),
        sa.Column("requested_by", _s(200), nullable=True),
        sa.Column("idempotency_key", _s(300), nullable=True),
        sa.Column("input_hash", _s(64), nullable=True),
        sa.Column("proposal", sa.JSON(), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("ai", sa.JSON(), nullable=True),
        sa.Column("approval", sa.JSON(), nullable=True),
        sa.Column("approval_id", _s(300), nullable=True),
        sa.Column("requested_at", _ts(), nullable=True),
        sa.Column("policy_version", sa.Integer(), nullable=True),
        sa.Column("decision", sa.JSON(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("error", _s(), nullable=True),
        sa.Column("created_at", _ts(), nullable=False),
        sa.Column("updated_at", _ts(), nullable=False),
        sa.PrimaryKeyConstraint("workflow_id"),
    )
    op.create_index("ix_runs_tenant_created", "runs", ["tenant", "created_at"])
    op.create_index("ix_runs_tenant_state_requested", "runs", ["tenant", "state", "requested_at"])
    op.create_index("ix_runs_process_state_version", "runs", ["process", "state", "policy_version"])

    _business_table(
        "leads",
        sa.Column("name", _s(), nullable=False),
        sa.Column("email", _s(), nullable=False),
        sa.Column("company", _s(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("tier", _s(), nullable=False),
        sa.Column("route", _s(), nullable=False),
    )
    _business_table(
        "purchase_order_drafts",
        sa.Column("product", _s(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("supplier", _s(), nullable=False),
        sa.Column("unit_price", sa.Float(), nullable=False),
        sa.Column("total_cost", sa.Float(), nullable=False),
    )
    _business_table(
        "campaign_changes",
        sa.Column("campaign_id", _s(), nullable=False),
        sa.Column("total_budget", sa.Float(), nullable=False),
        sa.Column("budgets", sa.JSON(), nullable=False),
    )
    _business_table(
        "content",
        sa.Column("title", _s(), nullable=False),
        sa.Column("body", _s(), nullable=False),
        sa.Column("channel", _s(), nullable=True),
        sa.Column("status", _s(), nullable=False),
    )

    now = datetime.now(UTC)
    op.bulk_insert(
        policies,
        [
            {
                "process": process,
                "tenant": "*",
                "hitl_enabled": hitl,
                "confidence_threshold": threshold,
                "approval_timeout_seconds": 86400,
                "on_timeout": "reject",
                "version": 1,
                "updated_by": "system",
                "updated_at": now,
            }
            for process, hitl, threshold in _DEFAULT_POLICIES
        ],
    )


def downgrade() -> None:
    for table in (
        "content",
        "campaign_changes",
        "purchase_order_drafts",
        "leads",
        "runs",
        "decisions",
        "policy_changes",
        "policies",
    ):
        # Dropping a table drops its indexes and constraints with it.
        op.drop_table(table)
