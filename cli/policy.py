"""``brain policy list|set``: read and change HITL policies (SPEC §2)."""

from enum import StrEnum
from typing import Annotated

import typer
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from cli.common import default_actor, echo_json, fail, parse_process, policy_store, run
from core.settings import Settings, get_settings
from models.broadcast import PolicyBroadcast
from models.hitl import GLOBAL_TENANT, Policy, PolicyChange
from models.processes import Process
from temporal.client import connect
from workflows.policy_broadcast_workflow import PolicyBroadcastWorkflow, workflow_id_for

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
    async with policy_store(settings) as store:
        try:
            policy = await store.set(process, tenant, changed_by=by, **fields)  # type: ignore[arg-type]
        except ValueError as err:
            fail("InvalidPolicy", str(err))
        except KeyError as err:
            fail("NotFound", str(err.args[0]) if err.args else str(err))
    echo_json(policy.model_dump(mode="json"))
    await _broadcast(settings, policy, by)


async def _broadcast(settings: Settings, policy: Policy, by: str) -> None:
    """Start the policy broadcast for this version, as the API does: parked runs of the
    scope re-read their policy within seconds (SPEC §2). Its id comes from the version, so a
    repeated announcement starts nothing new."""
    change = PolicyChange(
        process=policy.process, tenant=policy.tenant, version=policy.version, changed_by=by
    )
    try:
        client = await connect(settings)
        await client.start_workflow(
            PolicyBroadcastWorkflow.run,
            PolicyBroadcast(change=change),
            id=workflow_id_for(change),
            task_queue=settings.task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        )
    except WorkflowAlreadyStartedError:
        pass
    except (RuntimeError, RPCError) as err:
        fail(
            "BroadcastFailed",
            f"policy version {policy.version} was saved, but parked runs could not be told "
            f"({err}); repeat the change to retry",
        )
    typer.echo(
        f"note: policy version {policy.version} is being broadcast to parked runs "
        f"({workflow_id_for(change)})",
        err=True,
    )
