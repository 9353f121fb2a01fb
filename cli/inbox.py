"""``brain inbox``, ``brain runs`` and ``brain cancel``: what waits for a person, what runs,
and stopping a run, over the REST API (cli/api_client.py): the API decides what the caller's
token may see and do, and audits the cancel, exactly as for any other client."""

from typing import Annotated, Any

import typer

from cli.api_client import Api
from cli.common import echo_json
from cli.home import settings as cli_settings

Limit = Annotated[int, typer.Option(min=1, max=10_000, help="At most this many.")]
Process = Annotated[
    str | None, typer.Option("--process", "-p", help="Only this process (name or seed alias).")
]
Tenant = Annotated[str | None, typer.Option(help="Another tenant's (a super admin's token only).")]


def inbox(
    mine: Annotated[
        bool, typer.Option("--mine", help="Only what you may decide (your groups).")
    ] = False,
    process: Process = None,
    tenant: Tenant = None,
    limit: Limit = 50,
) -> None:
    """Approvals waiting for a person, oldest first: {"items": [...]}."""
    params = {"mine": "true" if mine else None, "process": process, "tenant": tenant}
    _list("/approvals", params, limit)


def runs(
    state: Annotated[
        str | None,
        typer.Option(help="Only runs in this state: running, awaiting_approval, completed, …"),
    ] = None,
    process: Process = None,
    tenant: Tenant = None,
    limit: Limit = 50,
) -> None:
    """Runs, newest first, with their state: {"items": [...]}."""
    _list("/workflows", {"state": state, "process": process, "tenant": tenant}, limit)


def cancel(
    workflow_id: Annotated[str, typer.Argument(help="The run's workflow id.")],
) -> None:
    """Cancel a run that has not applied yet (audited); it records `canceled` once stopped."""
    with Api(cli_settings()) as api:
        echo_json(api.call("POST", f"/workflows/{_path(workflow_id)}/cancel"))


def _list(path: str, params: dict[str, Any], limit: int) -> None:
    with Api(cli_settings()) as api:
        items, more = api.pages(path, params, limit)
    echo_json({"items": items})
    if more:
        typer.echo(f"note: more than {limit}; --limit shows more", err=True)


def _path(segment: str) -> str:
    # A workflow id holds ':' and may hold anything else; '/' must not start a new segment.
    from urllib.parse import quote

    return quote(segment, safe=":")
