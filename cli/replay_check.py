"""``brain replay-check``: the determinism gate to run before deploying workflow changes.

Replays recorded or live histories with the workflow code in this checkout through
``temporalio.worker.Replayer``; a change that would break runs already in flight (or
parked for weeks) fails here, naming the run and the event, instead of in production.
"""

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any

import typer
from google.protobuf.json_format import MessageToJson
from temporalio.client import Client, WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.runtime import LoggingConfig, Runtime, TelemetryConfig, TelemetryFilter
from temporalio.worker import Replayer

from cli.common import echo_json, fail, parse_process, run, temporal
from cli.home import settings as cli_settings
from models.processes import Process
from processes import registry
from temporal.sandbox import WORKFLOW_RUNNER
from workers.registry import WORKFLOWS

_EVENT_ID = re.compile(r"(?:HistoryEvent\(id: |event[ _]id[\s:#=]*)(\d+)", re.IGNORECASE)
_MESSAGE = re.compile(r'message: "(.*?)", source')
_QUOTED = re.compile(r"'([^']+)'")


def _reason(failure: Exception) -> str:
    """The core's own words, without the Rust debug dump around them."""
    match = _MESSAGE.search(str(failure))
    return match.group(1) if match else str(failure)


def _event_id(reason: str, history: WorkflowHistory) -> int | None:
    """The event the code disagreed with: named by id, or else the first event that carries
    the name the message quotes (the activity type, timer or marker the history recorded)."""
    match = _EVENT_ID.search(reason)
    if match:
        return int(match.group(1))
    for name in _QUOTED.findall(reason):
        for event in history.events:
            if f'"{name}"' in MessageToJson(event):
                return event.event_id
    return None


def replay_check(
    workflow_id: Annotated[
        str | None, typer.Option("--workflow-id", "-w", help="Check this workflow's run.")
    ] = None,
    process: Annotated[
        str | None, typer.Option("--process", "-p", help="Check this process's recent runs.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="How many runs with --process.")] = 50,
    file: Annotated[
        list[Path] | None,
        typer.Option("--file", "-f", help="A history JSON (Web UI / `temporal` export)."),
    ] = None,
) -> None:
    """Replay histories with this checkout's workflow code; exit 1 naming the run and the
    event on any non-determinism. Run it before deploying workflow changes."""
    if sum(x is not None for x in (workflow_id, process, file)) != 1:
        raise typer.BadParameter("give exactly one of --workflow-id, --process or --file")
    proc = parse_process(process) if process else None
    results = run(_check(workflow_id, proc, limit, file or []))
    echo_json({"checked": len(results), "results": results})
    failed = [r for r in results if not r["ok"]]
    for r in failed:
        typer.echo(
            f"NON-DETERMINISTIC: workflow {r['workflow_id']} run {r['run_id']} "
            f"at event {r['event_id']}: {r['error']}",
            err=True,
        )
    if failed:
        raise typer.Exit(1)


def _read(path: Path) -> list[WorkflowHistory]:
    """One exported history, or a bundle of them (``tests/histories/<process>@<gate>.json``,
    written by scripts/record_process_histories.py)."""
    data = json.loads(path.read_text())
    if isinstance(data, dict) and isinstance(data.get("histories"), dict):
        return [
            WorkflowHistory.from_json(f"{path.stem}:{name}", json.dumps(history))
            for name, history in data["histories"].items()
        ]
    return [WorkflowHistory.from_json(path.stem, json.dumps(data))]


async def _histories(
    workflow_id: str | None, process: Process | None, limit: int, files: list[Path]
) -> AsyncIterator[WorkflowHistory]:
    for path in files:
        try:
            for history in _read(path):
                yield history
        except (OSError, ValueError) as err:
            fail("BadHistory", f"cannot read {path}: {err}")
    if workflow_id is None and process is None:
        return
    client: Client = await temporal(cli_settings())
    if workflow_id is not None:
        yield await client.get_workflow_handle(workflow_id).fetch_history()
        return
    assert process is not None
    query = f"WorkflowType = '{registry.definition(process).workflow_type}'"
    async for history in client.list_workflows(query, limit=limit).map_histories():
        yield history


async def _check(
    workflow_id: str | None, process: Process | None, limit: int, files: list[Path]
) -> list[dict[str, Any]]:
    # The core would log each failing task on stdout, in the middle of the JSON report; the
    # report carries the failure already.
    quiet = LoggingConfig(filter=TelemetryFilter(core_level="ERROR", other_level="ERROR"))
    replayer = Replayer(
        runtime=Runtime(telemetry=TelemetryConfig(logging=quiet)),
        workflows=WORKFLOWS,
        data_converter=pydantic_data_converter,
        workflow_runner=WORKFLOW_RUNNER,
    )
    results: list[dict[str, Any]] = []
    async for history in _histories(workflow_id, process, limit, files):
        outcome = await replayer.replay_workflow(history, raise_on_replay_failure=False)
        failure = outcome.replay_failure
        reason = _reason(failure) if failure else None
        results.append(
            {
                "workflow_id": history.workflow_id,
                "run_id": history.run_id,
                "ok": failure is None,
                "error": reason,
                "event_id": _event_id(reason, history) if reason else None,
            }
        )
    return results
