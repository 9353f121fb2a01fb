"""``brain start``, ``approve`` and ``reject``: one run at a time, printed as JSON
(``brain status``: cli/status.py)."""

import asyncio
from typing import Annotated, Any, NoReturn, cast

import typer
from pydantic import ValidationError
from temporalio.client import WorkflowExecutionStatus, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from cli.common import (
    database,
    default_actor,
    echo_json,
    fail,
    invalid,
    parse_json,
    parse_process,
    read_json_file,
    run,
    temporal,
)
from cli.home import settings as cli_settings
from cli.status import WorkflowId, status_name
from core.settings import Settings
from hitl.gate import GatedWorkflow
from models.hitl import DecideOutcome, DecideRequest
from models.processes import Action, Channel, Process
from models.workflow_io import ProcessResult
from processes import registry
from services.starting import IdempotencyConflict, start_process
from temporal import errors

Comment = Annotated[str | None, typer.Option(help="Why; kept in the audit log.")]
By = Annotated[
    str | None, typer.Option(help="Who decides (the audit log's actor); default: your user.")
]
ApprovalId = Annotated[
    str | None, typer.Option(help="Only decide this approval (refused if it is stale).")
]
_EDITS_HELP = "JSON object of the proposal fields to change, e.g. '{\"score\": 70}'."
Wait = Annotated[float, typer.Option(help="Seconds to wait for a worker to confirm.")]


def start(
    process: Annotated[str, typer.Argument(help="Process name or seed alias, e.g. lead_scoring.")],
    input_file: Annotated[
        str | None, typer.Option("--input", "-i", help="JSON start body; - = stdin.")
    ] = None,
    example: Annotated[
        str | None,
        typer.Option(help="Start with one of the process's examples instead: confident, unsure."),
    ] = None,
    tenant: Annotated[str, typer.Option(help="Tenant the run belongs to.")] = "local",
    by: Annotated[str, typer.Option(help="Recorded as the run's requester.")] = "cli",
    idempotency_key: Annotated[
        str | None, typer.Option(help="Same key and body: the same run, never a second one.")
    ] = None,
) -> None:
    """Start a process run (``--input FILE`` or ``--example NAME``); print its workflow id
    and state."""
    proc = parse_process(process)
    if (input_file is None) == (example is None):
        fail("BadArguments", "give exactly one of --input FILE and --example NAME")
    if example is not None:
        examples = registry.definition(proc).examples
        if example not in examples:
            fail("UnknownExample", f"{proc.value} has the examples {sorted(examples)}")
        body: dict[str, Any] = dict(examples[example])
    else:
        assert input_file is not None
        body = read_json_file(input_file)
    run(_start(cli_settings(), proc, body, tenant, by, idempotency_key))


async def _start(
    settings: Settings,
    process: Process,
    body: dict[str, Any],
    tenant: str,
    by: str,
    key: str | None,
) -> None:
    client = await temporal(settings)
    async with database(settings, tenant=tenant) as sessions:
        try:
            started = await start_process(
                client,
                sessions,
                process=process,
                tenant=tenant,
                requested_by=by,
                body=body,
                task_queue=settings.task_queue,
                idempotency_key=key,
                subjects_case_sensitive=settings.subjects_case_sensitive,
            )
        except ValidationError as err:
            invalid("ValidationError", err.errors(include_url=False, include_context=False))
        except IdempotencyConflict as err:
            fail("IdempotencyConflict", str(err))
    echo_json(
        {
            "workflow_id": started.workflow_id,
            "run_id": started.run_id,
            "process": started.process.value,
            "state": started.state.value,
            "created": started.created,
        }
    )


def approve(
    workflow_id: WorkflowId,
    comment: Comment = None,
    edits: Annotated[str | None, typer.Option(help=_EDITS_HELP)] = None,
    by: By = None,
    approval_id: ApprovalId = None,
    wait: Wait = 30.0,
) -> None:
    """Approve the pending proposal (refusals are printed, exit code 1)."""
    patch = parse_json(edits, "--edits") if edits is not None else None
    if patch is not None and not isinstance(patch, dict):
        raise typer.BadParameter("--edits must be a JSON object")
    _decide(workflow_id, Action.APPROVE, by, approval_id, comment, patch, wait)


