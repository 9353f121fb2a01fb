"""Row-level security on PostgreSQL (SPEC §4): the ``brain_app`` role the API and workers act
as, its rights on every app table, and a tenant policy on each tenant-owned one
(``store/rls.py`` says what and why). SQLite has no roles or policies: nothing to do there.

The tables come from the models, limited to those this database has at this revision; a
table added by a later migration is protected there (``rls.protect``) and, should that be
forgotten, by ``store.db.migrate``, which re-applies ``rls.secure`` after every upgrade.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from collections.abc import Sequence

from alembic import op

from store import rls

revision: str = "0007"
# Re-chained onto the latest revision when the ones before it land.
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        rls.secure(bind)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        rls.unsecure(bind)
