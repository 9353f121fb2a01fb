"""OpenAIModel against a real local HTTP server that speaks chat completions (no patching)."""

import dataclasses
import json
import math
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import openai
import pytest
import pytest_asyncio
from pydantic import SecretStr
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities import confidence as conf
from activities.openai_errors import retry_after
from activities.openai_model import OpenAIModel, build_openai_client
from activities.providers import build_provider
from activities.rules_model import RulesModel
from core.settings import AIProvider, Settings
from models.processes import Process
from processes import registry
from processes.campaign_tuning import CampaignTuningInput
from processes.content_generation import ContentGenerationInput
from processes.kit.text import keyword_coverage
from processes.lead_scoring import LeadScoringInput
from processes.product_sourcing import ProductSourcingInput
from temporal import errors
from tests.fakes.openai_server import (
    FakeOpenAIServer,
    Reply,
    answer,
    content_filtered,
    http_error,
    malformed,
    rate_limited,
    refusal,
    schema_violation,
    server_error,
    truncated,
    unauthorized,
)
from tests.fakes.openai_server import hang as hang_reply

LEAD = LeadScoringInput.model_validate(
    {
        "lead": {
            "name": "Ada Lovelace",
            "email": "ada@acme.io",
            "company": "Acme",
            "title": "VP Engineering",
            "company_size": 250,
            "source": "referral",
            "engagement": {"page_views": 12, "email_opens": 3, "demo_requested": True},
        }
    }
)
SOURCING = ProductSourcingInput.model_validate(
    {
        "product": "M6 bolts",
        "quantity": 1000,
        "suppliers": [
            {
                "name": "BoltCo",
                "unit_price": 0.12,
                "lead_time_days": 5,
                "rating": 4.6,
                "min_order_qty": 500,
            },
            {
                "name": "FastenAll",
                "unit_price": 0.10,
                "lead_time_days": 20,
                "rating": 3.9,
                "min_order_qty": 100,
            },
        ],
    }
)
CAMPAIGN = CampaignTuningInput.model_validate(
    {
        "campaign_id": "spring",
        "total_budget": 1000,
        "channels": [
            {"name": "search", "spend": 500, "clicks": 900, "conversions": 40, "revenue": 4000},
            {"name": "social", "spend": 500, "clicks": 1500, "conversions": 10, "revenue": 600},
        ],
    }
)
CONTENT = ContentGenerationInput.model_validate(
    {
        "brief": {
            "topic": "durable workflows",
            "audience": "platform engineers",
            "keywords": ["temporal", "retries"],
            "length_words": 100,
        }
    }
)
GOOD_LEAD = {
    "rationale": "VP at a 250-person firm who asked for a demo.",
    "score": 85,
    "tier": "hot",
    "confidence": 0.8,
}


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as server:
        yield server
        assert not server.unscripted, f"unscripted requests: {server.unscripted}"


@pytest_asyncio.fixture
async def openai_client(fake_openai: FakeOpenAIServer) -> AsyncIterator[openai.AsyncOpenAI]:
    client = openai.AsyncOpenAI(
        base_url=fake_openai.base_url, api_key="test-key", timeout=1.0, max_retries=0
    )
    yield client
    await client.close()


def model(client: openai.AsyncOpenAI, **kwargs: Any) -> OpenAIModel:
    return OpenAIModel(client, "base-model", {"lead_scoring": "lead-model"}, **kwargs)


# --- The request the client actually sent --------------------------------------------------


