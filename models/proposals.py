"""What each AI step proposes (SPEC §1), validated against the run's input.

Validation needs the input (a supplier must be one of the input's, budgets must stay
within the total), so models read it from the validation context:
``LeadProposal.model_validate(data, context={"input": run_input})``. Derived fields
are recomputed here, so an edit can never leave them inconsistent.
"""

import contextlib
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, model_validator

from models.inputs import (
    CampaignTuningInput,
    ContentGenerationInput,
    LeadScoringInput,
    ProductSourcingInput,
)
from models.processes import Process


class _Proposal(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rationale: str = Field(min_length=1, max_length=5000)


def _input_of(info: ValidationInfo, kind: type[BaseModel]) -> Any:
    run_input = (info.context or {}).get("input")
    if run_input is not None and not isinstance(run_input, kind):
        run_input = kind.model_validate(run_input)
    return run_input


def tier_for(score: int) -> Literal["hot", "warm", "cold"]:
    if score >= 70:
        return "hot"
    if score >= 40:
        return "warm"
    return "cold"


class LeadProposal(_Proposal):
    score: int = Field(ge=0, le=100)
    tier: Literal["hot", "warm", "cold"]


class SourcingProposal(_Proposal):
    supplier: str = Field(min_length=1)
    unit_price: float = Field(gt=0)
    total_cost: float = Field(gt=0)

    @model_validator(mode="before")
    @classmethod
    def _derive_missing(cls, data: Any, info: ValidationInfo) -> Any:
        # A person who names a supplier (say, approving a step that needs review, which has
        # no proposal to patch) need not type what derives from it.
        run_input: ProductSourcingInput | None = _input_of(info, ProductSourcingInput)
        if run_input is None or not isinstance(data, dict):
            return data
        chosen = next((s for s in run_input.suppliers if s.name == data.get("supplier")), None)
        if chosen is None:
            return data
        derived = {
            "unit_price": chosen.unit_price,
            "total_cost": round(chosen.unit_price * run_input.quantity, 2),
        }
        return {**derived, **data}

    @model_validator(mode="after")
    def _supplier_from_input(self, info: ValidationInfo) -> "SourcingProposal":
        run_input: ProductSourcingInput | None = _input_of(info, ProductSourcingInput)
        if run_input is None:
            return self
        by_name = {s.name: s for s in run_input.suppliers}
        chosen = by_name.get(self.supplier)
        if chosen is None:
            raise ValueError(
                f"supplier {self.supplier!r} is not one of the input's: {sorted(by_name)}"
            )
        # Price and cost derive from the chosen supplier; never trust them as given.
        self.unit_price = chosen.unit_price
        self.total_cost = round(chosen.unit_price * run_input.quantity, 2)
        return self


class CampaignProposal(_Proposal):
    budgets: dict[str, float] = Field(min_length=1)

    @model_validator(mode="after")
    def _within_total(self, info: ValidationInfo) -> "CampaignProposal":
        negative = sorted(name for name, amount in self.budgets.items() if amount < 0)
        if negative:
            raise ValueError(f"budgets must be >= 0: {negative}")
        run_input: CampaignTuningInput | None = _input_of(info, CampaignTuningInput)
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


class ContentProposal(_Proposal):
    title: str = Field(min_length=1, max_length=300)
    body: str = Field(min_length=1, max_length=50_000)


PROPOSAL_MODELS: dict[Process, type[_Proposal]] = {
    Process.LEAD_SCORING: LeadProposal,
    Process.PRODUCT_SOURCING: SourcingProposal,
    Process.CAMPAIGN_TUNING: CampaignProposal,
    Process.CONTENT_GENERATION: ContentProposal,
}

INPUT_MODELS: dict[Process, type[BaseModel]] = {
    Process.LEAD_SCORING: LeadScoringInput,
    Process.PRODUCT_SOURCING: ProductSourcingInput,
    Process.CAMPAIGN_TUNING: CampaignTuningInput,
    Process.CONTENT_GENERATION: ContentGenerationInput,
}


def validate_proposal(process: Process, run_input: BaseModel, data: dict[str, Any]) -> dict:
    """Validate a proposal for ``process`` against ``run_input``; return it normalised.

    Raises ``pydantic.ValidationError`` naming the failing fields.
    """
    model = PROPOSAL_MODELS[process]
    return model.model_validate(data, context={"input": run_input}).model_dump(mode="json")


def apply_edits(
    process: Process,
    run_input: BaseModel,
    original: dict[str, Any] | None,
    edits: dict[str, Any],
) -> dict:
    """Patch ``original`` with ``edits``, recompute derived fields and validate the result."""
    merged = {**(original or {}), **edits}
    if process is Process.LEAD_SCORING and "score" in edits and "tier" not in edits:
        # A bad score is reported by the validation below, with its field name.
        with contextlib.suppress(TypeError, ValueError):
            merged["tier"] = tier_for(int(edits["score"]))
    return validate_proposal(process, run_input, merged)
