"""Content generation: the AI drafts a piece from a brief; it is published unless the AI
is unsure. The rules model drafts from templates: every keyword gets its own section, then
sentences are added or held back until the length is as close to the request as whole
sentences allow."""

import re
from collections.abc import Callable
from typing import Any, Literal

from pydantic import Field, field_validator

from models.ai import AIResult
from processes._content_text import Voice, sections_for, voice_for
from processes.kit.answers import CONFIDENCE_HELP, Answer
from processes.kit.definition import AnswerSignals, DefaultPolicy, ProcessDefinition
from processes.kit.gates import Gate, claims_in
from processes.kit.models import BusinessRow, InputPart, ProcessInput, Proposal
from processes.kit.rules import rules_result
from processes.kit.text import keyword_coverage, word_count

# --- input -------------------------------------------------------------------------------


class Brief(InputPart):
    topic: str = Field(min_length=1, max_length=500)
    audience: str = Field(min_length=1, max_length=500)
    tone: str | None = Field(None, max_length=100)
    keywords: list[str] = Field(default_factory=list, max_length=50)
    length_words: int | None = Field(None, ge=50, le=2000)
    channel: Literal["blog", "email", "social"] | None = None
    # Competitors the piece must not name without legal's review (the legal gate).
    competitors: list[str] = Field(default_factory=list, max_length=50)

    @field_validator("competitors")
    @classmethod
    def _names(cls, names: list[str]) -> list[str]:
        if any(not 0 < len(n.strip()) <= 200 for n in names):
            raise ValueError("competitor names are 1..200 characters")
        return names


class ContentGenerationInput(ProcessInput):
    brief: Brief

    def subject(self) -> str:
        return f"{self.brief.channel or 'content'} on {self.brief.topic!r}"


# --- proposal ----------------------------------------------------------------------------


class ContentProposal(Proposal):
    title: str = Field(min_length=1, max_length=300)
    body: str = Field(min_length=1, max_length=50_000)


class ContentGenerationAnswer(Answer):
    rationale: str
    title: str
    body: str
    confidence: float = Field(description=CONFIDENCE_HELP)


def _answer_checks(
    run_input: "ContentGenerationInput", _: dict[str, Any], proposal: dict[str, Any]
) -> AnswerSignals:
    brief = run_input.brief
    words = word_count(proposal["body"])
    return {
        "length_ratio": words / brief.length_words if brief.length_words else None,
        "keyword_coverage": keyword_coverage(
            f"{proposal['title']}\n{proposal['body']}", brief.keywords
        ),
    }


# --- the rules model ---------------------------------------------------------------------
_DEFAULT_LENGTH = {"blog": 300, "email": 150, "social": 50}
_MIN_WORDS, _MAX_WORDS = 50, 2000
_TITLE_LIMIT = 300
_BODY_LIMIT = 50_000
_GENERIC_AUDIENCES = frozenset({"everyone", "anyone", "all", "general", "public", "people"})
# What a complete brief adds beyond its topic, weighted by how much it shapes the draft.
_BRIEF_WEIGHTS = {"keywords": 0.4, "tone": 0.3, "specific audience": 0.2, "channel": 0.1}
_MAX_CONFIDENCE = 0.97
_SMALL_WORDS = frozenset(
    ("a", "an", "and", "as", "at", "but", "by", "for", "in", "of", "on", "or", "the", "to")
)


def _keywords(brief: Brief) -> list[str]:
    seen: dict[str, str] = {}
    for keyword in brief.keywords:
        cleaned = " ".join(keyword.split())
        if cleaned and cleaned.lower() not in seen:
            seen[cleaned.lower()] = cleaned
    return list(seen.values())


def _title_case(topic: str) -> str:
    words = topic.split()
    out = []
    for i, word in enumerate(words):
        # Words with capitals already (acronyms, brands) are kept as written.
        if word != word.lower() or (i > 0 and word in _SMALL_WORDS):
            out.append(word)
        else:
            out.append(word[:1].upper() + word[1:])
    return " ".join(out)


def _clip_words(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0] if " " in text[:limit] else text[:limit]
    return cut.rstrip()


def _word_count(text: str) -> int:
    return len(text.split())


def _fill(section: list[str], pool: list[str], render: Callable[[], str], target: int) -> bool:
    """Add the pool's next sentence if it brings the length closer to the target."""
    if not pool or len(section) > len(pool):
        return False
    current = _word_count(render())
    sentence = pool[len(section) - 1]
    if abs(current + _word_count(sentence) - target) >= abs(current - target):
        return False
    section.append(sentence)
    return True


