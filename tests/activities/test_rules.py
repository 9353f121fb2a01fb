"""The embedded rules models: examples land on the right side of the default thresholds,
proposals validate, output is deterministic, and the rules do what their rationale says."""

import asyncio
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from activities.rules_model import RulesModel
from models.ai import AIResult
from models.processes import Process
from processes import registry
from processes.campaign_tuning import CampaignTuningInput, ChannelStats, tune_campaign
from processes.content_generation import ContentGenerationInput, generate_content
from processes.kit.rules import RULES_MODEL_NAME
from processes.lead_scoring import LeadScoringInput, score_lead, tier_for
from processes.product_sourcing import ProductSourcingInput, Supplier, source_product

# SPEC §1 default policies: (HITL on, threshold).
SPEC_POLICIES = {
    "lead_scoring": (True, 0.85),
    "product_sourcing": (True, 0.90),
    "campaign_tuning": (False, 0.75),
    "content_generation": (False, 0.80),
    "testimonial_generation": (True, 0.85),
}
# Inputs refuse control characters (they never reach the rules); everything else goes.
_printable = st.characters(exclude_categories=["Cc", "Cs"])
PROPERTY_SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def _example(process: Process, kind: str) -> BaseModel:
    return registry.definition(process).parse_input(registry.definition(process).examples[kind])


def _threshold(process: Process) -> float:
    return registry.definition(process).default_policy.confidence_threshold


def test_default_policies_are_the_specs() -> None:
    found = {
        p.value: (registry.definition(p).default_policy.hitl_enabled, _threshold(p))
        for p in registry.processes()
    }
    assert found == SPEC_POLICIES


def _propose(process: Process, run_input: BaseModel | dict[str, Any]) -> AIResult:
    return asyncio.run(RulesModel().propose(process, run_input))


def _check_result(process: Process, run_input: BaseModel, res: AIResult) -> None:
    assert 0.0 <= res.confidence <= 1.0
    assert res.model == RULES_MODEL_NAME
    assert res.call is not None and res.call.model == RULES_MODEL_NAME
    assert res.call.prompt_version == "rules-v1"
    assert not res.needs_review
    assert res.proposal is not None and res.proposal["rationale"]
    assert registry.definition(process).validate_proposal(run_input, res.proposal) == res.proposal


# --- examples -------------------------------------------------------------------------------


@pytest.mark.parametrize("process", list(registry.processes()))
def test_confident_example_clears_default_threshold(process: Process) -> None:
    run_input = _example(process, "confident")
    res = _propose(process, run_input)
    _check_result(process, run_input, res)
    assert res.confidence >= _threshold(process)


@pytest.mark.parametrize("process", list(registry.processes()))
def test_unsure_example_stays_below_default_threshold(process: Process) -> None:
    run_input = _example(process, "unsure")
    res = _propose(process, run_input)
    _check_result(process, run_input, res)
    assert res.confidence < _threshold(process)


@pytest.mark.parametrize("process", list(registry.processes()))
@pytest.mark.parametrize("kind", ["confident", "unsure"])
def test_deterministic(process: Process, kind: str) -> None:
    run_input = _example(process, kind)
    rules = registry.definition(process).rules
    first = rules(run_input)
    again = rules(registry.definition(process).input_model.model_validate(run_input.model_dump()))
    assert first == again
    assert first.model_dump_json() == again.model_dump_json()


@pytest.mark.parametrize("process", list(registry.processes()))
def test_propose_accepts_a_plain_dict(process: Process) -> None:
    run_input = _example(process, "confident")
    assert _propose(process, run_input.model_dump(mode="json")) == _propose(process, run_input)


# --- lead scoring ---------------------------------------------------------------------------


def _lead(**fields: Any) -> LeadScoringInput:
    base = {"name": "Ada Park", "email": "ada@example-corp.com", "company": "Example Corp"}
    return LeadScoringInput.model_validate({"lead": {**base, **fields}})


