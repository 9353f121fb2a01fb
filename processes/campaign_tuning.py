"""Campaign tuning: the AI reallocates a campaign's budget across its channels; a person
confirms when unsure. The rules model follows measured return, shrinks noisy channels
toward the pool and keeps a floor for channels that have not had a fair chance yet."""

import math
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator
from sqlalchemy import JSON, Column
from sqlmodel import Field as TableField

from models.ai import AIResult
from processes.kit.answers import CONFIDENCE_HELP, Answer
from processes.kit.definition import DefaultPolicy, ProcessDefinition
from processes.kit.models import (
    BusinessRow,
    InputPart,
    ProcessInput,
    Proposal,
    input_of,
    repeated,
)
from processes.kit.rules import rules_result

# --- input -------------------------------------------------------------------------------

_MAX_MONEY = 1e12
_MAX_COUNT = 1e12


class ChannelStats(InputPart):
    name: str = Field(min_length=1, max_length=100)
    spend: float = Field(ge=0, le=_MAX_MONEY)
    clicks: float = Field(ge=0, le=_MAX_COUNT)
    conversions: float = Field(ge=0, le=_MAX_COUNT)
    revenue: float = Field(ge=0, le=_MAX_MONEY)


class CampaignTuningInput(ProcessInput):
    campaign_id: str = Field(min_length=1, max_length=200)
    total_budget: float = Field(gt=0, le=_MAX_MONEY)
    channels: list[ChannelStats] = Field(min_length=1, max_length=20)

    @field_validator("channels")
    @classmethod
    def _names_unique(cls, channels: list[ChannelStats]) -> list[ChannelStats]:
        # Budgets are keyed by channel name: two channels with one name cannot both get one.
        twice = repeated(c.name for c in channels)
        if twice:
            raise ValueError(f"channel names must be unique; repeated: {twice}")
        return channels

    def subject(self) -> str:
        return f"campaign {self.campaign_id}, budget {self.total_budget:,.2f}"


# --- proposal ----------------------------------------------------------------------------


class CampaignProposal(Proposal):
    budgets: dict[str, float] = Field(min_length=1, max_length=20)

    @model_validator(mode="after")
    def _within_total(self, info: ValidationInfo) -> "CampaignProposal":
        negative = sorted(name for name, amount in self.budgets.items() if amount < 0)
        if negative:
            raise ValueError(f"budgets must be >= 0: {negative}")
        run_input = input_of(info, CampaignTuningInput)
        if run_input is None:
            return self
        known = {c.name for c in run_input.channels}
        unknown = sorted(set(self.budgets) - known)
        if unknown:
            raise ValueError(f"unknown channels {unknown}; the input has {sorted(known)}")
        total = sum(self.budgets.values())
        if total > run_input.total_budget + 1e-6:
            raise ValueError(
                f"budgets sum to {total:.2f}, above the total budget {run_input.total_budget:.2f}"
            )
        return self


