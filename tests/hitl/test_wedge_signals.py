"""Inputs that once wedged a run (issue 10), over the Temporal side: bad signal payloads are
ignored with their reason and field while the run keeps waiting, and a run started from
outside Brain with a bad input ends ``failed`` at once, naming the fields, instead of
failing its workflow task for ever."""

import asyncio
import contextlib
import uuid
from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowFailureError,
    WorkflowUpdateFailedError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from models.processes import RunState
from processes.lead_scoring import LeadRow
from temporal import errors
from tests.api.support import CAMPAIGN
from tests.support import Brain, eventually, parked
from workflows.process_workflow import LeadScoringWorkflow

# (payload, what the ignored reason must name)
BAD_SIGNALS: list[tuple[dict[str, Any], tuple[str, ...]]] = [
    ({"by": "ops", "comment": "ok\x00"}, ("invalid payload", "comment")),
    ({"by": "o\x1bps"}, ("invalid payload", "by")),
    ({"approval_id": "x\x00"}, ("invalid payload", "approval_id")),
    ({"edits": {"rationale": "fine\x07"}}, ("invalid payload", "edits")),
    ({"edits": {"sco\x00re": 50}}, ("invalid payload", "edits")),
    ({"edits": {"score": float("nan")}}, ("invalid payload", "edits")),
    ({"edits": {"score": float("inf")}}, ("invalid payload", "edits")),
    ({"edits": {"tier": "cold"}}, ("InvalidEdits", "edits.tier")),
    ({"edits": {f"k{i}": i for i in range(21)}}, ("InvalidEdits", "edits")),
    ({"edits": {f"k{i}": i for i in range(10_000)}}, ("invalid payload", "edits")),
    ({"edits": {f"f{i}": "x" * 1000 for i in range(1000)}}, ("invalid payload", "edits")),
]


async def test_bad_signal_payloads_are_ignored_and_the_run_can_still_be_decided(
    brain: Brain,
) -> None:
    handle = await brain.start()
    await parked(handle)
    for payload, _ in BAD_SIGNALS:
        await handle.signal("approve", payload)
    await handle.signal("reject", {"by": "ops", "comment": "no\x00"})

    async def all_ignored() -> Any:
        status = await handle.query(LeadScoringWorkflow.status)
        return status if len(status.ignored_signals) == len(BAD_SIGNALS) + 1 else None

    status = await eventually(all_ignored, within=30)
    assert status.state is RunState.AWAITING_APPROVAL and status.decision is None
    for reason, (_, names) in zip(status.ignored_signals, BAD_SIGNALS, strict=False):
        assert all(name in reason for name in names), (reason, names)
        assert len(reason) <= 500
    assert "reject signal ignored" in status.ignored_signals[-1]
    assert "comment" in status.ignored_signals[-1]
    assert await brain.audit(handle.id) == []

    await handle.signal("approve", {"by": "ops", "edits": {"score": 30}})
    result = await asyncio.wait_for(handle.result(), 30)
    assert result.state is RunState.COMPLETED
    [row] = await brain.rows(LeadRow, handle.id)
    assert (row.score, row.tier, row.route) == (30, "cold", "marketing")
    [audit] = await brain.audit(handle.id)
    assert (audit.actor, audit.channel, audit.edits) == ("ops", "signal", {"score": 30})


BAD_UPDATES: list[Any] = [
    {"action": "approve", "by": "o\x00ps", "channel": "signal"},
    {"action": "approve", "by": "ops", "channel": "signal", "edits": {"score": float("nan")}},
    {"action": "approve", "by": "ops", "channel": "signal", "comment": "x" * 6000},
    {"action": "approve", "by": "ops", "channel": "signal", "edits": {"tier": "cold"}},
    "approve",
    None,
]


async def test_bad_decide_updates_from_a_temporal_caller_are_refused(brain: Brain) -> None:
    """The Update door (a Temporal caller, raw JSON): refused, never a failed workflow task."""
    handle = await brain.start()
    await parked(handle)
    for raw in BAD_UPDATES:
        with pytest.raises(WorkflowUpdateFailedError):
            await asyncio.wait_for(handle.execute_update("decide", raw), 15)
    status = await handle.query(LeadScoringWorkflow.status)
    assert status.state is RunState.AWAITING_APPROVAL and status.decision is None
    events = (await handle.fetch_history()).events
    assert not [e for e in events if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED]
    await handle.signal(LeadScoringWorkflow.reject, {"by": "ops"})
    assert (await asyncio.wait_for(handle.result(), 30)).state is RunState.REJECTED