def test_referred_vp_with_demo_beats_cold_free_mail_lead() -> None:
    vp = score_lead(
        _lead(
            title="VP Sales",
            company_size=400,
            source="referral",
            engagement={"page_views": 9, "email_opens": 4, "demo_requested": True},
        )
    )
    cold = score_lead(_lead(email="ada.park@gmail.com", title="Student", source="cold"))
    assert vp.proposal is not None and cold.proposal is not None
    assert vp.proposal["score"] > cold.proposal["score"] + 30
    assert cold.proposal["tier"] == "cold"
    assert "free-mail" in cold.rationale


def test_lead_tier_matches_score_and_sparse_lead_is_unsure() -> None:
    res = score_lead(_lead())
    assert res.proposal is not None
    assert res.proposal["tier"] == tier_for(res.proposal["score"])
    assert res.confidence < 0.7


def test_lead_near_a_tier_boundary_is_unsure() -> None:
    # Full evidence, but the points land close to the warm/hot line.
    res = score_lead(
        _lead(
            title="Director of IT",
            company_size=1500,
            source="web",
            notes="Asked about pricing.",
            engagement={"page_views": 10, "email_opens": 5, "demo_requested": True},
        )
    )
    assert abs(res.signals["score"] - 70) <= 5
    assert res.confidence < 0.7


def test_vice_president_is_not_read_as_president() -> None:
    res = score_lead(_lead(title="Vice President, Marketing"))
    assert "reads as VP" in res.rationale


_emails = st.sampled_from(
    ["a@gmail.com", "b@yahoo.co.uk", "c@acme.io", "d@hotmail.fr", "e@big-co.com"]
)


@PROPERTY_SETTINGS
@given(
    email=_emails,
    title=st.none() | st.text(_printable, max_size=40),
    size=st.none() | st.integers(min_value=1, max_value=10**6),
    source=st.none() | st.sampled_from(["referral", "web", "ads", "event", "cold", "other"]),
    notes=st.none() | st.text(_printable, max_size=200),
    engagement=st.none()
    | st.fixed_dictionaries(
        {
            "page_views": st.integers(0, 10**4),
            "email_opens": st.integers(0, 10**4),
            "demo_requested": st.booleans(),
        }
    ),
)
def test_lead_property(
    email: str,
    title: str | None,
    size: int | None,
    source: str | None,
    notes: str | None,
    engagement: dict[str, Any] | None,
) -> None:
    run_input = _lead(
        email=email,
        title=title,
        company_size=size,
        source=source,
        notes=notes,
        engagement=engagement,
    )
    res = score_lead(run_input)
    _check_result(Process("lead_scoring"), run_input, res)
    assert res.proposal is not None
    assert res.proposal["tier"] == tier_for(res.proposal["score"])


# --- product sourcing -----------------------------------------------------------------------


def _supplier(name: str, price: float, days: int, rating: float, moq: int = 1) -> Supplier:
    return Supplier(
        name=name, unit_price=price, lead_time_days=days, rating=rating, min_order_qty=moq
    )


def test_dominant_supplier_is_chosen_with_high_confidence() -> None:
    run_input = ProductSourcingInput(
        product="Widget",
        quantity=100,
        suppliers=[
            _supplier("Slow Co", 5.0, 30, 3.5),
            _supplier("Best Co", 3.0, 5, 4.9),
            _supplier("Pricey Co", 8.0, 10, 4.0),
        ],
    )
    res = source_product(run_input)
    assert res.proposal is not None
    assert res.proposal["supplier"] == "Best Co"
    assert res.proposal["unit_price"] == 3.0
    assert res.proposal["total_cost"] == 300.0
    assert res.confidence > 0.92


def test_no_eligible_supplier_gives_least_bad_with_low_confidence() -> None:
    run_input = ProductSourcingInput(
        product="Widget",
        quantity=100,
        max_unit_price=2.0,
        needed_by_days=7,
        suppliers=[
            _supplier("Way Over", 9.0, 30, 4.0),
            _supplier("Slightly Over", 2.2, 9, 4.5),
            _supplier("Big Minimum", 1.5, 3, 4.8, moq=10_000),
        ],
    )
    res = source_product(run_input)
    _check_result(Process("product_sourcing"), run_input, res)
    assert res.proposal is not None
    assert res.proposal["supplier"] == "Slightly Over"
    assert res.confidence <= 0.3
    assert not res.needs_review
    assert "unit price 2.2 > max 2" in res.rationale
    assert "lead time 9 d > needed by 7 d" in res.rationale