async def test_sends_prompt_input_and_strict_schema_with_per_process_model(
    fake_openai: FakeOpenAIServer, openai_client: openai.AsyncOpenAI
) -> None:
    fake_openai.script(answer(GOOD_LEAD, usage=(120, 40)))

    result = await model(openai_client).propose(Process("lead_scoring"), LEAD)

    [sent] = fake_openai.requests
    assert (sent.method, sent.path) == ("POST", "/v1/chat/completions")
    assert sent.headers["authorization"] == "Bearer test-key"
    assert sent.body["model"] == "lead-model"
    system, user = sent.body["messages"]
    assert system == {
        "role": "system",
        "content": registry.definition(Process("lead_scoring")).prompt()[1],
    }
    assert user["role"] == "user"
    assert json.loads(user["content"]) == LEAD.model_dump(mode="json", exclude_none=True)
    response_format = sent.body["response_format"]
    assert response_format["type"] == "json_schema"
    schema = response_format["json_schema"]["schema"]
    assert response_format["json_schema"]["strict"] is True
    assert list(schema["properties"]) == ["rationale", "score", "tier", "confidence"]
    assert sorted(schema["required"]) == sorted(schema["properties"])
    assert schema["additionalProperties"] is False
    assert schema["properties"]["tier"]["enum"] == ["hot", "warm", "cold"]
    assert "logprobs" not in sent.body
    assert sent.body.get("stream") is not True

    assert result.proposal == {k: v for k, v in GOOD_LEAD.items() if k != "confidence"}
    assert result.confidence == 0.8
    assert not result.needs_review and result.error is None
    assert result.rationale == GOOD_LEAD["rationale"]
    assert result.model == "lead-model"
    assert result.signals == {
        "schema_valid": 1.0,
        "input_valid": 1.0,
        "stated_confidence": 0.8,
        "consistency": 1.0,
    }
    call = result.call
    assert call is not None
    assert (call.model, call.prompt_version) == ("lead-model", "lead_scoring.v1")
    assert (call.tokens_in, call.tokens_out, call.attempts) == (120, 40, 1)
    assert call.latency_ms is not None and call.latency_ms > 0


async def test_default_model_and_seed_alias_override(
    fake_openai: FakeOpenAIServer, openai_client: openai.AsyncOpenAI
) -> None:
    provider = OpenAIModel(openai_client, "base-model", {"campaign_optimization": "tuner"})
    fake_openai.script(answer(), answer(GOOD_LEAD))

    # answer() without content: an example built from the schema the client sent.
    content = await provider.propose(Process("content_generation"), CONTENT)
    await provider.propose(Process("lead_scoring"), LEAD)

    assert content.proposal is not None and not content.needs_review
    assert content.proposal["title"] == "example"

    assert [r.body["model"] for r in fake_openai.requests] == ["base-model", "base-model"]
    assert provider.model_for(Process("campaign_tuning")) == "tuner"
    assert provider.name == "openai:base-model"
    with pytest.raises(ValueError):
        OpenAIModel(openai_client, "m", {"no_such_process": "x"})


@pytest.mark.parametrize("process", list(registry.processes()))
def test_answer_schema_is_the_proposal_plus_confidence(process: Process) -> None:
    answer_fields = set(registry.definition(process).answer_model.model_fields)
    assert answer_fields == set(registry.definition(process).proposal_model.model_fields) | {
        "confidence"
    }
    assert list(registry.definition(process).answer_model.model_fields)[-1] == "confidence"


# --- Confidence is checked, never trusted ----------------------------------------------------


async def test_tier_that_contradicts_the_score_halves_confidence(
    fake_openai: FakeOpenAIServer, openai_client: openai.AsyncOpenAI
) -> None:
    fake_openai.script(answer({**GOOD_LEAD, "tier": "cold", "confidence": 0.9}))

    result = await model(openai_client).propose(Process("lead_scoring"), LEAD)

    assert result.confidence == pytest.approx(0.45)
    assert result.signals["consistency"] == 0.0


async def test_supplier_not_in_the_input_needs_review(
    fake_openai: FakeOpenAIServer, openai_client: openai.AsyncOpenAI
) -> None:
    fake_openai.script(
        answer(
            {
                "rationale": "cheapest",
                "supplier": "NutsRUs",
                "unit_price": 0.05,
                "total_cost": 50.0,
                "confidence": 0.95,
            }
        )
    )

    result = await model(openai_client).propose(Process("product_sourcing"), SOURCING)

    assert (result.proposal, result.confidence, result.needs_review) == (None, 0.0, True)
    assert result.error is not None and "NutsRUs" in result.error
    assert result.rationale == result.error
    assert result.signals["input_valid"] == 0.0
    assert result.signals["stated_confidence"] == 0.95


async def test_wrong_supplier_price_is_recomputed_and_costs_confidence(
    fake_openai: FakeOpenAIServer, openai_client: openai.AsyncOpenAI
) -> None:
    fake_openai.script(
        answer(
            {
                "rationale": "fast and reliable",
                "supplier": "BoltCo",
                "unit_price": 0.12,
                "total_cost": 12.0,
                "confidence": 0.9,
            }
        )
    )

    result = await model(openai_client).propose(Process("product_sourcing"), SOURCING)

    assert result.proposal is not None
    assert (result.proposal["unit_price"], result.proposal["total_cost"]) == (0.12, 120.0)
    assert result.signals["consistency"] == 0.5
    assert result.confidence == pytest.approx(0.9 * 0.75)