def _campaign(**changes: Any) -> dict[str, Any]:
    return {**CAMPAIGN, **changes}


# A raw start (JSON, as the Temporal CLI sends it) and the fields its failure names.
OUTSIDE_STARTS: dict[str, tuple[dict[str, Any], list[str]]] = {
    "NaN budget": ({"input": _campaign(total_budget=float("nan"))}, ["total_budget"]),
    "infinite revenue": (
        {
            "input": _campaign(
                channels=[{**CAMPAIGN["channels"][0], "revenue": float("inf")}],
            )
        },
        ["channels.0.revenue"],
    ),
    "missing fields": ({"input": {"campaign_id": "c"}}, ["total_budget", "channels"]),
    "NUL in the id": ({"input": _campaign(campaign_id="c\x00")}, ["campaign_id"]),
    "no input at all": ({}, ["campaign_id"]),
    "no tenant": ({"tenant": "", "input": CAMPAIGN}, ["tenant"]),
    # Not even the shape of a start: decoding it once failed every workflow task.
    "input not an object": ({"input": "spring"}, ["campaign_id", "total_budget"]),
    "tenant not a string": ({"tenant": 5, "input": CAMPAIGN}, ["tenant"]),
}


@pytest.mark.parametrize("case", sorted(OUTSIDE_STARTS))
async def test_a_run_started_outside_brain_with_a_bad_input_fails_at_once(
    brain: Brain, client: Client, case: str
) -> None:
    start, fields = OUTSIDE_STARTS[case]
    raw = {"tenant": brain.tenant, "requested_by": "temporal-cli", **start}
    handle = await client.start_workflow(
        "CampaignTuningWorkflow",
        raw,
        id=f"outside-{uuid.uuid4().hex[:10]}",
        task_queue=brain.task_queue,
    )
    with pytest.raises(WorkflowFailureError) as failed:
        await asyncio.wait_for(handle.result(), 30)
    cause = failed.value.cause
    assert isinstance(cause, ApplicationError), cause
    assert cause.type == errors.INVALID_INPUT and cause.non_retryable
    assert all(f in cause.message for f in fields), cause.message
    assert len(cause.message) < 500
    assert (await handle.describe()).status is WorkflowExecutionStatus.FAILED
    history = await handle.fetch_history()
    kinds = {e.event_type for e in history.events}
    assert EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED not in kinds


@pytest.mark.parametrize("raw", [["spring"], "spring", 42], ids=["list", "string", "number"])
async def test_a_start_that_is_not_an_object_fails_at_once(
    brain: Brain, client: Client, raw: Any
) -> None:
    handle = await client.start_workflow(
        "CampaignTuningWorkflow",
        raw,
        id=f"outside-{uuid.uuid4().hex[:10]}",
        task_queue=brain.task_queue,
    )
    with pytest.raises(WorkflowFailureError) as failed:
        await asyncio.wait_for(handle.result(), 30)
    cause = failed.value.cause
    assert isinstance(cause, ApplicationError) and cause.type == errors.INVALID_INPUT, cause
    assert "tenant" in cause.message


async def test_a_null_start_fails_at_once(brain: Brain, client: Client) -> None:
    handle = await client.start_workflow(
        "CampaignTuningWorkflow",
        None,
        id=f"outside-{uuid.uuid4().hex[:10]}",
        task_queue=brain.task_queue,
    )
    try:

        async def settled() -> bool:
            if (await handle.describe()).status is not WorkflowExecutionStatus.RUNNING:
                return True
            events = (await handle.fetch_history()).events
            return any(e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED for e in events)

        await eventually(settled, within=30)
        assert (await handle.describe()).status is WorkflowExecutionStatus.FAILED
    finally:
        with contextlib.suppress(RPCError):
            await handle.terminate("test: a wedged run is not left behind")