def test_close_call_between_suppliers_is_unsure() -> None:
    run_input = ProductSourcingInput(
        product="Widget",
        quantity=100,
        suppliers=[_supplier("A", 3.0, 10, 4.5), _supplier("B", 3.05, 10, 4.5)],
    )
    assert source_product(run_input).confidence < 0.9


def test_supplier_choice_does_not_depend_on_input_order() -> None:
    suppliers = [_supplier("A", 3.0, 10, 4.5), _supplier("B", 3.0, 10, 4.5)]
    forward = ProductSourcingInput(product="W", quantity=1, suppliers=suppliers)
    backward = ProductSourcingInput(product="W", quantity=1, suppliers=suppliers[::-1])
    assert forward.suppliers != backward.suppliers
    first, second = source_product(forward), source_product(backward)
    assert first.proposal is not None and second.proposal is not None
    assert first.proposal["supplier"] == second.proposal["supplier"] == "A"
    assert first.confidence == second.confidence


_suppliers = st.lists(
    st.builds(
        _supplier,
        name=st.sampled_from(["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark"]),
        price=st.floats(min_value=0.01, max_value=10_000, allow_nan=False),
        days=st.integers(0, 365),
        rating=st.floats(min_value=0, max_value=5, allow_nan=False),
        moq=st.integers(1, 5000),
    ),
    min_size=1,
    max_size=6,
    # Names are unique: the input refuses repeats.
    unique_by=lambda s: s.name,
)


@PROPERTY_SETTINGS
@given(
    suppliers=_suppliers,
    quantity=st.integers(1, 5000),
    max_price=st.none() | st.floats(min_value=0.01, max_value=10_000, allow_nan=False),
    needed_by=st.none() | st.integers(0, 365),
)
def test_sourcing_property(
    suppliers: list[Supplier], quantity: int, max_price: float | None, needed_by: int | None
) -> None:
    run_input = ProductSourcingInput(
        product="Widget",
        quantity=quantity,
        max_unit_price=max_price,
        needed_by_days=needed_by,
        suppliers=suppliers,
    )
    res = source_product(run_input)
    _check_result(Process("product_sourcing"), run_input, res)
    if res.signals["eligible_suppliers"] == 0:
        assert res.confidence <= 0.3


# --- campaign tuning ------------------------------------------------------------------------


def _channel(
    name: str, spend: float, clicks: float, conversions: float, revenue: float
) -> ChannelStats:
    return ChannelStats(
        name=name, spend=spend, clicks=clicks, conversions=conversions, revenue=revenue
    )


def _assert_budgets(run_input: CampaignTuningInput, res: AIResult) -> None:
    assert res.proposal is not None
    budgets = res.proposal["budgets"]
    assert set(budgets) == {c.name for c in run_input.channels}
    assert all(amount >= 0 for amount in budgets.values())
    assert sum(budgets.values()) <= run_input.total_budget + 1e-9
    # Whole cents only.
    assert all(round(amount, 2) == amount for amount in budgets.values())


def test_budgets_follow_performance_and_stay_within_total() -> None:
    run_input = CampaignTuningInput(
        campaign_id="c1",
        total_budget=1000.1,
        channels=[
            _channel("search", 500, 5000, 200, 3000),
            _channel("social", 500, 5000, 200, 1000),
            _channel("new_test", 0, 0, 0, 0),
        ],
    )
    res = tune_campaign(run_input)
    _check_result(Process("campaign_tuning"), run_input, res)
    _assert_budgets(run_input, res)
    budgets = res.proposal["budgets"] if res.proposal else {}
    assert budgets["search"] > budgets["social"]
    # The untested channel keeps an exploration floor instead of getting nothing.
    assert budgets["new_test"] >= 0.05 * 1000.1 - 0.01