@pytest.mark.parametrize(
    ("budgets", "valid"),
    [
        ([{"channel": "search", "amount": 700}, {"channel": "social", "amount": 300}], True),
        ([{"channel": "search", "amount": 900}, {"channel": "social", "amount": 300}], False),
        ([{"channel": "search", "amount": 500}, {"channel": "tv", "amount": 100}], False),
        ([{"channel": "search", "amount": 100}, {"channel": "search", "amount": 100}], False),
    ],
)
async def test_campaign_budgets_are_checked_against_the_total(
    fake_openai: FakeOpenAIServer,
    openai_client: openai.AsyncOpenAI,
    budgets: list[dict[str, Any]],
    valid: bool,
) -> None:
    fake_openai.script(
        answer({"rationale": "search converts", "budgets": budgets, "confidence": 0.85})
    )

    result = await model(openai_client).propose(Process("campaign_tuning"), CAMPAIGN)

    assert result.needs_review is not valid
    if valid:
        assert result.proposal == {
            "budgets": {"search": 700.0, "social": 300.0},
            "rationale": "search converts",
        }
        assert result.confidence == 0.85
    else:
        assert result.proposal is None and result.confidence == 0.0


async def test_content_length_and_keywords_weigh_on_confidence(
    fake_openai: FakeOpenAIServer, openai_client: openai.AsyncOpenAI
) -> None:
    body = "Temporal keeps state. " + " ".join(["word"] * 47)  # 50 words, one keyword of two
    fake_openai.script(
        answer(
            {
                "rationale": "on brief",
                "title": "Durable by default",
                "body": body,
                "confidence": 0.9,
            }
        )
    )

    result = await model(openai_client).propose(Process("content_generation"), CONTENT)

    assert result.signals["length_ratio"] == 0.5
    assert result.signals["length_factor"] == 0.7
    assert result.signals["keyword_coverage"] == 0.5
    assert result.confidence == pytest.approx(0.9 * 0.7 * 0.75)
    assert not result.needs_review


async def test_token_logprobs_cap_the_stated_confidence(
    fake_openai: FakeOpenAIServer, openai_client: openai.AsyncOpenAI
) -> None:
    fake_openai.script(answer(GOOD_LEAD, logprob=-0.5))

    result = await model(openai_client, request_logprobs=True).propose(
        Process("lead_scoring"), LEAD
    )

    assert fake_openai.requests[0].body["logprobs"] is True
    assert result.signals["token_prob"] == pytest.approx(math.exp(-0.5), abs=1e-4)
    assert result.confidence == pytest.approx(math.exp(-0.5), abs=1e-4)


# --- Unusable answers park for a person; they are not errors ---------------------------------


@pytest.mark.parametrize(
    ("reply", "signal"),
    [
        (refusal(), "refused"),
        (truncated(), "truncated"),
        (content_filtered(), "filtered"),
        (malformed(), "schema_valid"),
        (schema_violation(), "schema_valid"),
        (answer({**GOOD_LEAD, "score": "very high"}), "schema_valid"),
    ],
    ids=["refusal", "truncated", "content_filter", "malformed", "schema", "wrong_type"],
)
async def test_unusable_answer_needs_review(
    fake_openai: FakeOpenAIServer, openai_client: openai.AsyncOpenAI, reply: Reply, signal: str
) -> None:
    fake_openai.script(dataclasses.replace(reply, usage=(50, 7)))

    result = await model(openai_client).propose(Process("lead_scoring"), LEAD)

    assert (result.proposal, result.confidence, result.needs_review) == (None, 0.0, True)
    assert result.error and result.rationale == result.error
    assert signal in result.signals
    assert result.call is not None and (result.call.tokens_in, result.call.tokens_out) == (50, 7)


# --- HTTP failures become Temporal errors ---------------------------------------------------


async def propose_error(provider: OpenAIModel) -> ApplicationError:
    with pytest.raises(ApplicationError) as caught:
        await provider.propose(Process("lead_scoring"), LEAD)
    return caught.value


