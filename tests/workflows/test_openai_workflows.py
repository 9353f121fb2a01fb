"""Each process end to end on the real dev server with an OpenAI-compatible model: a local
HTTP server that speaks chat completions stands in for the endpoint, and nothing else is
faked. A good answer applies on its own; an unusable one parks for a person with the reason;
a transient HTTP fault is retried by Temporal within bounds; a rejected request parks at once.
"""

import itertools
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from activities.openai_model import OpenAIModel, build_openai_client
from core.settings import AIProvider, Settings
from models.ai import ModelCall
from models.hitl import Decision, RunStatus
from models.processes import Action, Channel, Process, RunState
from processes import registry
from processes.campaign_tuning import CampaignChangeRow
from processes.content_generation import ContentRow
from processes.lead_scoring import LeadRow
from processes.product_sourcing import PurchaseOrderDraftRow
from temporal import errors, retry
from tests.fakes import openai_server
from tests.fakes.openai_server import (
    FakeOpenAIServer,
    Reply,
    answer,
    hang,
    malformed,
    rate_limited,
    refusal,
    schema_violation,
    server_error,
    truncated,
    unauthorized,
)
from tests.support import Brain, decide, parked
from workflows.process_workflow import LeadScoringWorkflow

# The model's HTTP path, its retries and its errors do not depend on the app database: on
# PostgreSQL, the production one (the SQLite path runs the same workflows in test_processes).
pytestmark = pytest.mark.parametrize("database", ["postgres"], indirect=True)

MODEL = "fake-model"
CONTENT_MODEL = "fake-big-model"  # a per-process override, as BRAIN_OPENAI_MODELS sets it
CLIENT_TIMEOUT = 1.0
USAGE = (321, 54)

fake_openai = openai_server.fake_openai

_BODY = " ".join(
    ["Reserved instances, autoscaling, cost monitoring and rightsizing cut cloud bills."]
    + ["Small teams keep shipping fast when every engineer can see what the cloud costs."] * 28
)

# process: (a good answer for its example input, the business table it writes)
GOOD: dict[Process, tuple[dict[str, Any], Any]] = {
    Process("lead_scoring"): (
        {
            "rationale": "VP at an 850-person firm, referred, asked for a demo.",
            "score": 88,
            "tier": "hot",
            "confidence": 0.95,
        },
        LeadRow,
    ),
    Process("product_sourcing"): (
        {
            "rationale": "Cheapest supplier that meets the quantity, deadline and rating.",
            "supplier": "Ningbo Everbright Housewares",
            "unit_price": 4.1,
            "total_cost": 8200.0,
            "confidence": 0.97,
        },
        PurchaseOrderDraftRow,
    ),
    Process("campaign_tuning"): (
        {
            "rationale": "Shift spend to the channels with the best return.",
            "budgets": [
                {"channel": "google_search", "amount": 11000},
                {"channel": "meta_ads", "amount": 5000},
                {"channel": "linkedin", "amount": 3000},
                {"channel": "email", "amount": 6000},
            ],
            "confidence": 0.9,
        },
        CampaignChangeRow,
    ),
    Process("content_generation"): (
        {
            "rationale": "Covers every keyword at the requested length.",
            "title": "Cutting cloud costs without slowing down",
            "body": _BODY,
            "confidence": 0.9,
        },
        ContentRow,
    ),
}

# process: (an unusable answer, what the reason must say, edits that form a full proposal)
UNUSABLE: dict[Process, tuple[Reply, str, dict[str, Any]]] = {
    Process("lead_scoring"): (
        refusal("I can't help with profiling people."),
        "the model refused: I can't help with profiling people.",
        {"score": 45, "rationale": "checked by hand"},
    ),
    Process("product_sourcing"): (
        truncated(),
        "cut off at its token limit (finish_reason=length)",
        {"supplier": "Pacific Bottle Co.", "rationale": "fastest delivery"},
    ),
    Process("campaign_tuning"): (
        schema_violation(),
        "does not match the campaign_tuning schema",
        {"budgets": {"google_search": 12000, "email": 8000}, "rationale": "by hand"},
    ),
    Process("content_generation"): (
        malformed('{"rationale": "ok", "title": "Cloud costs", "body": '),
        "not valid JSON",
        {"title": "Cloud costs", "body": "Written by a person.", "rationale": "by hand"},
    ),
}