def test_campaign_without_any_return_splits_evenly_and_is_unsure() -> None:
    run_input = CampaignTuningInput(
        campaign_id="c2",
        total_budget=99.99,
        channels=[_channel("a", 0, 0, 0, 0), _channel("b", 0, 0, 0, 0), _channel("c", 0, 0, 0, 0)],
    )
    res = tune_campaign(run_input)
    _assert_budgets(run_input, res)
    assert res.proposal is not None
    assert sorted(res.proposal["budgets"].values()) == [33.33, 33.33, 33.33]
    assert res.confidence < 0.6


_channels = st.lists(
    st.builds(
        _channel,
        name=st.sampled_from(["search", "social", "display", "email", "video", "affiliate"]),
        spend=st.floats(min_value=0, max_value=1e6, allow_nan=False),
        clicks=st.floats(min_value=0, max_value=1e6, allow_nan=False),
        conversions=st.floats(min_value=0, max_value=1e5, allow_nan=False),
        revenue=st.floats(min_value=0, max_value=1e7, allow_nan=False),
    ),
    min_size=1,
    max_size=6,
    unique_by=lambda c: c.name,
)


@PROPERTY_SETTINGS
@given(
    channels=_channels,
    total=st.floats(min_value=0.001, max_value=1e7, allow_nan=False, allow_infinity=False),
)
def test_campaign_property(channels: list[ChannelStats], total: float) -> None:
    run_input = CampaignTuningInput(campaign_id="p", total_budget=total, channels=channels)
    res = tune_campaign(run_input)
    _check_result(Process("campaign_tuning"), run_input, res)
    _assert_budgets(run_input, res)


# --- content generation ---------------------------------------------------------------------


def _brief(**fields: Any) -> ContentGenerationInput:
    base = {"topic": "Onboarding new customers", "audience": "customer success managers"}
    return ContentGenerationInput.model_validate({"brief": {**base, **fields}})


@pytest.mark.parametrize("channel", ["blog", "email", "social"])
def test_every_keyword_appears_in_the_body(channel: str) -> None:
    keywords = ["welcome email", "kickoff call", "health score", "NPS"]
    res = generate_content(_brief(keywords=keywords, tone="friendly", channel=channel))
    assert res.proposal is not None
    body = res.proposal["body"].lower()
    assert all(keyword.lower() in body for keyword in keywords)
    assert res.signals["keyword_coverage"] == 1.0


@pytest.mark.parametrize(
    ("channel", "default"), [("blog", 300), ("email", 150), ("social", 50), (None, 300)]
)
def test_length_defaults_per_channel(channel: str | None, default: int) -> None:
    res = generate_content(_brief(keywords=["checklist"], tone="professional", channel=channel))
    assert res.signals["target_words"] == default
    assert abs(res.signals["words"] - default) <= max(5, default * 0.1)


def test_long_request_is_met() -> None:
    res = generate_content(_brief(keywords=["checklist"], tone="direct", length_words=2000))
    assert abs(res.signals["words"] - 2000) <= 100
    assert res.confidence > 0.85


def test_vague_brief_is_unsure() -> None:
    res = generate_content(_brief(audience="everyone"))
    assert res.confidence < 0.7


_words = st.text(alphabet=st.characters(categories=["L", "N"]), min_size=1, max_size=15)


@PROPERTY_SETTINGS
@given(
    topic=st.lists(_words, min_size=1, max_size=8).map(" ".join),
    audience=st.lists(_words, min_size=1, max_size=5).map(" ".join),
    tone=st.none() | st.sampled_from(["friendly", "formal", "witty", "urgent", "calm", ""]),
    keywords=st.lists(st.lists(_words, min_size=1, max_size=3).map(" ".join), max_size=12),
    length=st.none() | st.integers(50, 2000),
    channel=st.none() | st.sampled_from(["blog", "email", "social"]),
)
def test_content_property(
    topic: str,
    audience: str,
    tone: str | None,
    keywords: list[str],
    length: int | None,
    channel: str | None,
) -> None:
    run_input = _brief(
        topic=topic,
        audience=audience,
        tone=tone,
        keywords=keywords,
        length_words=length,
        channel=channel,
    )
    res = generate_content(run_input)
    _check_result(Process("content_generation"), run_input, res)
    assert res.proposal is not None
    body = res.proposal["body"]
    # Keywords are written as given, never re-cased.
    assert all(" ".join(k.split()) in body for k in keywords)
