"""``brain policy list|set``: read and change HITL policies (SPEC §2)."""

from enum import StrEnum
from typing import Annotated

import typer

from cli.common import default_actor, echo_json, fail, parse_process, policy_store, run
from core.settings import Settings, get_settings
from models.hitl import GLOBAL_TENANT
from models.processes import Process
from services.policies import BroadcastNotStarted, change_policy
from temporal.client import connect

policy_app = typer.Typer(help="Read and change HITL policies.", no_args_is_help=True)


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
    run(_list(get_settings(), tenant))


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
    by: Annotated[
        str | None, typer.Option(help="Who changes it (audited); default: your user.")
    ] = None,
) -> None:
    """Change a policy; the change is versioned and audited. Prints the effective policy."""
    proc = parse_process(process)
    run(
        _set(
            get_settings(),
            proc,
            tenant,
            by or default_actor(),
            hitl_enabled=None if hitl is None else hitl is Toggle.ON,
            confidence_threshold=threshold,
            approval_timeout_seconds=timeout,
            on_timeout=None if on_timeout is None else on_timeout.value,
        )
    )


async def _set(
    settings: Settings,
    process: Process,
    tenant: str,
    by: str,
    **fields: bool | float | int | str | None,
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
                **fields,
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
