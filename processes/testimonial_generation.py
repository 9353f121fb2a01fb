"""Client success stories: the AI drafts a testimonial from a client's project, outcomes,
metrics and quotes; a person approves it before it is ready to publish.

A success story speaks for a real client, so it may invent nothing: the pull quote is one of
the client's quotes, verbatim, and every number in the headline and the story comes from
the metrics (a before, an after, their difference or the percentage change, as given or
correctly rounded). A proposal that breaks either rule is invalid: a model's answer that
does so parks for a person, and an edit that does so is refused.
"""

import re
import unicodedata
from collections.abc import Iterable
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from models.ai import AIResult
from processes.kit.answers import CONFIDENCE_HELP, Answer
from processes.kit.definition import AnswerSignals, DefaultPolicy, ProcessDefinition
from processes.kit.gates import Gate, claims_in
from processes.kit.models import BusinessRow, InputPart, ProcessInput, Proposal, input_of
from processes.kit.rules import clamp01, rules_result
from processes.kit.text import word_count

# --- input -------------------------------------------------------------------------------

_Text = Field(min_length=1, max_length=2000)


class Client(InputPart):
    name: str = Field(min_length=1, max_length=200)
    company: str = Field(min_length=1, max_length=200)
    industry: str | None = Field(None, max_length=200)


class Project(InputPart):
    summary: str = _Text
    outcomes: list[str] = Field(min_length=1, max_length=20)


class Metric(InputPart):
    name: str = Field(min_length=1, max_length=200)
    before: float = Field(ge=-1e12, le=1e12)
    after: float = Field(ge=-1e12, le=1e12)
    unit: str | None = Field(None, max_length=40)


class TestimonialGenerationInput(ProcessInput):
    client: Client
    project: Project
    metrics: list[Metric] = Field(default_factory=list, max_length=20)
    quotes: list[str] = Field(min_length=1, max_length=20)
    tone: Literal["formal", "warm", "bold"] | None = None
    length_words: int | None = Field(None, ge=80, le=1200)
    # Competitors the story must not name without legal's review (the legal gate).
    competitors: list[str] = Field(default_factory=list, max_length=50)

    @field_validator("competitors")
    @classmethod
    def _competitor_names(cls, names: list[str]) -> list[str]:
        if any(not 0 < len(n.strip()) <= 200 for n in names):
            raise ValueError("competitor names are 1..200 characters")
        return names

    @field_validator("quotes", "project")
    @classmethod
    def _no_empty_text(cls, value: Any) -> Any:
        texts = value if isinstance(value, list) else value.outcomes
        if any(not t.strip() for t in texts):
            raise ValueError("quotes and outcomes must not be empty")
        return value

    def subject(self) -> str:
        return f"{self.client.name} ({self.client.company})"

    def names(self) -> list[str]:
        """The client's own names: digits in them (3M) are not claims."""
        return [n for n in (self.client.name, self.client.company, self.client.industry) if n]


# --- the number rule ---------------------------------------------------------------------