def reject(
    workflow_id: WorkflowId,
    comment: Comment = None,
    by: By = None,
    approval_id: ApprovalId = None,
    wait: Wait = 30.0,
) -> None:
    """Reject the pending proposal (refusals are printed, exit code 1)."""
    _decide(workflow_id, Action.REJECT, by, approval_id, comment, None, wait)


def _decide(
    workflow_id: str,
    action: Action,
    by: str | None,
    approval_id: str | None,
    comment: str | None,
    edits: dict[str, Any] | None,
    wait: float,
) -> None:
    # The CLI is a Temporal-side door (channel "cli", an operator whose --by is what they
    # type); it sends the validated Update rather than a signal, so a refused decision is
    # reported instead of silently ignored.
    request = DecideRequest(
        action=action,
        by=by or default_actor(),
        approval_id=approval_id,
        comment=comment,
        edits=edits,
        channel=Channel.CLI,
    )
    run(_send_decision(cli_settings(), workflow_id, request, wait))


async def _send_decision(
    settings: Settings, workflow_id: str, request: DecideRequest, wait: float
) -> None:
    client = await temporal(settings)
    handle = client.get_workflow_handle(workflow_id, result_type=ProcessResult)
    try:
        # The handler is async: the SDK types its result as the coroutine.
        call = handle.execute_update(GatedWorkflow.decide, request)
        outcome = cast(DecideOutcome, await asyncio.wait_for(call, wait))
    except WorkflowUpdateFailedError as err:
        _refused(err.cause or err)
    except RPCError as err:
        await _fail_rpc(handle, workflow_id, err)
    except TimeoutError:
        fail(
            "NotConfirmed",
            f"no worker confirmed the decision within {wait:g} s; it may still apply once a "
            "worker runs (check with `brain status`), or send the approve/reject signal, "
            "which is accepted without a worker",
        )
    if outcome.decision is not None:
        echo_json(outcome.decision.model_dump(mode="json"))
    else:
        # Counted toward a quorum that needs more approvals.
        echo_json(outcome.model_dump(mode="json", exclude={"decision"}))


def _refused(cause: BaseException) -> NoReturn:
    """The run's refusal in the API's error shape: its type, its message as ``detail``, and
    for invalid edits the failing fields."""
    if not isinstance(cause, ApplicationError):
        fail("DecisionRefused", str(cause))
    found = cause.details[0] if cause.details else None
    errors_found = found.get("errors") if isinstance(found, dict) else None
    if cause.type == errors.INVALID_EDITS and isinstance(errors_found, list) and errors_found:
        invalid(errors.INVALID_EDITS, errors_found, "edits")
    fail(cause.type or "DecisionRefused", cause.message)


async def _fail_rpc(
    handle: WorkflowHandle[Any, ProcessResult], workflow_id: str, err: RPCError
) -> None:
    if err.status is RPCStatusCode.NOT_FOUND:
        try:
            desc = await handle.describe()
        except RPCError:
            fail("NotFound", f"no workflow {workflow_id}")
        if desc.status is WorkflowExecutionStatus.COMPLETED:
            # The decision was taken and the run finished before this one arrived.
            done: ProcessResult = await handle.result()
            if done.decision is not None:
                d = done.decision
                fail(
                    errors.ALREADY_DECIDED,
                    f"approval {d.approval_id} was already decided ({d.action} by {d.actor} "
                    f"via {d.channel}); the run is {done.state}",
                )
        if desc.status is not WorkflowExecutionStatus.RUNNING:
            fail(errors.NOTHING_PENDING, f"the run is closed ({status_name(desc)})")
    fail(err.status.name, err.message)
