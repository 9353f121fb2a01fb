"""``brain policy list|set|log``: read and change HITL policies, and their change log
(SPEC §2)."""

from enum import StrEnum
from typing import Annotated

import typer

from cli.common import default_actor, echo_json, fail, parse_process, policy_store, run
from cli.home import settings as cli_settings
from core.settings import Settings
from models.hitl import GLOBAL_TENANT, PolicyFields
from models.policy_log import PolicyChangeEntry
from models.processes import Process
from services.policies import BroadcastNotStarted, change_policy
from temporal.client import connect

policy_app = typer.Typer(
    help="Read and change HITL policies.",
    no_args_is_help=True,
    rich_markup_mode=None,
    add_completion=False,
)


class Toggle(StrEnum):
    ON = "on"
    OFF = "off"


class OnTimeout(StrEnum):
    REJECT = "reject"
    APPROVE = "approve"


@policy_app.command("list")
def list_policies(
    tenant: Annotated[
        str | None,
        typer.Option(help="Effective policies for this tenant; without it, every stored row."),
    ] = None,
) -> None:
    """List policies as JSON."""
    run(_list(cli_settings(), tenant))


async def _list(settings: Settings, tenant: str | None) -> None:
    async with policy_store(settings) as store:
        if tenant is None:
            rows = await store.rows()
            echo_json([row.model_dump(mode="json") for row in rows])
        else:
            policies = await store.effective_all(tenant)
            echo_json([policy.model_dump(mode="json") for policy in policies])


@policy_app.command("set")
def set_policy(
    process: Annotated[str, typer.Argument(help="Process name or seed alias.")],
    tenant: Annotated[str, typer.Option(help="Tenant row to change; * = global.")] = GLOBAL_TENANT,
    hitl: Annotated[
        Toggle | None, typer.Option(help="on: people review every proposal; off: autonomous.")
    ] = None,
    threshold: Annotated[
        float | None,
        typer.Option(min=0.0, max=1.0, help="Below this confidence a person must look."),
    ] = None,
    timeout: Annotated[
        int | None, typer.Option(min=1, help="Seconds a proposal waits for a decision.")
    ] = None,
    on_timeout: Annotated[
        OnTimeout | None, typer.Option(help="What a timed-out approval becomes.")
    ] = None,
    min_approvals: Annotated[
        int | None,
        typer.Option(min=1, max=5, help="Distinct people who must approve (quorum)."),
    ] = None,
    four_eyes: Annotated[
        bool | None,
        typer.Option(
            "--four-eyes/--no-four-eyes",
            help="Whether whoever started a run is barred from approving it.",
        ),
    ] = None,
    remind_every: Annotated[
        str | None,
        typer.Option(
            metavar="SECONDS|off", help="Remind (webhook) every so often while a run waits."
        ),
    ] = None,
    escalate_after: Annotated[
        str | None,
        typer.Option(metavar="SECONDS|off", help="Escalate (webhook) once after this long."),
    ] = None,
    gate: Annotated[
        str | None, typer.Option(help="The gate whose policy changes; default: the first.")
    ] = None,
    approver_groups: Annotated[
        str | None,
        typer.Option(metavar="G1,G2", help="Groups who may decide the gate ('' = anyone)."),
    ] = None,
    approver_subjects: Annotated[
        str | None,
        typer.Option(metavar="S1,S2", help="People who may decide the gate ('' = none)."),
    ] = None,
    doors: Annotated[
        str | None,
        typer.Option(metavar="api,slack,cli,signal", help="Doors that may decide the gate."),
    ] = None,
    amount_over: Annotated[
        str | None,
        typer.Option(metavar="AMOUNT|off", help="The amount a gate's condition compares."),
    ] = None,
    by: Annotated[
        str | None, typer.Option(help="Who changes it (audited); default: your user.")
    ] = None,
) -> None:
    """Change a policy; the change is versioned and audited. Prints the effective policy."""
    proc = parse_process(process)
    try:
        patch = PolicyFields.model_validate(
            {
                "hitl_enabled": None if hitl is None else hitl is Toggle.ON,
                "confidence_threshold": threshold,
                "approval_timeout_seconds": timeout,
                "on_timeout": None if on_timeout is None else on_timeout.value,
                "min_approvals": min_approvals,
                "requester_may_approve": None if four_eyes is None else not four_eyes,
                "remind_every_seconds": _period(remind_every, "--remind-every"),
                "escalate_after_seconds": _period(escalate_after, "--escalate-after"),
                "approver_groups": _names(approver_groups),
                "approver_subjects": _names(approver_subjects),
                "doors": _names(doors),
                "amount_over": _amount(amount_over),
            }
        )
    except ValueError as err:
        fail("InvalidPolicy", str(err))
    run(_set(cli_settings(), proc, tenant, by or default_actor(), patch, gate))


def _period(value: str | None, option: str) -> int | None:
    """Seconds, or ``off`` (the store keeps a period turned off as 0)."""
    if value is None:
        return None
    if value == "off":
        return 0
    try:
        seconds = int(value)
    except ValueError:
        seconds = 0
    if seconds < 1:
        raise typer.BadParameter(f"{option} takes a number of seconds (1 or more) or off")
    return seconds


def _names(value: str | None) -> list[str] | None:
    """A comma-separated list; an empty string is the empty list."""
    if value is None:
        return None
    return [n.strip() for n in value.split(",") if n.strip()]


def _amount(value: str | None) -> float | None:
    """An amount, or ``off`` (the store keeps an amount turned off as -1)."""
    if value is None:
        return None
    if value == "off":
        return -1.0
    try:
        amount = float(value)
    except ValueError:
        amount = -2.0
    if not amount >= 0:
        raise typer.BadParameter("--amount-over takes an amount (0 or more) or off")
    return amount


@policy_app.command("log")
def policy_log(
    process: Annotated[
        str | None, typer.Option(help="Only this process (name or seed alias).")
    ] = None,
    tenant: Annotated[
        str | None, typer.Option(help="Only this tenant's row; * = the global rows.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="At most this many.")] = 50,
) -> None:
    """Print the policy change log as JSON, newest first: who, when, version, old and new."""
    proc = parse_process(process) if process is not None else None
    run(_log(cli_settings(), proc, tenant, limit))


async def _log(settings: Settings, process: Process | None, tenant: str | None, limit: int) -> None:
    async with policy_store(settings) as store:
        rows = await store.changes(process, limit, tenant=tenant)
    echo_json([PolicyChangeEntry.from_row(row).model_dump(mode="json") for row in rows])


async def _set(
    settings: Settings,
    process: Process,
    tenant: str,
    by: str,
    patch: PolicyFields,
    gate: str | None,
) -> None:
    """Write the change and announce it to parked runs, as the API does (SPEC §2)."""
    try:
        client = await connect(settings)
    except RuntimeError as err:
        fail("TemporalUnavailable", f"cannot reach Temporal to announce the change: {err}")
    async with policy_store(settings) as store:
        try:
            policy = await change_policy(
                client,
                store,
                task_queue=settings.task_queue,
                process=process,
                tenant=tenant,
                changed_by=by,
                patch=patch,
                gate=gate,
            )
        except ValueError as err:
            fail("InvalidPolicy", str(err))
        except KeyError as err:
            fail("NotFound", str(err.args[0]) if err.args else str(err))
        except BroadcastNotStarted as err:
            echo_json(err.policy.model_dump(mode="json"))
            fail("BroadcastFailed", str(err))
    echo_json(policy.model_dump(mode="json"))
    typer.echo(f"note: policy version {policy.version} is being broadcast to parked runs", err=True)
