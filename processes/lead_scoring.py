"""Lead scoring: the AI scores a lead; a person confirms when unsure; the lead is routed by
tier. The rules model sums capped points per piece of evidence, so every point in a score
can be named in its rationale; its confidence comes from evidence coverage and how far the
score sits from a tier boundary."""

import math
import re
from typing import Any, Literal

from pydantic import EmailStr, Field, model_validator

from models.ai import AIResult
from processes.kit.answers import CONFIDENCE_HELP, Answer
from processes.kit.definition import AnswerSignals, DefaultPolicy, ProcessDefinition
from processes.kit.models import BusinessRow, InputPart, ProcessInput, Proposal
from processes.kit.rules import rules_result

# --- input -------------------------------------------------------------------------------


class Engagement(InputPart):
    page_views: int = Field(0, ge=0, le=10**9)
    email_opens: int = Field(0, ge=0, le=10**9)
    demo_requested: bool = False


class Lead(InputPart):
    name: str = Field(min_length=1, max_length=200)
    email: EmailStr
    company: str = Field(min_length=1, max_length=200)
    title: str | None = Field(None, max_length=200)
    company_size: int | None = Field(None, ge=1, le=10**8)
    source: Literal["referral", "web", "ads", "event", "cold", "other"] | None = None
    notes: str | None = Field(None, max_length=5000)
    engagement: Engagement | None = None


class LeadScoringInput(ProcessInput):
    lead: Lead

    def subject(self) -> str:
        return f"{self.lead.name} ({self.lead.company})"


# --- proposal ----------------------------------------------------------------------------

Tier = Literal["hot", "warm", "cold"]


def tier_for(score: int) -> Tier:
    if score >= 70:
        return "hot"
    if score >= 40:
        return "warm"
    return "cold"


class LeadProposal(Proposal):
    derived = ("tier",)

    score: int = Field(ge=0, le=100)
    tier: Tier | None = None

    @model_validator(mode="after")
    def _tier_from_score(self) -> "LeadProposal":
        # The tier follows from the score; a model or a person cannot make them disagree.
        self.tier = tier_for(self.score)
        return self


class LeadScoringAnswer(Answer):
    rationale: str
    score: int
    tier: Tier
    confidence: float = Field(description=CONFIDENCE_HELP)


def _answer_checks(_: Any, answer: dict[str, Any], proposal: dict[str, Any]) -> AnswerSignals:
    # Validation recomputes the tier silently; a model that got it wrong misread its task.
    return {"consistency": float(answer.get("tier") == proposal["tier"])}


# --- the rules model ---------------------------------------------------------------------
# Seniority is checked in this order because titles overlap: "Vice President" contains
# "President", and "Assistant to the CEO" is not a C-level buyer.
_SENIORITY: tuple[tuple[str, re.Pattern[str], int], ...] = (
    ("junior", re.compile(r"\b(intern|student|trainee|assistant|apprentice)\b"), 3),
    ("VP", re.compile(r"\b(vice president|vp|svp|evp|avp|head of)\b"), 20),
    (
        "C-level",
        re.compile(
            r"\b(chief|ceo|cto|cfo|coo|cmo|cio|cro|cpo|ciso|founder|co-founder|cofounder"
            r"|president|owner|managing director)\b"
        ),
        25,
    ),
    ("director", re.compile(r"\b(director|dir)\b"), 15),
    ("manager", re.compile(r"\b(manager|mgr|lead|supervisor|principal)\b"), 9),
)
_OTHER_TITLE_POINTS = 4

# (upper bound of the band, points); bigger companies buy bigger contracts.
_SIZE_BANDS: tuple[tuple[int, int], ...] = ((10, 3), (50, 6), (200, 9), (1000, 12), (5000, 14))
_SIZE_TOP_POINTS = 15

_SOURCE_POINTS = {"referral": 15, "event": 12, "web": 9, "ads": 6, "other": 4, "cold": 1}