async def test_rate_limit_is_retryable_after_the_servers_delay(
    fake_openai: FakeOpenAIServer, openai_client: openai.AsyncOpenAI
) -> None:
    fake_openai.script(rate_limited("1"))

    error = await propose_error(model(openai_client))

    assert error.type == errors.MODEL_RATE_LIMITED
    assert not error.non_retryable
    assert error.next_retry_delay == timedelta(seconds=1)
    assert len(fake_openai.requests) == 1  # the SDK did not retry on its own


async def test_rate_limit_with_an_http_date(
    fake_openai: FakeOpenAIServer, openai_client: openai.AsyncOpenAI
) -> None:
    fake_openai.script(
        rate_limited(format_datetime(datetime.now(UTC) + timedelta(seconds=5), usegmt=True))
    )

    error = await propose_error(model(openai_client))

    assert error.next_retry_delay is not None
    assert timedelta(seconds=3) <= error.next_retry_delay <= timedelta(seconds=5)


async def test_exhausted_quota_is_not_retried(
    fake_openai: FakeOpenAIServer, openai_client: openai.AsyncOpenAI
) -> None:
    fake_openai.script(http_error(429, "You exceeded your quota", code="insufficient_quota"))

    error = await propose_error(model(openai_client))

    assert (error.type, error.non_retryable) == (errors.MODEL_REJECTED_REQUEST, True)


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_server_errors_are_retryable(
    fake_openai: FakeOpenAIServer, openai_client: openai.AsyncOpenAI, status: int
) -> None:
    fake_openai.script(server_error(status))

    error = await propose_error(model(openai_client))

    assert (error.type, error.non_retryable) == (errors.MODEL_UNAVAILABLE, False)
    assert len(fake_openai.requests) == 1


async def test_bad_api_key_is_not_retried(
    fake_openai: FakeOpenAIServer, openai_client: openai.AsyncOpenAI
) -> None:
    fake_openai.script(unauthorized())

    error = await propose_error(model(openai_client))

    assert (error.type, error.non_retryable) == (errors.MODEL_REJECTED_REQUEST, True)
    assert error.message == "the model endpoint rejected the API key (401)"


@pytest.mark.parametrize("status", [400, 403, 404, 422])
async def test_rejected_requests_are_not_retried(
    fake_openai: FakeOpenAIServer, openai_client: openai.AsyncOpenAI, status: int
) -> None:
    fake_openai.script(http_error(status, "response_format is not supported"))

    error = await propose_error(model(openai_client))

    assert (error.type, error.non_retryable) == (errors.MODEL_REJECTED_REQUEST, True)
    assert f"({status})" in error.message
    if status in (400, 422):
        assert "response_format is not supported" in error.message
    if status in (403, 404):
        assert "lead-model" in error.message


async def test_hang_times_out_as_unavailable_within_the_client_timeout(
    fake_openai: FakeOpenAIServer, openai_client: openai.AsyncOpenAI
) -> None:
    fake_openai.script(hang_reply(30))
    started = time.monotonic()

    error = await propose_error(model(openai_client))

    assert time.monotonic() - started < 2.5
    assert (error.type, error.non_retryable) == (errors.MODEL_UNAVAILABLE, False)


async def test_unreachable_endpoint_is_unavailable() -> None:
    with FakeOpenAIServer() as server:
        base_url = server.base_url  # a port nobody listens on once the server stops
    client = openai.AsyncOpenAI(base_url=base_url, api_key="k", timeout=1.0, max_retries=0)

    error = await propose_error(model(client))

    assert (error.type, error.non_retryable) == (errors.MODEL_UNAVAILABLE, False)
    await client.close()


# --- Wiring -------------------------------------------------------------------------------


async def test_client_from_settings_has_no_retries_and_works_keyless(
    fake_openai: FakeOpenAIServer,
) -> None:
    settings = Settings(openai_base_url=fake_openai.base_url, openai_timeout_seconds=7.0)
    client = build_openai_client(settings)
    assert (client.max_retries, client.timeout) == (0, 7.0)
    fake_openai.script(answer(GOOD_LEAD))

    result = await OpenAIModel(client, settings.openai_model).propose(Process("lead_scoring"), LEAD)

    assert result.model == "gpt-4o-mini"
    assert fake_openai.requests[0].headers["authorization"] == "Bearer not-needed"
    await client.close()
    keyed = build_openai_client(
        Settings(openai_base_url="http://x/v1", openai_api_key=SecretStr("sk-1"))
    )
    assert keyed.api_key == "sk-1"
    await keyed.close()


