"""One trace from the HTTP start, through the workflow and its activities, to the approval."""

from collections.abc import Sequence

from opentelemetry.sdk.trace import ReadableSpan

from tests.observability.conftest import SQLITE_ONLY, Observed
from tests.support import eventually

pytestmark = SQLITE_ONLY

START = "POST /api/brain/workflows/lead_scoring"
APPROVE = "POST /api/brain/workflows/{workflow_id}/approve"


def _one(spans: Sequence[ReadableSpan], name: str) -> ReadableSpan:
    named = [s for s in spans if s.name == name]
    assert len(named) == 1, (name, sorted({s.name for s in spans}))
    return named[0]


def _parent(spans: Sequence[ReadableSpan], span: ReadableSpan) -> ReadableSpan:
    assert span.parent is not None, span.name
    return next(s for s in spans if s.context.span_id == span.parent.span_id)


async def test_one_trace_from_http_start_to_approval(observed: Observed) -> None:
    api = observed.api
    api.script("lead_scoring", confidence=0.95)  # HITL on by default: it parks
    run = await api.parked("lead_scoring")
    workflow_id = run["workflow_id"]
    r = await api.decide(workflow_id, "approve")
    assert r.status_code == 200, r.text
    await api.wait_state(workflow_id, "completed")

    async def finished() -> list[ReadableSpan]:
        spans = list(observed.spans.get_finished_spans())
        # The row says completed once the apply step committed; the workflow completes a
        # workflow task later, and its span ends only then.
        names = {s.name for s in spans}
        done = {"RunActivity:apply_lead", "CompleteWorkflow:LeadScoringWorkflow"} <= names
        return spans if done else []

    spans = await eventually(finished)
    start = _one(spans, START)
    trace = [s for s in spans if s.context.trace_id == start.context.trace_id]
    names = {s.name for s in trace}
    assert {
        "StartWorkflow:LeadScoringWorkflow",
        "RunWorkflow:LeadScoringWorkflow",
        "StartActivity:propose_at_gates",
        "RunActivity:propose_at_gates",
        "StartActivity:park",
        "HandleUpdate:decide",
        # The approval is audited by the apply step, in the business row's transaction.
        "StartActivity:apply_lead",
        "RunActivity:apply_lead",
        "CompleteWorkflow:LeadScoringWorkflow",
    } <= names, sorted(names)

    # The tree: HTTP request -> StartWorkflow -> RunWorkflow -> the workflow's steps.
    started = _one(trace, "StartWorkflow:LeadScoringWorkflow")
    assert _parent(trace, started) is start
    ran = _one(trace, "RunWorkflow:LeadScoringWorkflow")
    assert _parent(trace, ran) is started
    ran = _one(trace, "RunActivity:propose_at_gates")
    assert _parent(trace, ran).name == "StartActivity:propose_at_gates"
    assert _parent(trace, _one(trace, "RunActivity:apply_lead")).name == "StartActivity:apply_lead"
    for span in trace:
        if span.name.startswith(("RunWorkflow", "StartActivity", "HandleUpdate")):
            assert span.attributes is not None
            assert span.attributes["temporalWorkflowID"] == workflow_id

    # The approval's own request is linked from the update it delivered.
    handled = _one(trace, "HandleUpdate:decide")
    (link,) = handled.links
    approve = _one(spans, APPROVE)
    assert link.context.trace_id == approve.context.trace_id
    update = _one(spans, "StartWorkflowUpdate:decide")
    assert _parent(spans, update) is approve
