"""``brain ops failed``, ``replay`` and ``verify-audit``: on-call commands (README, "On call")."""

from dataclasses import asdict
from typing import Annotated

import typer

from cli.common import database, echo_json, fail, parse_process, run, temporal
from cli.home import settings as cli_settings
from core.settings import Settings
from models.processes import Process
from services import ops, patches, replay, verify_audit

ops_app = typer.Typer(
    help="Failed runs: list them, replay them from their last good point; verify the audit log.",
    no_args_is_help=True,
    rich_markup_mode=None,
    add_completion=False,
)

ProcessOpt = Annotated[
    str | None, typer.Option("--process", "-p", help="Only this process (name or seed alias).")
]
TenantOpt = Annotated[str | None, typer.Option(help="Only this tenant (default: every tenant).")]


@ops_app.command("failed")
def failed(process: ProcessOpt = None, tenant: TenantOpt = None) -> None:
    """Current runs that failed, were terminated or timed out, and running runs that are stuck,
    with the failure, the failing step and the last decision made."""
    proc = parse_process(process) if process else None
    run(_failed(cli_settings(), proc, tenant))


async def _failed(settings: Settings, process: Process | None, tenant: str | None) -> None:
    client = await temporal(settings)
    async with database(settings) as sessions:
        found = await ops.list_failed(client, tenant=tenant, process=process, sessions=sessions)
    echo_json({"items": [asdict(r) for r in found]})


@ops_app.command("replay")
def replay_cmd(
    workflow_id: Annotated[
        str | None, typer.Option("--workflow-id", "-w", help="Replay this workflow's run.")
    ] = None,
    process: ProcessOpt = None,
    tenant: TenantOpt = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only list what would be reset.")
    ] = False,
    by: Annotated[str, typer.Option(help="Recorded as who asked for the reset.")] = "cli",
) -> None:
    """Reset failed runs to their last good point (the task that scheduled the failed step),
    keeping the decisions made before it. Exit 1 when any run was refused or failed."""
    if (workflow_id is None) == (process is None):
        raise typer.BadParameter("give exactly one of --workflow-id or --process")
    proc = parse_process(process) if process else None
    run(_replay(cli_settings(), workflow_id, proc, tenant, dry_run, by))


async def _replay(
    settings: Settings,
    workflow_id: str | None,
    process: Process | None,
    tenant: str | None,
    dry_run: bool,
    by: str,
) -> None:
    client = await temporal(settings)
    async with database(settings) as sessions:
        try:
            items = await replay.replay(
                client,
                tenant=tenant,
                workflow_id=workflow_id,
                process=process,
                dry_run=dry_run,
                sessions=sessions,
                requested_by=by,
            )
        except ops.RunNotFound:
            fail("WorkflowNotFound", f"no Brain workflow {workflow_id!r}")
    echo_json({"items": [asdict(i) for i in items]})
    ok = ("replayed", "dry run")
    if any(not i.outcome.startswith(ok) for i in items):
        raise typer.Exit(1)


@ops_app.command("verify-audit")
def verify_audit_cmd(
    tenant: TenantOpt = None,
    process: ProcessOpt = None,
    limit: Annotated[
        int, typer.Option(min=1, max=10_000, help="Check at most this many newest runs.")
    ] = verify_audit.DEFAULT_LIMIT,
) -> None:
    """Compare the audit log with what the workflows decided: mismatches, missing rows,
    orphan rows, runs Temporal could not answer for; and hold each row to the rules any
    decision keeps (violations: a policy version the change log lacks, one person counted
    twice in a quorum, a four-eyes approval by the requester). Exit 1 when any is found."""
    proc = parse_process(process) if process else None
    run(_verify_audit(cli_settings(), tenant, proc, limit))


async def _verify_audit(
    settings: Settings, tenant: str | None, process: Process | None, limit: int
) -> None:
    client = await temporal(settings)
    async with database(settings) as sessions:
        report = await verify_audit.verify(
            client,
            sessions,
            tenant=tenant,
            process=process,
            limit=limit,
            case_sensitive=settings.subjects_case_sensitive,
        )
    echo_json(report.as_json())
    if not report.clean:
        raise typer.Exit(1)


@ops_app.command("patches")
def patches_cmd() -> None:
    """Per path kept for runs started by earlier code (hitl/PATCHES.md): how many open runs
    of this task queue still need it. One at 0 can be retired (after the namespace's
    retention, for replay checks of its histories)."""
    run(_patches(cli_settings()))


async def _patches(settings: Settings) -> None:
    client = await temporal(settings)
    found = await patches.report(client, settings.task_queue)
    echo_json(asdict(found))
