"""JSON log lines carry the run they concern: workflow id, run id, tenant and process."""

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from temporalio import activity, workflow

from core.logs import BrainJsonFormatter, business_key, json_logging, setup_logging
from core.settings import LogFormat
from tests.observability.conftest import SQLITE_ONLY, Observed


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """``setup_logging("json")`` as ``brain worker`` calls it, writing into a buffer."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    on_message = (
        activity.logger.activity_info_on_message,
        workflow.logger.workflow_info_on_message,
    )
    setup_logging(LogFormat.json)
    buffer = io.StringIO()
    (handler,) = root.handlers
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(buffer)
    try:
        yield buffer
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        activity.logger.activity_info_on_message = on_message[0]
        workflow.logger.workflow_info_on_message = on_message[1]


def _records(buffer: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]


@SQLITE_ONLY
async def test_activity_lines_carry_the_run(observed: Observed, json_lines: io.StringIO) -> None:
    assert json_logging()
    api = observed.api
    api.script("lead_scoring", confidence=0.95)
    run = await api.parked("lead_scoring")
    r = await api.decide(run["workflow_id"], "approve")
    assert r.status_code == 200, r.text
    await api.wait_state(run["workflow_id"], "completed")

    lines = _records(json_lines)
    mine = [line for line in lines if line.get("workflow_id") == run["workflow_id"]]
    parked = next(line for line in mine if line["message"].startswith("parked at gate"))
    assert parked["logger"] == "temporalio.activity"
    assert parked["level"] == "INFO"
    assert parked["run_id"] == run["run_id"]
    assert parked["tenant"] == api.tenant
    assert parked["process"] == "lead_scoring"
    assert parked["activity_type"] == "park"
    # In JSON the run is a field, not a dict appended to the message.
    assert "workflow_id" not in parked["message"]
    decided = next(line for line in mine if line["message"].startswith("decision approve"))
    # Audited (and logged) by the apply step, with the business row.
    assert decided["activity_type"] == "apply_lead"
    assert decided["tenant"] == api.tenant


def test_workflow_logger_extras_and_explicit_extras() -> None:
    formatter = BrainJsonFormatter()
    record = logging.LogRecord("temporalio.workflow", logging.WARNING, __file__, 1, "m", (), None)
    record.temporal_workflow = {
        "workflow_id": "policy-broadcast:campaign_tuning:acme:v3",
        "run_id": "r-1",
        "workflow_type": "PolicyBroadcastWorkflow",
    }
    line = json.loads(formatter.format(record))
    assert line["workflow_id"] == "policy-broadcast:campaign_tuning:acme:v3"
    assert (line["run_id"], line["process"], line["tenant"]) == ("r-1", "campaign_tuning", "acme")
    assert "temporal_workflow" not in line

    plain = logging.LogRecord("x", logging.INFO, __file__, 1, "m", (), None)
    plain.tenant = "given"
    assert json.loads(formatter.format(plain))["tenant"] == "given"


def test_business_key() -> None:
    assert business_key("lead_scoring:t-1:key:with:colons") == ("lead_scoring", "t-1")
    assert business_key("not-brain:x:y") is None
    assert business_key("lead_scoring") is None