# A number (1,234.5, 1234.5, digits of any script), whole: not part of a word or of a longer
# number, so the digit of "B2B" and the "10" of "10x" are no claims.
_NUMBER = re.compile(r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?(?!\w)")


def allowed_numbers(metrics: Iterable[Metric]) -> set[float]:
    """What a story may cite: each metric's before, after, difference and % change."""
    allowed: set[float] = set()
    for m in metrics:
        change = m.after - m.before
        allowed |= {abs(m.before), abs(m.after), abs(change)}
        if m.before != 0:
            allowed.add(abs(change / m.before * 100))
    return allowed


def _digits(text: str) -> str:
    return "".join(str(unicodedata.digit(c)) for c in text)


def unsupported(text: str, allowed: set[float], exempt: Iterable[str] = ()) -> list[str]:
    """Numbers in ``text`` (outside ``exempt``) that no allowed value rounds to, as written:
    33 or 33.3 for a change of 33.33… pass, 34 does not."""
    for name in sorted(exempt, key=len, reverse=True):
        text = text.replace(name, " ")
    found = []
    for match in _NUMBER.finditer(text):
        whole, fraction = _digits(match.group(1).replace(",", "")), _digits(match.group(2) or "")
        value, decimals = float(f"{whole}.{fraction or 0}"), len(fraction)
        if not any(abs(value - a) <= 0.5 * 10**-decimals + 1e-9 for a in allowed):
            found.append(match.group(0))
    return found


def shown(value: float) -> str:
    """``value`` as a story writes it: whole numbers bare, else at most two decimals."""
    value = abs(value)
    if value.is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


# --- proposal ----------------------------------------------------------------------------


class TestimonialProposal(Proposal):
    headline: str = Field(min_length=1, max_length=200)
    story: str = Field(min_length=1, max_length=12_000)
    pull_quote: str = Field(min_length=1, max_length=2000)

    @model_validator(mode="after")
    def _nothing_invented(self, info: ValidationInfo) -> "TestimonialProposal":
        run_input = input_of(info, TestimonialGenerationInput)
        if run_input is None:
            return self
        if self.pull_quote not in run_input.quotes:
            raise ValueError("pull_quote must be one of the client's quotes, verbatim")
        allowed = allowed_numbers(run_input.metrics)
        invented = unsupported(f"{self.headline}\n{self.story}", allowed, run_input.names())
        if invented:
            raise ValueError(
                f"numbers not in the client's metrics (before, after, difference or % "
                f"change, correctly rounded): {sorted(set(invented))[:10]}"
            )
        return self


class TestimonialGenerationAnswer(Answer):
    rationale: str
    headline: str
    story: str
    pull_quote: str
    confidence: float = Field(description=CONFIDENCE_HELP)


def _answer_checks(
    run_input: TestimonialGenerationInput, _: dict[str, Any], proposal: dict[str, Any]
) -> AnswerSignals:
    target = run_input.length_words
    return {"length_ratio": word_count(proposal["story"]) / target if target else None}


# --- the rules model ---------------------------------------------------------------------

_VERBS = {
    "formal": ("reduced", "increased"),
    "warm": ("brought down", "grew"),
    "bold": ("slashed", "boosted"),
}
_MAX_CONFIDENCE = 0.97


def _pct(m: Metric) -> float | None:
    return abs((m.after - m.before) / m.before * 100) if m.before else None


def _sentence(m: Metric, tone: str) -> str:
    down, up = _VERBS[tone]
    verb = down if m.after < m.before else up
    unit = f" {m.unit}" if m.unit else ""
    pct = _pct(m)
    change = f" ({shown(pct)}%)" if pct is not None else ""
    return f"It {verb} {m.name} from {shown(m.before)}{unit} to {shown(m.after)}{unit}{change}."


def write_story(inp: TestimonialGenerationInput) -> AIResult:
    tone = inp.tone or "warm"
    allowed, names = allowed_numbers(inp.metrics), inp.names()
    # Free text that states a number the metrics do not hold stays out of the story.
    clean = [o for o in inp.project.outcomes if not unsupported(o, allowed, names)]
    summary_ok = not unsupported(inp.project.summary, allowed, names)
    ranked = sorted(inp.metrics, key=lambda m: _pct(m) or 0.0, reverse=True)
    lead = ranked[0] if ranked else None
    company = inp.client.company
    if lead is not None and _pct(lead):
        down, up = _VERBS[tone]
        verb = down if lead.after < lead.before else up
        headline = f"{company} {verb} {lead.name} by {shown(_pct(lead) or 0)}%"
    else:
        headline = f"How {company} worked with us"
    industry = f", in {inp.client.industry}," if inp.client.industry else ""
    parts = [f"{inp.client.name} at {company}{industry} worked with us."]
    if summary_ok:
        parts.append(inp.project.summary.rstrip(".") + ".")
    parts += [_sentence(m, tone) for m in ranked]
    parts += [o.rstrip(".") + "." for o in clean]
    story = " ".join(parts)
    # The quote that says the most, within reason, speaks for the client.
    quote = max(inp.quotes, key=lambda q: (min(len(q), 240), -inp.quotes.index(q)))

    dropped = len(inp.project.outcomes) - len(clean) + (0 if summary_ok else 1)
    evidence = {
        "metrics": min(len(inp.metrics), 3) / 3,
        "quotes": min(len(inp.quotes), 2) / 2,
        "outcomes": min(len(clean), 3) / 3,
        "lead_change": min((_pct(lead) or 0) / 25, 1.0) if lead else 0.0,
    }
    confidence = min(
        _MAX_CONFIDENCE,
        clamp01(
            0.35
            + 0.25 * evidence["metrics"]
            + 0.1 * evidence["quotes"]
            + 0.1 * evidence["outcomes"]
            + 0.2 * evidence["lead_change"]
            - 0.1 * dropped
        ),
    )
    rationale = (
        f"Headline from the largest change ({lead.name if lead else 'none measured'}); "
        f"{len(inp.metrics)} metric(s) stated as given, {len(clean)} outcome(s) kept"
        + (
            f", {dropped} passage(s) left out for numbers the metrics do not hold"
            if dropped
            else ""
        )
        + f"; pull quote: the fullest of {len(inp.quotes)} quote(s). "
        f"Confidence {confidence:.2f} from metrics, quotes, outcomes and the lead change."
    )
    data = {"headline": headline, "story": story, "pull_quote": quote, "rationale": rationale}
    signals = {**evidence, "dropped_passages": float(dropped)}
    return rules_result(TestimonialProposal, inp, data, confidence, signals)


# --- apply -------------------------------------------------------------------------------


class ClientStoryRow(BusinessRow, table=True):
    __tablename__ = "client_stories"

    client_name: str
    company: str
    industry: str | None = None
    headline: str
    story: str
    pull_quote: str
    status: str = "ready_to_publish"


def apply_story(run_input: TestimonialGenerationInput, proposal: dict[str, Any]) -> dict[str, Any]:
    return {
        "client_name": run_input.client.name,
        "company": run_input.client.company,
        "industry": run_input.client.industry,
        "headline": proposal["headline"],
        "story": proposal["story"],
        "pull_quote": proposal["pull_quote"],
    }


def _makes_claim(run_input: TestimonialGenerationInput, proposal: dict[str, Any], _: Any) -> bool:
    fields = ("headline", "story", "pull_quote")
    texts = [str(proposal.get(f, "")) for f in fields]
    return bool(claims_in(texts, run_input.competitors))


DEFINITION = ProcessDefinition(
    name="testimonial_generation",
    aliases=("client_success_story",),
    input_model=TestimonialGenerationInput,
    proposal_model=TestimonialProposal,
    rules=write_story,
    answer_model=TestimonialGenerationAnswer,
    answer_checks=_answer_checks,
    table=ClientStoryRow,
    apply=apply_story,
    default_policy=DefaultPolicy(hitl_enabled=True, confidence_threshold=0.85),
    # The editor's review, then legal's when the story makes a claim (most stories do:
    # their metrics are claims about a real client).
    gates=(
        Gate(name="editor"),
        Gate(
            name="legal",
            when=_makes_claim,
            condition="the story makes a claim: a number, a percentage, a superlative, or "
            "a competitor named in the input",
            hitl_by_default=True,
        ),
    ),
    examples={
        "confident": {
            "client": {
                "name": "Zoë Ångström",
                "company": "Nordlys Freight",
                "industry": "logistics",
            },
            "project": {
                "summary": "Nordlys moved dispatch planning onto Brain-driven workflows",
                "outcomes": [
                    "Dispatchers plan the day before lunch instead of after it",
                    "Late deliveries are flagged before the customer calls",
                ],
            },
            "metrics": [
                {"name": "late deliveries", "before": 120, "after": 45, "unit": "per month"},
                {"name": "planning time", "before": 6, "after": 2.5, "unit": "hours"},
            ],
            "quotes": [
                "We stopped firefighting and started planning.",
                "Our dispatchers finally go home on time, and our customers noticed first.",
            ],
            "tone": "warm",
        },
        "unsure": {
            "client": {"name": "Sam Okafor", "company": "Okafor & Daughters"},
            "project": {
                "summary": "A pilot of automated invoice follow-ups",
                "outcomes": ["Invoices were paid 3 weeks sooner"],
            },
            "quotes": ["It was a good pilot."],
        },
    },
)