class BudgetLine(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: str
    amount: float


class CampaignTuningAnswer(Answer):
    rationale: str
    # A list, not a map: strict structured output allows no free-form object keys.
    budgets: list[BudgetLine]
    confidence: float = Field(description=CONFIDENCE_HELP)

    @model_validator(mode="after")
    def _channels_once(self) -> "CampaignTuningAnswer":
        twice = repeated(line.channel for line in self.budgets)
        if twice:
            raise ValueError(f"channels listed more than once: {twice}")
        return self

    def to_proposal(self) -> dict[str, Any]:
        budgets = {line.channel: line.amount for line in self.budgets}
        return {"budgets": budgets, "rationale": self.rationale}


# --- the rules model ---------------------------------------------------------------------
# Conversions at which a channel's own rate counts as much as the pooled rate.
_SHRINK_CONVERSIONS = 20.0
# Below these a channel has not had a fair chance: it keeps a floor instead of being starved.
_LOW_DATA_CONVERSIONS = 10.0
_LOW_DATA_CLICKS = 100.0
_FLOOR_SHARE = 0.05
# A channel is well measured at these volumes; conversions weigh more than clicks.
_FULL_CONVERSIONS = 50.0
_FULL_CLICKS = 1000.0
# Top and bottom channels this many standard errors apart separate clearly.
_CLEAR_Z = 2.0
_MAX_CONFIDENCE = 0.97
# Capping keeps every rate and cent count finite, whatever the ratios of the inputs.
_CAP = 1e12
_MIN_SPEND = 0.01
_NO_SIGNAL_CAP = 0.4


@dataclass(frozen=True)
class _Channel:
    name: str
    spend: float
    clicks: float
    conversions: float
    revenue: float


@dataclass(frozen=True)
class _Rated:
    channel: _Channel
    raw: float | None
    smoothed: float
    low_data: bool
    evidence: float


def _merge(channels: list[ChannelStats]) -> list[_Channel]:
    # Names are unique (the input refuses repeats); summing keeps this total all the same.
    merged: dict[str, list[float]] = {}
    for c in channels:
        acc = merged.setdefault(c.name, [0.0, 0.0, 0.0, 0.0])
        for i, value in enumerate((c.spend, c.clicks, c.conversions, c.revenue)):
            acc[i] += min(value, _CAP)
    out = []
    for name, (spend, clicks, conversions, revenue) in merged.items():
        # Sub-cent spend is noise, and dividing by it would make rates overflow.
        spend = 0.0 if spend < _MIN_SPEND else min(spend, _CAP)
        out.append(
            _Channel(name, spend, min(clicks, _CAP), min(conversions, _CAP), min(revenue, _CAP))
        )
    return out


def _evidence(c: _Channel) -> float:
    return 0.7 * min(1.0, c.conversions / _FULL_CONVERSIONS) + 0.3 * min(
        1.0, c.clicks / _FULL_CLICKS
    )


def _rate(channels: list[_Channel]) -> tuple[str, list[_Rated]] | None:
    """Smoothed value per unit of spend, or ``None`` when nothing measures performance."""
    total_spend = sum(c.spend for c in channels)
    if sum(c.revenue for c in channels) > 0:
        metric, value = "ROAS", (lambda c: c.revenue)
    elif sum(c.conversions for c in channels) > 0:
        metric, value = "conversions per unit spend", (lambda c: c.conversions)
    else:
        return None
    if total_spend <= 0:
        return None
    pooled = sum(value(c) for c in channels) / total_spend
    rated = []
    for c in channels:
        low = c.conversions < _LOW_DATA_CONVERSIONS or c.clicks < _LOW_DATA_CLICKS
        if c.spend > 0:
            raw = value(c) / c.spend
            weight = c.conversions / (c.conversions + _SHRINK_CONVERSIONS)
            smoothed = weight * raw + (1 - weight) * pooled
        else:
            raw, smoothed = None, pooled
        rated.append(_Rated(c, raw, smoothed, low, _evidence(c)))
    return metric, rated


def _shares(scores: list[float], low_data: list[bool]) -> list[float]:
    """Proportional to score; low-data channels never fall below the floor."""
    n = len(scores)
    floor = min(_FLOOR_SHARE, 0.5 / n)
    floored: set[int] = set()
    while True:
        free = [i for i in range(n) if i not in floored]
        remaining = 1.0 - floor * len(floored)
        free_total = sum(scores[i] for i in free)
        shares = [floor] * n
        for i in free:
            shares[i] = remaining * (scores[i] / free_total if free_total > 0 else 1 / len(free))
        # Floors sum to at most half the budget, so some channel always stays free.
        newly = {i for i in free if low_data[i] and shares[i] < floor}
        if not newly:
            return shares
        floored |= newly


def _to_cents(total_budget: float, shares: list[float]) -> list[int]:
    """Largest-remainder rounding in whole cents, never above the total budget."""
    total_cents = math.floor(total_budget * 100 + 1e-9)
    while total_cents > 0 and total_cents / 100 > total_budget:
        total_cents -= 1
    raw = [share * total_cents for share in shares]
    cents = [math.floor(r) for r in raw]
    leftover = max(0, total_cents - sum(cents))
    order = sorted(range(len(raw)), key=lambda i: (-(raw[i] - cents[i]), i))
    for i in order[:leftover]:
        cents[i] += 1
    return cents


def _separation(rated: list[_Rated]) -> tuple[float, _Rated, _Rated]:
    """Standard errors between the best and worst channel (Poisson on conversions)."""
    ordered = sorted(rated, key=lambda r: (-r.smoothed, r.channel.name))
    top, bottom = ordered[0], ordered[-1]
    se_top = top.smoothed / math.sqrt(max(top.channel.conversions, 1.0))
    se_bottom = bottom.smoothed / math.sqrt(max(bottom.channel.conversions, 1.0))
    spread = math.hypot(se_top, se_bottom)
    z = (top.smoothed - bottom.smoothed) / spread if spread > 0 else 0.0
    return z, top, bottom


def tune_campaign(inp: CampaignTuningInput) -> AIResult:
    channels = _merge(inp.channels)
    rating = _rate(channels)
    data = sum(_evidence(c) for c in channels) / len(channels)
    data_term = 0.3 + 0.7 * data
    if rating is None:
        shares = [1 / len(channels)] * len(channels)
        confidence = min(_NO_SIGNAL_CAP, 0.4 * data_term)
        why = "no spend with measurable return yet, so the budget is split evenly"
        signals = {"data_evidence": data, "data_term": data_term}
        lines: list[str] = []
    else:
        metric, rated = rating
        # Score = spend x smoothed rate, the channel's smoothed return: budgets move from the
        # current mix toward what performs. By rate alone the budget would pour into a tiny
        # channel whose high ROAS will not survive a tenfold spend.
        returns = [r.channel.spend * r.smoothed for r in rated]
        shares = _shares(returns, [r.low_data for r in rated])
        z, top, bottom = _separation(rated)
        sep_term = 1.0 if len(rated) == 1 else 0.6 + 0.4 * min(1.0, z / _CLEAR_Z)
        confidence = min(_MAX_CONFIDENCE, data_term * sep_term)
        why = (
            f"budget follows smoothed return, spend x smoothed {metric} (each channel's own "
            f"rate shrunk toward the pooled rate until it has ~{_SHRINK_CONVERSIONS:g} "
            f"conversions), so strong channels grow and weak ones shrink; channels with "
            f"under {_LOW_DATA_CONVERSIONS:g} conversions or {_LOW_DATA_CLICKS:g} clicks keep "
            f"a floor of {min(_FLOOR_SHARE, 0.5 / len(rated)):.1%}"
        )
        if len(rated) > 1:
            why += (
                f"; {top.channel.name} and {bottom.channel.name} are {z:.1f} standard errors apart"
            )
        signals = {
            "data_evidence": data,
            "data_term": data_term,
            "separation_z": z,
            "separation_term": sep_term,
            "low_data_channels": sum(r.low_data for r in rated),
        }
        lines = [_line(r, metric) for r in rated]

    cents = _to_cents(min(inp.total_budget, _CAP), shares)
    budgets = {c.name: cents[i] / 100 for i, c in enumerate(channels)}
    signals.update(
        total_clicks=sum(c.clicks for c in channels),
        total_conversions=sum(c.conversions for c in channels),
        total_spend=sum(c.spend for c in channels),
    )
    allocation = ", ".join(f"{name} {amount:,.2f}" for name, amount in budgets.items())
    detail = f" Channels: {'; '.join(lines)}." if lines else ""
    rationale = (
        f"Reallocated {sum(cents) / 100:,.2f} of {inp.total_budget:,.2f}: {allocation}. "
        f"Rule: {why}.{detail} Confidence {confidence:.2f}: data evidence {data:.2f} "
        f"(>= {_FULL_CONVERSIONS:g} conversions and {_FULL_CLICKS:g} clicks per channel is "
        "full)."
    )
    proposal = {"budgets": budgets, "rationale": rationale}
    return rules_result(CampaignProposal, inp, proposal, confidence, signals)


def _line(r: _Rated, metric: str) -> str:
    c = r.channel
    cvr = f"{c.conversions / c.clicks:.1%}" if c.clicks > 0 else "n/a"
    raw = f"{r.raw:.2f}" if r.raw is not None else "n/a"
    low = ", little data" if r.low_data else ""
    return f"{c.name} {metric} {raw} (smoothed {r.smoothed:.2f}), conversion rate {cvr}{low}"


# --- apply -------------------------------------------------------------------------------


class CampaignChangeRow(BusinessRow, table=True):
    __tablename__ = "campaign_changes"

    campaign_id: str
    total_budget: float
    budgets: dict[str, float] = TableField(sa_column=Column(JSON, nullable=False))


def apply_campaign(run_input: CampaignTuningInput, proposal: dict[str, Any]) -> dict[str, Any]:
    return {
        "campaign_id": run_input.campaign_id,
        "total_budget": run_input.total_budget,
        "budgets": proposal["budgets"],
    }


DEFINITION = ProcessDefinition(
    name="campaign_tuning",
    aliases=("campaign_optimization",),
    input_model=CampaignTuningInput,
    proposal_model=CampaignProposal,
    rules=tune_campaign,
    answer_model=CampaignTuningAnswer,
    table=CampaignChangeRow,
    apply=apply_campaign,
    default_policy=DefaultPolicy(hitl_enabled=False, confidence_threshold=0.75),
    examples={
        "confident": {
            "campaign_id": "spring-launch-2025",
            "total_budget": 25000,
            "channels": [
                {
                    "name": "google_search",
                    "spend": 9800,
                    "clicks": 14200,
                    "conversions": 412,
                    "revenue": 48900,
                },
                {
                    "name": "meta_ads",
                    "spend": 7200,
                    "clicks": 21800,
                    "conversions": 198,
                    "revenue": 17300,
                },
                {
                    "name": "linkedin",
                    "spend": 4100,
                    "clicks": 2650,
                    "conversions": 64,
                    "revenue": 6900,
                },
                {
                    "name": "email",
                    "spend": 900,
                    "clicks": 5100,
                    "conversions": 151,
                    "revenue": 12800,
                },
            ],
        },
        "unsure": {
            "campaign_id": "podcast-pilot-q3",
            "total_budget": 6000,
            "channels": [
                {
                    "name": "podcast_ads",
                    "spend": 1200,
                    "clicks": 85,
                    "conversions": 3,
                    "revenue": 420,
                },
                {"name": "reddit", "spend": 650, "clicks": 240, "conversions": 5, "revenue": 380},
                {"name": "tiktok", "spend": 800, "clicks": 610, "conversions": 7, "revenue": 510},
            ],
        },
    },
    propose_activity="tune_campaign",
    apply_activity="apply_campaign",
)