@pytest_asyncio.fixture
async def openai_brain(brain: Brain, fake_openai: FakeOpenAIServer) -> AsyncIterator[Brain]:
    """The worker's AI step served by the fake endpoint, built exactly as a worker builds it."""
    settings = Settings(
        ai_provider=AIProvider.openai,
        openai_base_url=fake_openai.base_url,
        openai_model=MODEL,
        openai_models={"content_generation": CONTENT_MODEL},
        openai_timeout_seconds=CLIENT_TIMEOUT,
    )
    client = build_openai_client(settings)
    brain.model.delegate = OpenAIModel(client, settings.openai_model, settings.openai_models)
    yield brain
    await client.close()


def _body(process: Process) -> dict:
    return dict(registry.definition(process).examples["confident"])


async def _status(handle: WorkflowHandle) -> RunStatus:
    return await handle.query(LeadScoringWorkflow.status)


# --- A good answer: a confident proposal that applies on its own -------------------------


@pytest.mark.parametrize("process", list(GOOD))
async def test_good_answer_applies_on_its_own_with_the_call_accounted(
    openai_brain: Brain, fake_openai: FakeOpenAIServer, process: Process
) -> None:
    content, table = GOOD[process]
    fake_openai.script(answer(content, usage=USAGE))
    await openai_brain.set_policy(process, hitl_enabled=False)
    await openai_brain.later_gates_on_their_own(process)
    body = _body(process)

    handle = await openai_brain.start(process, body)
    result = await handle.result()

    assert result.state is RunState.COMPLETED
    assert result.decision is not None and result.decision.channel is Channel.AUTO
    [row] = await openai_brain.rows(table, handle.id)
    assert result.result is not None and result.result["id"] == row.id
    # What the client actually sent: the process's model, prompt, input and answer schema.
    [sent] = fake_openai.requests
    model = CONTENT_MODEL if process == Process("content_generation") else MODEL
    version, prompt = registry.definition(process).prompt()
    system, user = sent.body["messages"]
    assert sent.body["model"] == model
    assert (system["role"], system["content"]) == ("system", prompt)
    run_input = registry.definition(process).input_model.model_validate(body)
    assert json.loads(user["content"]) == run_input.model_dump(mode="json", exclude_none=True)
    schema = sent.body["response_format"]["json_schema"]
    assert (
        schema["name"] == registry.definition(process).answer_model.__name__
        and schema["strict"] is True
    )
    # Per-step accounting, in the status and in the audit row.
    status = await _status(handle)
    assert status.ai is not None and status.policy is not None
    assert status.ai.model == model and status.ai.confidence >= status.policy.confidence_threshold
    call = status.ai.call
    assert call is not None
    assert (call.model, call.prompt_version) == (model, version)
    assert (call.tokens_in, call.tokens_out, call.attempts) == (*USAGE, 1)
    assert call.latency_ms is not None and call.latency_ms > 0
    audit = (await openai_brain.audit(handle.id))[0]
    assert audit.model == model and ModelCall.model_validate(audit.model_call) == call


# --- An unusable answer: parked for a person, whatever the policy --------------------------


@pytest.mark.parametrize("process", list(UNUSABLE))
async def test_unusable_answer_parks_with_the_reason_and_a_person_supplies_the_proposal(
    openai_brain: Brain, fake_openai: FakeOpenAIServer, process: Process
) -> None:
    reply, reason, edits = UNUSABLE[process]
    fake_openai.script(reply)
    await openai_brain.set_policy(process, hitl_enabled=False)
    await openai_brain.later_gates_on_their_own(process)

    handle = await openai_brain.start(process, _body(process))
    status = await parked(handle)

    approval = status.approval
    assert approval is not None and approval.error is not None
    assert approval.needs_review and approval.proposal is None and approval.confidence == 0
    assert reason in approval.error
    assert status.ai is not None
    assert status.ai.call is not None and status.ai.call.attempts == 1
    assert len(fake_openai.requests) == 1  # an unusable answer is not retried
    meta = await handle.query("__temporal_workflow_metadata")  # what the Web UI shows
    assert f"**Needs review:** {approval.error}" in meta.current_details
    assert f"prompt {registry.definition(process).prompt()[0]}" in meta.current_details
    incomplete = {k: v for k, v in edits.items() if k != "rationale"}
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await decide(handle, Action.APPROVE, by="alice", edits=incomplete)
    assert isinstance(refused.value.cause, ApplicationError)
    assert refused.value.cause.type == errors.INVALID_EDITS
    decision = await decide(handle, Action.APPROVE, by="alice", edits=edits)
    assert isinstance(decision, Decision)
    result = await handle.result()
    assert result.state is RunState.COMPLETED
    assert decision.final_proposal is not None
    assert decision.original_proposal is None and decision.final_proposal["rationale"]
    [row] = await openai_brain.rows(GOOD[process][1], handle.id)
    assert result.result is not None and result.result["id"] == row.id
    first_gate = registry.definition(process).gates[0].name
    [audit] = [a for a in await openai_brain.audit(handle.id) if a.gate == first_gate]
    assert (audit.channel, audit.actor, audit.edits) == ("api", "alice", edits)


