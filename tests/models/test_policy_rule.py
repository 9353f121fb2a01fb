import math

from hypothesis import given
from hypothesis import strategies as st

from models.hitl import Policy
from models.processes import Process
from processes import registry

policies = st.builds(
    Policy,
    process=st.sampled_from(list(registry.processes())),
    hitl_enabled=st.booleans(),
    confidence_threshold=st.floats(0, 1),
)
valid_confidence = st.floats(0, 1)
untrusted_confidence = st.one_of(
    st.none(),
    st.just(math.nan),
    st.floats(max_value=-1e-9, allow_nan=False),
    st.floats(min_value=1 + 1e-9, allow_nan=False),
)


@given(policies, valid_confidence)
def test_hitl_on_always_needs_a_person(policy: Policy, confidence: float) -> None:
    policy = policy.model_copy(update={"hitl_enabled": True})
    assert policy.needs_human(confidence)


@given(policies, valid_confidence)
def test_autonomous_needs_a_person_only_below_threshold(policy: Policy, confidence: float) -> None:
    policy = policy.model_copy(update={"hitl_enabled": False})
    assert policy.needs_human(confidence) == (confidence < policy.confidence_threshold)


@given(policies, valid_confidence)
def test_needs_review_always_needs_a_person(policy: Policy, confidence: float) -> None:
    assert policy.needs_human(confidence, needs_review=True)


@given(policies, untrusted_confidence)
def test_untrusted_confidence_needs_a_person(policy: Policy, confidence: float | None) -> None:
    assert policy.needs_human(confidence)


def test_threshold_is_inclusive_for_autonomy() -> None:
    policy = Policy(process=Process("lead_scoring"), hitl_enabled=False, confidence_threshold=0.8)
    assert not policy.needs_human(0.8)
    assert policy.needs_human(0.7999)
