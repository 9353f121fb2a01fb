"""Client success stories (SPEC §1): a story may invent nothing. The pull quote is one of the
client's quotes, verbatim; every number in the headline and story comes from the metrics
(before, after, difference, % change, correctly rounded). Checked in the rules model, on a
model's answer (it parks for a person), on edits (422), end to end."""

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from pydantic import ValidationError

from activities.openai_model import OpenAIModel, build_openai_client
from activities.rules_model import RulesModel
from core.settings import AIProvider, Settings
from models.processes import Action, Channel, Process, RunState
from processes.testimonial_generation import DEFINITION, ClientStoryRow, allowed_numbers
from processes.testimonial_generation import unsupported as unsupported_numbers
from tests.api.support import Api
from tests.fakes.openai_server import FakeOpenAIServer, answer
from tests.support import Brain, parked

STORY = Process("testimonial_generation")
CONFIDENT: dict[str, Any] = dict(DEFINITION.examples["confident"])
QUOTE = CONFIDENT["quotes"][0]


def _input(**changes: Any) -> Any:
    return DEFINITION.parse_input({**CONFIDENT, **changes})


def _proposal(**fields: Any) -> dict[str, Any]:
    good = {
        "headline": "Nordlys Freight cuts late deliveries by 62.5%",
        "story": "Late deliveries fell from 120 to 45 a month, 75 fewer.",
        "pull_quote": QUOTE,
        "rationale": "the largest change leads",
    }
    return {**good, **fields}


def _refusal(**fields: Any) -> str:
    with pytest.raises(ValidationError) as refused:
        DEFINITION.validate_proposal(_input(), _proposal(**fields))
    return str(refused.value)


def test_a_proposal_citing_only_the_metrics_is_valid() -> None:
    assert DEFINITION.validate_proposal(_input(), _proposal())["pull_quote"] == QUOTE


@pytest.mark.parametrize(
    "quote",
    [
        "We stopped firefighting and started planning",  # the full stop dropped
        "we stopped firefighting and started planning.",  # case changed
        "Brain changed everything for us.",  # never said
    ],
)
def test_an_invented_or_altered_quote_is_refused(quote: str) -> None:
    assert "verbatim" in _refusal(pull_quote=quote)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("Late deliveries fell by 64%", "62.5 rounds to 62 or 63"),
        ("Planning time fell by 59%", "58.33 rounds to 58"),
        ("Planning time fell by 58.4%", "58.33 rounds to 58.3"),
        ("Late deliveries fell by 80% since 2019", "invented figures"),
        ("Saved 1,200 hours", "invented with a thousands separator"),
        ("Late deliveries fell by \u0669\u0669%", "in another script's digits (99)"),
    ],
)
def test_invented_or_wrongly_rounded_numbers_are_refused(text: str, why: str) -> None:
    assert "not in the client's metrics" in _refusal(story=text), why


@pytest.mark.parametrize(
    "text",
    [
        "Late deliveries fell by 62.5% (from 120 to 45, 75 fewer)",
        "Late deliveries fell by 63%",  # 62.5 lies half-way: both neighbours are right
        "Planning went from 6 to 2.5 hours: 3.5 saved, 58% less, or 58.3%",
        # 62.5 in Arabic-Indic digits.
        "Late deliveries down \u0666\u0662.\u0665",
        "A B2B team's win",
    ],
)
def test_numbers_from_the_metrics_pass_as_given_or_rounded(text: str) -> None:
    DEFINITION.validate_proposal(_input(), _proposal(story=text))


def test_numbers_in_the_clients_own_names_are_not_claims() -> None:
    client = {"name": "Åsa Nyström", "company": "3M Nordic 24", "industry": "Industri 4.0"}
    story = "3M Nordic 24, in Industri 4.0, cut late deliveries by 62.5%."
    DEFINITION.validate_proposal(_input(client=client), _proposal(story=story))


def test_the_number_rule_alone() -> None:
    allowed = allowed_numbers(_input().metrics)
    assert unsupported_numbers("120 → 45 (62.5%, 62%, 63%), 75; 6 → 2.5 (58.33%)", allowed) == []
    assert unsupported_numbers("a 10x gain, 61% fewer", allowed) == ["61"]  # 10x is a word


