"""``brain migrate``: the database schema to this version's head, as a step of its own.

Workers and the API migrate on start too; a deployment runs this first instead (a
Kubernetes Job, a oneshot unit: deploy/), so that a schema change happens once, before any
process of the new version starts, and a failed one stops the rollout (README, Production).
"""

import asyncio

from alembic.script import ScriptDirectory

from cli.common import echo_json
from core.settings import get_settings
from store.connect_errors import checked_migrate
from store.db import alembic_config


def migrate() -> None:
    """Upgrade the database (BRAIN_DATABASE_URL) to this version's schema; idempotent."""
    settings = get_settings()
    asyncio.run(checked_migrate(settings.effective_database_url))
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    # One head per branch: Brain's, and each installed plugin's (ProcessDefinition.migrations).
    revision = " ".join(sorted(heads))
    echo_json({"database": settings.database_url_for_display, "revision": revision})