def _draft(brief: Brief, voice: Voice, channel: str, keywords: list[str], target: int) -> str:
    topic, audience = brief.topic, brief.audience
    themes = sections_for(keywords, channel)
    intro = [voice.opener(topic, audience)]
    middle = [[voice.keyword_lead(theme, topic, audience)] for theme in themes]
    closing = [voice.call_to_action(topic, channel)]
    sections = [intro, *middle, closing]
    pools = [voice.intro_pool(topic), *[voice.keyword_pool(theme) for theme in themes]]

    def render() -> str:
        return voice.layout(channel, keywords, themes, sections)

    # Round-robin long sentences so sections grow evenly, then fine-tune the length with
    # short ones in the closing section.
    progressed = True
    while progressed:
        progressed = False
        for section, pool in zip(sections[:-1], pools, strict=True):
            progressed = _fill(section, pool, render, target) or progressed
    while _fill(closing, voice.short_pool(), render, target):
        pass
    return render()


def generate_content(inp: ContentGenerationInput) -> AIResult:
    brief = inp.brief
    channel = brief.channel or "blog"
    target = brief.length_words or _DEFAULT_LENGTH[channel]
    target = min(_MAX_WORDS, max(_MIN_WORDS, target))
    keywords = _keywords(brief)
    voice = voice_for(brief.tone)

    title = _clip_words(voice.title(_title_case(brief.topic), channel), _TITLE_LIMIT)
    body = _clip_words(_draft(brief, voice, channel, keywords, target), _BODY_LIMIT)
    words = _word_count(body)

    # casefold, not lower: some letters do not survive upper() then lower() (the micro sign).
    folded = body.casefold()
    covered = [k for k in keywords if k.casefold() in folded]
    coverage = len(covered) / len(keywords) if keywords else 1.0
    accuracy = max(0.0, 1 - abs(words - target) / target)
    present = {
        "keywords": bool(keywords),
        "tone": bool(brief.tone),
        "specific audience": _specific(brief.audience),
        "channel": brief.channel is not None,
    }
    completeness = sum(_BRIEF_WEIGHTS[k] for k, given in present.items() if given)
    coverage_term = 0.3 + 0.7 * coverage
    length_term = 0.5 + 0.5 * accuracy
    brief_term = 0.5 + 0.5 * completeness
    confidence = min(_MAX_CONFIDENCE, coverage_term * length_term * brief_term)

    missing = [k for k, given in present.items() if not given]
    rationale = (
        f"Template draft for {'an' if channel == 'email' else 'a'} {channel} piece in a "
        f"{voice.name} voice for {brief.audience}: "
        f"intro, {len(keywords)} keyword section(s), call to action; {words} words against a "
        f"target of {target}. Confidence {confidence:.2f}: keyword coverage "
        f"{len(covered)}/{len(keywords)}, length accuracy {accuracy:.2f}, brief completeness "
        f"{completeness:.2f}" + (f" (missing: {', '.join(missing)})." if missing else ".")
    )
    signals = {
        "keyword_coverage": coverage,
        "keywords": len(keywords),
        "words": words,
        "target_words": target,
        "length_accuracy": accuracy,
        "brief_completeness": completeness,
    }
    proposal = {"title": title, "body": body, "rationale": rationale}
    return rules_result(ContentProposal, inp, proposal, confidence, signals)


def _specific(audience: str) -> bool:
    words = re.findall(r"[a-z]+", audience.lower())
    return bool(words) and not set(words) <= _GENERIC_AUDIENCES | {"the", "and", "of"}


# --- apply -------------------------------------------------------------------------------


class ContentRow(BusinessRow, table=True):
    __tablename__ = "content"

    title: str
    body: str
    channel: str | None = None
    status: str = "published"


def apply_content(run_input: ContentGenerationInput, proposal: dict[str, Any]) -> dict[str, Any]:
    return {
        "title": proposal["title"],
        "body": proposal["body"],
        "channel": run_input.brief.channel,
    }


def _makes_claim(run_input: ContentGenerationInput, proposal: dict[str, Any], _: Any) -> bool:
    texts = [str(proposal.get("title", "")), str(proposal.get("body", ""))]
    return bool(claims_in(texts, run_input.brief.competitors))


DEFINITION = ProcessDefinition(
    name="content_generation",
    input_model=ContentGenerationInput,
    proposal_model=ContentProposal,
    rules=generate_content,
    answer_model=ContentGenerationAnswer,
    answer_checks=_answer_checks,
    table=ContentRow,
    apply=apply_content,
    default_policy=DefaultPolicy(hitl_enabled=False, confidence_threshold=0.80),
    # The editor's review (autonomous by default), then legal's when the draft makes a claim.
    gates=(
        Gate(name="editor"),
        Gate(
            name="legal",
            when=_makes_claim,
            condition="the draft makes a claim: a number, a percentage, a superlative, or "
            "a competitor named in the brief",
            hitl_by_default=True,
        ),
    ),
    examples={
        "confident": {
            "brief": {
                "topic": "cutting cloud costs without slowing down your team",
                "audience": "CTOs and engineering leads at seed-stage SaaS startups",
                "tone": "friendly and practical",
                "keywords": ["reserved instances", "autoscaling", "cost monitoring", "rightsizing"],
                "length_words": 400,
                "channel": "blog",
            }
        },
        "unsure": {"brief": {"topic": "our spring update", "audience": "everyone"}},
    },
    propose_activity="generate_content",
    apply_activity="apply_content",
)