# --- HTTP faults: bounded retries by Temporal, or parked at once ---------------------------


def _gaps(server: FakeOpenAIServer) -> list[float]:
    times = [r.received_at for r in server.requests]
    return [later - earlier for earlier, later in itertools.pairwise(times)]


async def _completes_after(openai_brain: Brain, server: FakeOpenAIServer, *faults: Reply) -> Any:
    server.script(*faults, answer(GOOD[Process("lead_scoring")][0]))
    await openai_brain.set_policy(Process("lead_scoring"), hitl_enabled=False)
    handle = await openai_brain.start(Process("lead_scoring"), _body(Process("lead_scoring")))
    result = await handle.result()
    assert result.state is RunState.COMPLETED
    assert result.decision is not None and result.decision.channel is Channel.AUTO
    assert len(server.requests) == len(faults) + 1
    status = await _status(handle)
    assert status.ai is not None and status.ai.call is not None
    assert status.ai.call.attempts == len(faults) + 1
    return status


async def test_rate_limit_is_retried_after_the_servers_retry_after(
    openai_brain: Brain, fake_openai: FakeOpenAIServer
) -> None:
    # 2 s, not the policy's first interval (1 s): the wait must come from the header.
    await _completes_after(openai_brain, fake_openai, rate_limited(retry_after="2"))
    [gap] = _gaps(fake_openai)
    assert 1.9 <= gap < 6


async def test_server_errors_are_retried_with_backoff(
    openai_brain: Brain, fake_openai: FakeOpenAIServer
) -> None:
    await _completes_after(openai_brain, fake_openai, server_error(), server_error())
    first, second = _gaps(fake_openai)
    assert 0.9 <= first < 5 and 1.9 <= second < 6  # AI_STEP_RETRY: 1 s, then doubled


async def test_a_hang_past_the_client_timeout_is_retried(
    openai_brain: Brain, fake_openai: FakeOpenAIServer
) -> None:
    await _completes_after(openai_brain, fake_openai, hang(10))
    [gap] = _gaps(fake_openai)
    assert CLIENT_TIMEOUT + 0.9 <= gap < 8  # the client gave up, then the retry interval


async def test_a_rejected_key_parks_for_review_after_one_request(
    openai_brain: Brain, fake_openai: FakeOpenAIServer
) -> None:
    fake_openai.script(unauthorized())
    await openai_brain.set_policy(Process("lead_scoring"), hitl_enabled=False)

    handle = await openai_brain.start(Process("lead_scoring"), _body(Process("lead_scoring")))
    status = await parked(handle)

    assert len(fake_openai.requests) == 1  # non-retryable: no second attempt
    approval = status.approval
    assert approval is not None and approval.needs_review and approval.proposal is None
    reason = "the model endpoint rejected the API key (401)"
    assert approval.error == f"{errors.MODEL_REJECTED_REQUEST}: {reason}"
    assert status.ai is not None and status.ai.model == "unavailable"
    await handle.signal(LeadScoringWorkflow.reject, {"by": "ops", "comment": "fix the key"})
    assert (await handle.result()).state is RunState.REJECTED
    assert len(fake_openai.requests) == 1


async def test_retries_are_bounded_and_then_the_run_parks_with_the_last_error(
    openai_brain: Brain, fake_openai: FakeOpenAIServer
) -> None:
    # A short Retry-After keeps this fast; the attempt limit is the real policy's.
    attempts = retry.AI_STEP_RETRY.maximum_attempts
    fake_openai.script(*[rate_limited(retry_after="0.1")] * attempts)
    await openai_brain.set_policy(Process("lead_scoring"), hitl_enabled=False)

    handle = await openai_brain.start(Process("lead_scoring"), _body(Process("lead_scoring")))
    status = await parked(handle)

    assert len(fake_openai.requests) == attempts
    approval = status.approval
    assert approval is not None and approval.error is not None
    assert approval.needs_review and approval.proposal is None
    assert approval.error.startswith(f"{errors.MODEL_RATE_LIMITED}: ")
    assert "rate limiting requests for 'fake-model' (429)" in approval.error
    await handle.signal(LeadScoringWorkflow.reject, {"by": "ops"})
    assert (await handle.result()).state is RunState.REJECTED
