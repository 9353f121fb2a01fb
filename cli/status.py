"""``brain status``: one run's state, proposal, pending approval and decision, as JSON.

It asks the run itself (the gate's ``status`` query, by name: loading the workflows to call
it by reference would cost more than the answer), and without a worker to answer, shows
what the runs table and Temporal's history recorded.
"""

from datetime import timedelta
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cli.common import database, echo_json, fail, run, temporal
from cli.home import settings as cli_settings
from core.settings import Settings
from temporal.handlers import STATUS_QUERY

if TYPE_CHECKING:
    from temporalio.client import Client, WorkflowExecutionDescription

    from models.tables import RunRow

_QUERY_TIMEOUT = timedelta(seconds=5)

WorkflowId = Annotated[str, typer.Argument(help="The run's workflow id (from `brain start`).")]


def status(workflow_id: WorkflowId) -> None:
    """Print the run's state, proposal, pending approval and decision as JSON."""
    run(_status(cli_settings(), workflow_id))


async def _status(settings: Settings, workflow_id: str) -> None:
    from temporalio.client import WorkflowQueryFailedError
    from temporalio.service import RPCError, RPCStatusCode

    client = await temporal(settings)
    handle = client.get_workflow_handle(workflow_id)
    try:
        # Answered by a worker (a closed run is replayed), so it can fail without one.
        current = await handle.query(STATUS_QUERY, result_type=dict, rpc_timeout=_QUERY_TIMEOUT)
    except (WorkflowQueryFailedError, RPCError) as err:
        if isinstance(err, RPCError) and err.status is RPCStatusCode.NOT_FOUND:
            fail("NotFound", f"no workflow {workflow_id}")
        typer.echo(f"note: no answer to the status query ({err}); showing the record", err=True)
    else:
        echo_json(current)
        return
    try:
        desc = await handle.describe()
    except RPCError as err:
        if err.status is RPCStatusCode.NOT_FOUND:
            fail("NotFound", f"no workflow {workflow_id}")
        raise
    echo_json(await _recorded(settings, client, desc))


async def _recorded(
    settings: Settings, client: "Client", desc: "WorkflowExecutionDescription"
) -> dict[str, Any]:
    """The run as the runs table and Temporal's history know it, without a worker."""
    from temporalio.client import WorkflowExecutionStatus

    from models.processes import RunState
    from models.workflow_io import ProcessResult

    closed = {
        WorkflowExecutionStatus.FAILED: RunState.FAILED,
        WorkflowExecutionStatus.CANCELED: RunState.CANCELED,
        WorkflowExecutionStatus.TERMINATED: RunState.TERMINATED,
        WorkflowExecutionStatus.TIMED_OUT: RunState.TIMED_OUT,
    }
    view: dict[str, Any] = {"workflow_id": desc.id, "temporal_status": status_name(desc)}
    row = await _run_row(settings, desc.id)
    if row is not None:
        view |= row.model_dump(
            mode="json",
            include={"process", "tenant", "state", "proposal", "confidence", "approval",
                     "decision", "result", "error"},
        )  # fmt: skip
    if desc.status is WorkflowExecutionStatus.COMPLETED:
        handle = client.get_workflow_handle(desc.id, result_type=ProcessResult)
        result = await handle.result()
        view |= result.model_dump(mode="json")
    elif desc.status in closed:
        view["state"] = closed[desc.status].value
    return view


async def _run_row(settings: Settings, workflow_id: str) -> "RunRow | None":
    from sqlalchemy.exc import SQLAlchemyError

    from models.tables import RunRow

    try:
        async with database(settings, migrate_first=False) as sessions, sessions() as session:
            return await session.get(RunRow, workflow_id)
    except SQLAlchemyError as err:
        typer.echo(f"note: the runs table is not readable ({err.__class__.__name__})", err=True)
        return None


def status_name(desc: "WorkflowExecutionDescription") -> str:
    return desc.status.name.lower() if desc.status is not None else "unknown"