@pytest.mark.parametrize("logprobs", [False, True])
async def test_build_provider_wires_the_openai_settings(
    fake_openai: FakeOpenAIServer, logprobs: bool
) -> None:
    settings = Settings(
        ai_provider=AIProvider.openai,
        openai_base_url=fake_openai.base_url,
        openai_model="base-model",
        openai_models={"campaign_optimization": "campaign-model"},  # a seed alias
        openai_logprobs=logprobs,
    )
    provider = build_provider(settings)
    assert isinstance(provider, OpenAIModel) and provider.name == "openai:base-model"
    assert provider.model_for(Process("campaign_tuning")) == "campaign-model"
    fake_openai.script(answer(GOOD_LEAD))

    await provider.propose(Process("lead_scoring"), LEAD)

    [sent] = fake_openai.requests
    assert sent.body["model"] == "base-model"
    assert sent.body.get("logprobs", False) is logprobs
    assert isinstance(build_provider(Settings(ai_provider=AIProvider.rules)), RulesModel)


async def test_attempt_comes_from_the_activity_context(
    fake_openai: FakeOpenAIServer, openai_client: openai.AsyncOpenAI
) -> None:
    env = ActivityEnvironment()
    env.info = dataclasses.replace(env.info, attempt=3)
    fake_openai.script(answer(GOOD_LEAD))

    result = await env.run(model(openai_client).propose, Process("lead_scoring"), LEAD)

    assert result.call is not None and result.call.attempts == 3


# --- Pure pieces ----------------------------------------------------------------------------


def test_retry_after_parses_seconds_dates_and_milliseconds() -> None:
    now = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
    date = format_datetime(now + timedelta(seconds=30), usegmt=True)
    assert retry_after({"retry-after": "2"}, now) == timedelta(seconds=2)
    assert retry_after({"retry-after": date}, now) == timedelta(seconds=30)
    assert retry_after({"retry-after-ms": "1500", "retry-after": "9"}, now) == timedelta(
        seconds=1.5
    )
    assert retry_after({"retry-after": format_datetime(now, usegmt=True)}, now) is None
    assert retry_after({"retry-after": "soon"}, now) is None
    assert retry_after({}, now) is None


def test_combine_invalid_answers_score_zero() -> None:
    assert conf.combine(conf.Evidence(stated=0.99, schema_valid=False))[0] == 0.0
    assert conf.combine(conf.Evidence(stated=0.99, input_valid=False))[0] == 0.0
    assert conf.combine(conf.Evidence(stated=None))[0] == 0.0


def test_combine_clamps_and_names_every_factor() -> None:
    value, signals = conf.combine(
        conf.Evidence(
            stated=1.7, token_prob=0.6, consistency=1.0, length_ratio=1.1, keyword_coverage=1.0
        )
    )
    assert value == 0.6
    assert signals["stated_confidence"] == 1.0
    assert {"token_prob", "consistency", "length_factor", "keyword_coverage"} <= set(signals)


@pytest.mark.parametrize(
    ("ratio", "factor"), [(1.0, 1.0), (0.8, 1.0), (1.2, 1.0), (0.5, 0.7), (2.0, 0.2), (3.0, 0.0)]
)
def test_length_factor(ratio: float, factor: float) -> None:
    assert conf.length_factor(ratio) == pytest.approx(factor)


def test_keyword_coverage_is_case_insensitive_and_skips_empty_briefs() -> None:
    assert keyword_coverage("Temporal RETRIES", ["temporal", "retries", "x"]) == 2 / 3
    assert keyword_coverage("anything", []) is None


def test_decision_tokens_ignore_keys_prose_and_the_stated_confidence() -> None:
    content = '{"rationale": "unsure words", "score": 85, "confidence": 0.9}'
    pieces = [
        '{"',
        "rationale",
        '":',
        ' "',
        "unsure",
        " words",
        '",',
        ' "',
        "score",
        '":',
        " 85",
        ",",
        ' "',
        "confidence",
        '":',
        " 0.9",
        "}",
    ]
    uncertain = {"unsure": -3.0, " words": -3.0, " 0.9": -5.0, " 85": math.log(0.8)}
    tokens = [(p, uncertain.get(p, -0.001)) for p in pieces]
    assert conf.decision_token_prob(content, tokens) == (0.8, 0.8)
    assert conf.decision_token_prob(content + " ", tokens) is None  # tokens must spell it