_FREE_MAIL_DOMAINS = frozenset(
    {
        "gmail.com", "googlemail.com", "aol.com", "icloud.com", "me.com", "mac.com",
        "msn.com", "mail.com", "protonmail.com", "proton.me", "pm.me", "zoho.com",
        "qq.com", "163.com", "126.com", "web.de", "mail.ru", "tutanota.com", "fastmail.com",
    }
)  # fmt: skip
# Providers with a domain per country (yahoo.co.uk, hotmail.fr, gmx.de...).
_FREE_MAIL_FAMILIES = frozenset({"yahoo", "ymail", "hotmail", "outlook", "live", "gmx", "yandex"})
_BUSINESS_EMAIL_POINTS = 5

_INTENT_WORDS = re.compile(
    r"\b(budget|timeline|pricing|quote|proposal|evaluating|decision maker|urgent|asap"
    r"|migrat\w*|replace|rfp|pilot|trial|contract|renewal)\b"
)
_INTENT_POINTS_EACH = 2.5
_INTENT_POINTS_MAX = 10.0
_NEGATIVE_WORDS = re.compile(
    r"(not interested|no budget|unsubscribe|just browsing|student project|spam)"
)
_NEGATIVE_POINTS = -10.0

_TIER_BOUNDARIES = (40, 70)
# A score this many points from a boundary is considered safely inside its tier.
_SAFE_MARGIN = 15.0
_EVIDENCE_FIELDS = ("title", "company_size", "source", "engagement", "notes")
_MAX_CONFIDENCE = 0.97


def _title_points(title: str | None) -> tuple[float, str | None]:
    if not title:
        return 0.0, None
    lowered = title.lower()
    for label, pattern, points in _SENIORITY:
        if pattern.search(lowered):
            return float(points), f"title {title!r} reads as {label} (+{points})"
    return float(_OTHER_TITLE_POINTS), f"title {title!r} has no seniority (+{_OTHER_TITLE_POINTS})"


def _size_points(size: int | None) -> tuple[float, str | None]:
    if size is None:
        return 0.0, None
    points = next((p for upper, p in _SIZE_BANDS if size <= upper), _SIZE_TOP_POINTS)
    return float(points), f"company size {size} (+{points})"


def _source_points(source: str | None) -> tuple[float, str | None]:
    if source is None:
        return 0.0, None
    points = _SOURCE_POINTS[source]
    return float(points), f"source {source} (+{points})"


def _engagement_points(engagement: Engagement | None) -> tuple[float, str | None]:
    if engagement is None:
        return 0.0, None
    # Caps keep one enthusiastic reader from outweighing who the lead is.
    views = min(engagement.page_views, 20) / 20 * 8
    opens = min(engagement.email_opens, 10) / 10 * 7
    demo = 15.0 if engagement.demo_requested else 0.0
    total = views + opens + demo
    parts = f"{engagement.page_views} page views, {engagement.email_opens} email opens"
    if engagement.demo_requested:
        parts += ", demo requested"
    return total, f"engagement: {parts} (+{total:.1f})"


def _email_points(email: str) -> tuple[float, str]:
    domain = email.rsplit("@", 1)[-1].lower()
    if domain in _FREE_MAIL_DOMAINS or domain.split(".", 1)[0] in _FREE_MAIL_FAMILIES:
        return 0.0, f"free-mail address @{domain} (+0)"
    return float(_BUSINESS_EMAIL_POINTS), f"business address @{domain} (+{_BUSINESS_EMAIL_POINTS})"


def _notes_points(notes: str | None) -> tuple[float, str | None]:
    if not notes:
        return 0.0, None
    lowered = notes.lower()
    if _NEGATIVE_WORDS.search(lowered):
        return _NEGATIVE_POINTS, f"notes signal no intent ({_NEGATIVE_POINTS:+.0f})"
    hits = sorted(set(_INTENT_WORDS.findall(lowered)))
    points = min(len(hits) * _INTENT_POINTS_EACH, _INTENT_POINTS_MAX)
    if not hits:
        return 0.0, "notes carry no buying signal (+0)"
    return points, f"notes mention {', '.join(hits)} (+{points:.1f})"


