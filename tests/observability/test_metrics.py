"""Metric values after a known sequence of decisions, and the endpoints that serve them."""

import socket
import urllib.request
import uuid

from prometheus_client import REGISTRY, CollectorRegistry
from temporalio.worker import Worker

from core.gate_metrics import GateMetrics
from core.metrics import worker_telemetry
from core.settings import Settings
from models.processes import Process
from temporal.client import connect
from tests.observability.conftest import SQLITE_ONLY, Observed
from workflows.process_workflow import LeadScoringWorkflow

LEAD = Process("lead_scoring").value


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _scrape(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        body: bytes = response.read()
        return body.decode()


@SQLITE_ONLY
async def test_decisions_are_counted_once_by_door_and_outcome(observed: Observed) -> None:
    api, brain = observed.api, observed.brain
    api.script(LEAD, confidence=0.95)
    # 1. Autonomous: approved with nobody asked.
    await brain.set_policy(hitl_enabled=False, confidence_threshold=0.5)
    auto = await api.start(LEAD)
    await api.wait_state(auto["workflow_id"], "completed")

    # 2. A super admin turns HITL back on through the API: a policy change.
    changes = {"process": LEAD, "field": "hitl_enabled"}
    before = REGISTRY.get_sample_value("brain_policy_changes_total", changes) or 0.0
    r = await api.http.post(
        f"/workflows/hitl/{LEAD}/toggle",
        json={"enabled": True, "tenant": api.tenant},
        headers=api.auth("super_admin"),
    )
    assert r.status_code == 200, r.text
    assert REGISTRY.get_sample_value("brain_policy_changes_total", changes) == before + 1

    # 3. Approved over REST, with edits.
    edited = await api.parked(LEAD)
    r = await api.decide(edited["workflow_id"], "approve", edits={"score": 55})
    assert r.status_code == 200, r.text
    await api.wait_state(edited["workflow_id"], "completed")

    # 4. Rejected by a signal (Web UI / CLI door).
    rejected = await api.parked(LEAD)
    handle = brain.client.get_workflow_handle(rejected["workflow_id"])
    await handle.signal(LeadScoringWorkflow.reject, {"by": "ops", "comment": "not now"})
    await api.wait_state(rejected["workflow_id"], "rejected")

    # 5. Left parked.
    await api.parked(LEAD)

    m = observed.sample
    assert m("brain_approvals_requested_total", process=LEAD) == 3
    assert m("brain_decisions_total", process=LEAD, channel="auto", outcome="approve") == 1
    assert m("brain_decisions_total", process=LEAD, channel="api", outcome="approve") == 1
    assert m("brain_decisions_total", process=LEAD, channel="signal", outcome="reject") == 1
    assert m("brain_auto_approvals_total", process=LEAD) == 1
    assert m("brain_edited_approvals_total", process=LEAD) == 1
    for channel in ("api", "signal"):
        count = m("brain_time_to_decision_seconds_count", process=LEAD, channel=channel)
        assert count == 1, channel
    # Replays and retries of the recording steps never count a decision twice: the runs are
    # over and the counts stay as they are (the auto decision's audit row is in apply).
    assert m("brain_decisions_total", process=LEAD, channel="auto", outcome="reject") == 0

    # The API's endpoint: the process's registry plus the parked runs, read from the table.
    r = await api.http.get("http://brain/metrics", headers=api.auth("admin"))
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    parked = [
        line for line in r.text.splitlines() if line.startswith('brain_parked_runs{process="lead')
    ]
    assert len(parked) == 1 and float(parked[0].split()[-1]) >= 1, parked
    assert "brain_policy_changes_total" in r.text


@SQLITE_ONLY
async def test_the_api_endpoint_takes_an_admin_token(observed: Observed) -> None:
    api = observed.api
    # Not open on the API's port (SPEC §4): its counts span every tenant.
    anonymous = await api.http.get("http://brain/metrics")
    assert anonymous.status_code == 401 and anonymous.json()["error"] == "Unauthorized"
    for role in ("viewer", "operator", "approver"):
        r = await api.http.get("http://brain/metrics", headers=api.auth(role))
        assert r.status_code == 403, role
    for role in ("admin", "super_admin"):
        r = await api.http.get("http://brain/metrics", headers=api.auth(role))
        assert r.status_code == 200 and "brain_" in r.text, role
    # Left out of the OpenAPI document: it is not part of the versioned API.
    assert "/metrics" not in (await api.http.get("http://brain/openapi.json")).json()["paths"]


async def test_worker_endpoint_serves_brain_and_sdk_metrics(settings: Settings) -> None:
    registry = CollectorRegistry()
    GateMetrics(registry).approval_requested(Process("campaign_tuning"))
    port = _free_port()
    runtime, stop = worker_telemetry(port, registry=registry)
    try:
        client = await connect(settings, runtime=runtime)
        async with Worker(
            client,
            task_queue=f"brain-obs-{uuid.uuid4().hex[:8]}",
            workflows=[LeadScoringWorkflow],
            activities=[],
        ):
            text = _scrape(f"http://127.0.0.1:{port}/metrics")
    finally:
        stop()
    assert 'brain_approvals_requested_total{process="campaign_tuning"} 1.0' in text
    # The SDK core's own worker metrics, folded into the same endpoint.
    assert "temporal_" in text, text[:2000]