def test_the_rules_model_writes_a_story_with_no_invented_number() -> None:
    material = {
        **CONFIDENT,
        "client": {"name": "Zoë Ångström", "company": "Nordlys Freight", "industry": "logistik"},
        "project": {
            "summary": "A rollout across 14 depots",  # 14 is in no metric: left out
            "outcomes": ["Dispatch runs itself", "Saved 300 hours in 2024"],
        },
    }
    result = DEFINITION.rules(DEFINITION.parse_input(material))
    assert result.proposal is not None
    story = result.proposal["story"]
    assert "14" not in story and "300" not in story and "Dispatch runs itself" in story
    assert result.proposal["pull_quote"] in material["quotes"]
    assert result.signals["dropped_passages"] == 2
    assert "Zoë Ångström" in story


# --- over REST and end to end ---------------------------------------------------------------


async def test_edits_that_invent_are_refused_with_422_and_good_ones_apply(api: Api) -> None:
    api.brain.model.delegate = RulesModel()
    await api.brain.later_gates_on_their_own(STORY)
    run = await api.parked("testimonial_generation", body=CONFIDENT)
    wid = run["workflow_id"]
    invented = await api.decide(wid, edits={"pull_quote": "Best vendor ever!"})
    assert invented.status_code == 422, invented.text
    assert invented.json()["error"] == "InvalidEdits"
    rounded = await api.decide(wid, edits={"headline": "Late deliveries down 64%"})
    assert rounded.status_code == 422, rounded.text
    good = await api.decide(wid, edits={"headline": "Nordlys Freight: 75 fewer late deliveries"})
    assert good.status_code == 200, good.text
    done = await api.wait_state(wid, "completed")
    assert done["result"]["headline"] == "Nordlys Freight: 75 fewer late deliveries"
    [row] = await api.brain.rows(ClientStoryRow, wid)
    assert (row.company, row.status) == ("Nordlys Freight", "ready_to_publish")
    assert row.pull_quote in CONFIDENT["quotes"]


@pytest_asyncio.fixture
async def openai_brain(brain: Brain, fake_openai: FakeOpenAIServer) -> AsyncIterator[Brain]:
    settings = Settings(ai_provider=AIProvider.openai, openai_base_url=fake_openai.base_url)
    client = build_openai_client(settings)
    brain.model.delegate = OpenAIModel(client, "fake-model")
    yield brain
    await client.close()


async def test_a_model_answer_that_invents_a_figure_parks_for_a_person(
    openai_brain: Brain, fake_openai: FakeOpenAIServer
) -> None:
    fake_openai.script(
        answer({**_proposal(story="Late deliveries fell by 71%"), "confidence": 0.99})
    )
    await openai_brain.set_policy(STORY, hitl_enabled=False, confidence_threshold=0.5)
    handle = await openai_brain.start(STORY, CONFIDENT)
    status = await parked(handle)
    assert status.approval is not None and status.approval.needs_review
    assert "71" in (status.approval.error or "")
    await handle.signal("reject", {"by": "editor"})
    assert (await handle.result()).state is RunState.REJECTED


async def test_a_faithful_model_answer_applies_when_autonomous(
    openai_brain: Brain, fake_openai: FakeOpenAIServer
) -> None:
    fake_openai.script(answer({**_proposal(), "confidence": 0.95}))
    await openai_brain.set_policy(STORY, hitl_enabled=False, confidence_threshold=0.5)
    await openai_brain.later_gates_on_their_own(STORY)
    handle = await openai_brain.start(STORY, CONFIDENT)
    result = await handle.result()
    assert result.state is RunState.COMPLETED and result.decision is not None
    assert result.decision.channel is Channel.AUTO
    [sent] = fake_openai.requests
    assert sent.body["response_format"]["json_schema"]["name"] == "TestimonialGenerationAnswer"
    assert sent.body["messages"][0]["content"] == DEFINITION.prompt()[1]
    assert Action.APPROVE is result.decision.action