def _evidence(lead: Lead) -> list[tuple[str, float, str | None]]:
    return [
        ("title_points", *_title_points(lead.title)),
        ("size_points", *_size_points(lead.company_size)),
        ("source_points", *_source_points(lead.source)),
        ("engagement_points", *_engagement_points(lead.engagement)),
        ("email_points", *_email_points(str(lead.email))),
        ("notes_points", *_notes_points(lead.notes)),
    ]


def score_lead(inp: LeadScoringInput) -> AIResult:
    lead = inp.lead
    evidence = _evidence(lead)
    # Half-up, not banker's rounding: 69.5 points should reach the hot tier.
    score = math.floor(min(100.0, max(0.0, sum(p for _, p, _ in evidence))) + 0.5)
    tier = tier_for(score)

    present = sum(1 for name in _EVIDENCE_FIELDS if getattr(lead, name) not in (None, ""))
    coverage = present / len(_EVIDENCE_FIELDS)
    margin = min(abs(score - boundary) for boundary in _TIER_BOUNDARIES)
    # Multiplicative: thin evidence or a borderline score each alone make it unsure.
    coverage_term = 0.4 + 0.6 * coverage
    margin_term = 0.6 + 0.4 * min(1.0, margin / _SAFE_MARGIN)
    confidence = min(_MAX_CONFIDENCE, coverage_term * margin_term)

    fired = "; ".join(reason for _, _, reason in evidence if reason)
    nearest = min(_TIER_BOUNDARIES, key=lambda b: (abs(score - b), b))
    rationale = (
        f"Score {score}/100, tier {tier}: {fired}. "
        f"Confidence {confidence:.2f}: {present}/{len(_EVIDENCE_FIELDS)} evidence fields "
        f"present, score {margin} points from the {nearest} tier boundary."
    )
    signals = {name: points for name, points, _ in evidence}
    signals.update(
        score=score,
        evidence_coverage=coverage,
        boundary_margin=margin,
        coverage_term=coverage_term,
        margin_term=margin_term,
    )
    data = {"score": score, "tier": tier, "rationale": rationale}
    return rules_result(LeadProposal, inp, data, confidence, signals)


# --- apply -------------------------------------------------------------------------------

_ROUTES = {"hot": "sales", "warm": "nurture", "cold": "marketing"}


class LeadRow(BusinessRow, table=True):
    __tablename__ = "leads"

    name: str
    email: str
    company: str
    score: int
    tier: str
    # Where the lead goes next, by tier.
    route: str


def apply_lead(run_input: LeadScoringInput, proposal: dict[str, Any]) -> dict[str, Any]:
    lead = run_input.lead
    return {
        "name": lead.name,
        "email": str(lead.email),
        "company": lead.company,
        "score": proposal["score"],
        "tier": proposal["tier"],
        "route": _ROUTES[proposal["tier"]],
    }


DEFINITION = ProcessDefinition(
    name="lead_scoring",
    aliases=("lead_processing",),
    input_model=LeadScoringInput,
    proposal_model=LeadProposal,
    rules=score_lead,
    answer_model=LeadScoringAnswer,
    answer_checks=_answer_checks,
    table=LeadRow,
    apply=apply_lead,
    default_policy=DefaultPolicy(hitl_enabled=True, confidence_threshold=0.85),
    examples={
        "confident": {
            "lead": {
                "name": "Dana Ortiz",
                "email": "dana.ortiz@northwind-logistics.com",
                "company": "Northwind Logistics",
                "title": "VP of Operations",
                "company_size": 850,
                "source": "referral",
                "notes": "Referred by an existing customer. Evaluating vendors to replace "
                "their legacy WMS; budget approved, decision expected this quarter.",
                "engagement": {"page_views": 14, "email_opens": 6, "demo_requested": True},
            }
        },
        "unsure": {
            "lead": {
                "name": "Sam Lee",
                "email": "sam.lee1987@gmail.com",
                "company": "Lee Consulting",
                "title": "Operations Manager",
                "source": "web",
            }
        },
    },
    propose_activity="score_lead",
    apply_activity="apply_lead",
)
