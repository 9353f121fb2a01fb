"""``brain insights``: what the audit log says about each process (SPEC §7), as JSON; the
same answer as ``GET /insights/decisions``."""

from datetime import UTC, datetime
from typing import Annotated

import typer

from cli.common import database, echo_json, parse_process, run
from cli.home import settings as cli_settings
from core.settings import Settings
from models.hitl import GLOBAL_TENANT
from models.processes import Process
from services.insights import decision_insights
from store.policies import PolicyStore


def insights(
    process: Annotated[
        str | None, typer.Option(help="Only this process (name or seed alias).")
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(help="Only decisions at or after this time (ISO 8601; no offset: UTC)."),
    ] = None,
    tenant: Annotated[
        str, typer.Option(help="This tenant's decisions; * = every tenant's.")
    ] = GLOBAL_TENANT,
) -> None:
    """Per process: runs, auto rate, human decisions and their outcomes, time to decision,
    and the confidence threshold the human decisions would support."""
    proc = parse_process(process) if process is not None else None
    when = None
    if since is not None:
        try:
            when = datetime.fromisoformat(since)
            when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
        except (ValueError, OverflowError):
            raise typer.BadParameter(f"--since {since!r} is not an ISO 8601 time") from None
    run(_insights(cli_settings(), proc, when, tenant))


async def _insights(
    settings: Settings, process: Process | None, since: datetime | None, tenant: str
) -> None:
    # The database itself, not the policy cache: the current thresholds as stored.
    async with database(settings) as sessions:
        found = await decision_insights(
            sessions, PolicyStore(sessions), tenant=tenant, process=process, since=since
        )
    echo_json(found.model_dump(mode="json"))
