"""Gates and who may decide them (SPEC §8): a policy row per (process, tenant, gate) with
approver groups, approver subjects, doors and an amount for gate conditions; the gate on
runs, audit rows and the change log; what a run is about on its row (the inbox shows it);
where a decision came from beyond its channel (the Slack user and team), and when its gate
asked for a person (time to decision, per gate). Every global row is at version 1 or later.

Existing policy rows become the rows of each process's first gate, under the names this
revision's processes give them; a process added later names its own.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The first gate of each process at this revision (processes/*.py ``gates``).
_FIRST_GATE = {
    "lead_scoring": "review",
    "campaign_tuning": "review",
    "product_sourcing": "buyer",
    "content_generation": "editor",
    "testimonial_generation": "editor",
}
_DEFAULT_GATE = "review"


def _first_gate_case() -> sa.ColumnElement[str]:
    process: sa.ColumnClause[str] = sa.column("process")
    return sa.case(
        *((process == name, gate) for name, gate in _FIRST_GATE.items()), else_=_DEFAULT_GATE
    )


def upgrade() -> None:
    with op.batch_alter_table("policies") as batch:
        batch.add_column(sa.Column("gate", sa.String(32), nullable=True))
        batch.add_column(sa.Column("approver_groups", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("approver_subjects", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("doors", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("amount_over", sa.Float(), nullable=True))
    policies = sa.table("policies", sa.column("gate"), sa.column("process"), sa.column("tenant"),
                        sa.column("version"))  # fmt: skip
    op.execute(policies.update().values(gate=_first_gate_case()))
    # A global row at version 0 was written by no change; every global row reads >= 1.
    op.execute(
        policies.update().where(policies.c.tenant == "*", policies.c.version < 1).values(version=1)
    )
    with op.batch_alter_table("policies") as batch:
        batch.alter_column("gate", existing_type=sa.String(32), nullable=False)
        batch.drop_constraint("uq_policies_process_tenant", type_="unique")
        batch.create_unique_constraint(
            "uq_policies_process_tenant_gate", ["process", "tenant", "gate"]
        )
    with op.batch_alter_table("policy_changes") as batch:
        batch.add_column(sa.Column("gate", sa.String(32), nullable=True))
    changes = sa.table("policy_changes", sa.column("gate"), sa.column("process"))
    op.execute(changes.update().values(gate=_first_gate_case()))
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("gate", sa.String(32), nullable=True))
        batch.add_column(sa.Column("subject", sa.String(300), nullable=True))
    # The broadcast finds a gate's parked runs still on an older version.
    op.drop_index("ix_runs_process_state_version", table_name="runs")
    op.create_index(
        "ix_runs_process_gate_state_version", "runs", ["process", "gate", "state", "policy_version"]
    )
    with op.batch_alter_table("decisions") as batch:
        batch.add_column(sa.Column("gate", sa.String(32), nullable=True))
        batch.add_column(sa.Column("origin", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("requested_at", sa.DateTime(timezone=True), nullable=True))
    # Time to decision was measured from the run's row, which held the one gate's request.
    decisions = sa.table("decisions", sa.column("requested_at"), sa.column("workflow_id"),
                         sa.column("channel"))  # fmt: skip
    runs = sa.table("runs", sa.column("requested_at"), sa.column("workflow_id"))
    op.execute(
        decisions.update()
        .where(decisions.c.channel != "auto")
        .values(
            requested_at=sa.select(runs.c.requested_at)
            .where(runs.c.workflow_id == decisions.c.workflow_id)
            .scalar_subquery()
        )
    )


def downgrade() -> None:
    with op.batch_alter_table("decisions") as batch:
        batch.drop_column("requested_at")
        batch.drop_column("origin")
        batch.drop_column("gate")
    op.drop_index("ix_runs_process_gate_state_version", table_name="runs")
    op.create_index("ix_runs_process_state_version", "runs", ["process", "state", "policy_version"])
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("subject")
        batch.drop_column("gate")
    with op.batch_alter_table("policy_changes") as batch:
        batch.drop_column("gate")
    # Rows of later gates have no place in the old shape.
    policies = sa.table("policies", sa.column("gate"), sa.column("process"))
    op.execute(policies.delete().where(policies.c.gate != _first_gate_case()))
    with op.batch_alter_table("policies") as batch:
        batch.drop_constraint("uq_policies_process_tenant_gate", type_="unique")
        batch.create_unique_constraint("uq_policies_process_tenant", ["process", "tenant"])
        batch.drop_column("amount_over")
        batch.drop_column("doors")
        batch.drop_column("approver_subjects")
        batch.drop_column("approver_groups")
        batch.drop_column("gate")
