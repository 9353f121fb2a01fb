"""The start of a run and its end in failure, as people read them: a bad input named field by
field, a failure as a short typed message (never a traceback, SQL or personal data)."""

from collections.abc import Sequence

from pydantic import ValidationError
from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

from hitl.state import GateState

with workflow.unsafe.imports_passed_through():
    from models.activity_io import RunRef
    from models.processes import Process
    from models.workflow_io import ProcessStart
    from processes.kit.definition import ProcessDefinition
    from processes.kit.edits import compact_errors
    from temporal import errors


def begin(definition: ProcessDefinition, s: GateState, start: ProcessStart) -> None:
    """Take in the start; a bad input (a start from outside Brain) ends the run at once,
    naming the fields, instead of failing every workflow task."""
    info = workflow.info()
    s.requested_by = start.requested_by
    s.case_sensitive = start.subjects_case_sensitive
    s.temporal_address = start.temporal_address
    try:
        if not start.tenant:
            raise ValueError("the start carries no tenant")
        s.input = definition.parse_input(start.input)
    except (ValidationError, ValueError) as err:
        found = err.errors(include_url=False) if isinstance(err, ValidationError) else []
        raise ApplicationError(
            f"invalid input for {definition.name}: {fields(found) or err}",
            {"errors": compact_errors(found)},
            type=errors.INVALID_INPUT,
            non_retryable=True,
        ) from None
    s.run = RunRef(
        workflow_id=info.workflow_id,
        run_id=info.run_id,
        tenant=start.tenant,
        process=Process(definition.name),
        subject=s.input.subject()[:300],
    )


def fields(found: Sequence[object]) -> str:
    locs = [".".join(str(p) for p in e["loc"]) for e in found if isinstance(e, dict)]
    shown = ", ".join(loc or "payload" for loc in locs[:5])
    return shown + (f" and {len(locs) - 5} more" if len(locs) > 5 else "")


def short(err: ActivityError | ApplicationError) -> str:
    """A failure as a run's error: its type and message, clipped, never a traceback."""
    cause = err.cause if isinstance(err, ActivityError) else err
    if isinstance(cause, ApplicationError) and cause.type:
        return f"{cause.type}: {cause.message}"[:500]
    return str(cause or err)[:500]
