"""Product sourcing: the AI picks a supplier for a purchase-order draft; a person confirms
when unsure. The rules model filters by the buyer's constraints, scores the rest and
prefers a clear winner."""

from dataclasses import dataclass
from typing import Any

from pydantic import Field, ValidationInfo, field_validator, model_validator

from models.ai import AIResult
from processes.kit.answers import CONFIDENCE_HELP, Answer
from processes.kit.definition import AnswerSignals, DefaultPolicy, ProcessDefinition
from processes.kit.gates import Gate, amount_over
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

_MAX_PRICE = 1e9


class Supplier(InputPart):
    name: str = Field(min_length=1, max_length=200)
    unit_price: float = Field(gt=0, le=_MAX_PRICE)
    lead_time_days: int = Field(ge=0, le=3650)
    rating: float = Field(ge=0, le=5)
    min_order_qty: int = Field(ge=1, le=10**9)


class ProductSourcingInput(ProcessInput):
    product: str = Field(min_length=1, max_length=200)
    quantity: int = Field(ge=1, le=10**9)
    max_unit_price: float | None = Field(None, gt=0, le=_MAX_PRICE)
    needed_by_days: int | None = Field(None, ge=0, le=3650)
    suppliers: list[Supplier] = Field(min_length=1, max_length=50)

    @field_validator("suppliers")
    @classmethod
    def _names_unique(cls, suppliers: list[Supplier]) -> list[Supplier]:
        # A proposal names its supplier: two with one name would make that ambiguous.
        twice = repeated(s.name for s in suppliers)
        if twice:
            raise ValueError(f"supplier names must be unique; repeated: {twice}")
        return suppliers

    def subject(self) -> str:
        return f"{self.quantity} x {self.product}, {len(self.suppliers)} supplier(s)"


# --- proposal ----------------------------------------------------------------------------


class SourcingProposal(Proposal):
    derived = ("unit_price", "total_cost")

    supplier: str = Field(min_length=1, max_length=200)
    unit_price: float = Field(gt=0)
    total_cost: float = Field(gt=0)

    @model_validator(mode="before")
    @classmethod
    def _derive_missing(cls, data: Any, info: ValidationInfo) -> Any:
        # A person who names a supplier (say, approving a step that needs review, which has
        # no proposal to patch) need not type what derives from it.
        run_input = input_of(info, ProductSourcingInput)
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
        run_input = input_of(info, ProductSourcingInput)
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


class ProductSourcingAnswer(Answer):
    rationale: str
    supplier: str
    unit_price: float
    total_cost: float
    confidence: float = Field(description=CONFIDENCE_HELP)


def _answer_checks(_: Any, answer: dict[str, Any], proposal: dict[str, Any]) -> AnswerSignals:
    # Share of derived fields the model computed as the engine does: one that got them
    # wrong misread the input.
    fields = ("unit_price", "total_cost")
    agree = [
        abs(float(answer[f]) - proposal[f]) <= 0.01 * max(abs(proposal[f]), 1.0) for f in fields
    ]
    return {"consistency": sum(agree) / len(agree)}


# --- the rules model ---------------------------------------------------------------------
# Price matters most to a purchase order; rating stands in for quality and reliability.
_W_PRICE, _W_LEAD, _W_RATING = 0.5, 0.2, 0.3
# A score gap this wide between best and runner-up is a clear call.
_CLEAR_MARGIN = 0.15
# With a single eligible supplier there is nothing to beat, which is weaker evidence than
# beating a rival by a wide margin.
_LONE_MARGIN_TERM = 0.85
_GOOD_RATING = 4.5
_MAX_CONFIDENCE = 0.98
_NO_ELIGIBLE_CAP = 0.3
_LISTED = 10


@dataclass(frozen=True)
class _Scored:
    supplier: Supplier
    score: float
    violations: tuple[str, ...]
    severity: float


def _violations(s: Supplier, inp: ProductSourcingInput) -> tuple[tuple[str, ...], float]:
    """Which constraints the supplier breaks, and by how much (relative overshoot)."""
    found: list[str] = []
    severity = 0.0
    if inp.max_unit_price is not None and s.unit_price > inp.max_unit_price:
        found.append(f"unit price {s.unit_price:g} > max {inp.max_unit_price:g}")
        severity += s.unit_price / inp.max_unit_price - 1
    if inp.needed_by_days is not None and s.lead_time_days > inp.needed_by_days:
        found.append(f"lead time {s.lead_time_days} d > needed by {inp.needed_by_days} d")
        severity += (s.lead_time_days - inp.needed_by_days) / (inp.needed_by_days + 1)
    if s.min_order_qty > inp.quantity:
        found.append(f"minimum order {s.min_order_qty} > quantity {inp.quantity}")
        severity += s.min_order_qty / inp.quantity - 1
    return tuple(found), severity


def _score_pool(pool: list[Supplier], inp: ProductSourcingInput) -> list[_Scored]:
    # Relative to the pool: the cheapest and fastest score 1 on their criterion.
    cheapest = min(s.unit_price for s in pool)
    fastest = min(s.lead_time_days for s in pool)
    scored = []
    for s in pool:
        score = (
            _W_PRICE * cheapest / s.unit_price
            + _W_LEAD * (fastest + 1) / (s.lead_time_days + 1)
            + _W_RATING * s.rating / 5
        )
        violations, severity = _violations(s, inp)
        scored.append(_Scored(s, score, violations, severity))
    # Ties resolve by name so the choice never depends on input order.
    return sorted(scored, key=lambda x: (x.severity, -x.score, x.supplier.name))


def _describe(s: Supplier) -> str:
    return f"{s.name} ({s.unit_price:g}/unit, {s.lead_time_days} d, rating {s.rating:g})"


def _excluded_text(excluded: list[_Scored]) -> str:
    if not excluded:
        return ""
    parts = [f"{x.supplier.name} ({'; '.join(x.violations)})" for x in excluded[:_LISTED]]
    more = f" and {len(excluded) - _LISTED} more" if len(excluded) > _LISTED else ""
    return f" Excluded: {', '.join(parts)}{more}."


def source_product(inp: ProductSourcingInput) -> AIResult:
    options = list(inp.suppliers)
    everyone = _score_pool(options, inp)
    eligible_names = {x.supplier.name for x in everyone if not x.violations}
    if not eligible_names:
        return _least_bad(inp, everyone)

    # Re-score among the eligible only: an excluded bargain must not set the price scale.
    ranked = _score_pool([s for s in options if s.name in eligible_names], inp)
    best = ranked[0]
    runner_up = ranked[1] if len(ranked) > 1 else None
    n = len(ranked)
    if runner_up is None:
        margin = 0.0
        margin_term = _LONE_MARGIN_TERM
    else:
        margin = best.score - runner_up.score
        margin_term = 0.5 + 0.5 * min(1.0, margin / _CLEAR_MARGIN)
    count_term = {1: 0.85, 2: 0.93}.get(n, 1.0)
    rating_term = min(1.0, 0.5 + 0.5 * best.supplier.rating / _GOOD_RATING)
    confidence = min(_MAX_CONFIDENCE, margin_term * count_term * rating_term)

    versus = (
        f"runner-up {runner_up.supplier.name} scored {runner_up.score:.3f} (margin {margin:.3f})"
        if runner_up
        else "no other supplier meets the constraints"
    )
    excluded = [x for x in everyone if x.violations]
    rationale = (
        f"Chose {_describe(best.supplier)} with score {best.score:.3f} "
        f"(price {_W_PRICE:g}, lead time {_W_LEAD:g}, rating {_W_RATING:g}) among {n} "
        f"eligible of {len(options)} suppliers; {versus}.{_excluded_text(excluded)} "
        f"Confidence {confidence:.2f}: margin term {margin_term:.2f}, {n} eligible, "
        f"rating {best.supplier.rating:g}."
    )
    signals = {
        "best_score": best.score,
        "runner_up_score": runner_up.score if runner_up else 0.0,
        "score_margin": margin,
        "eligible_suppliers": n,
        "suppliers": len(options),
        "best_rating": best.supplier.rating,
        "margin_term": margin_term,
        "count_term": count_term,
        "rating_term": rating_term,
    }
    return _result(inp, best.supplier, rationale, confidence, signals)


def _least_bad(inp: ProductSourcingInput, everyone: list[_Scored]) -> AIResult:
    """Nobody meets the constraints: propose the smallest breach, with low confidence.

    A person will look because confidence is low; the proposal gives them a starting point.
    """
    pick = everyone[0]
    confidence = _NO_ELIGIBLE_CAP * (pick.supplier.rating / 5) / (1 + pick.severity)
    rationale = (
        f"No supplier meets all constraints. Least-bad option: {_describe(pick.supplier)}, "
        f"which violates: {'; '.join(pick.violations)}.{_excluded_text(everyone[1:])} "
        f"Confidence {confidence:.2f}: every option breaks a constraint, so a person should "
        f"relax one or find another supplier."
    )
    signals = {
        "best_score": pick.score,
        "violation_severity": pick.severity,
        "eligible_suppliers": 0,
        "suppliers": len(everyone),
        "best_rating": pick.supplier.rating,
    }
    return _result(inp, pick.supplier, rationale, confidence, signals)


def _result(
    inp: ProductSourcingInput,
    chosen: Supplier,
    rationale: str,
    confidence: float,
    signals: dict[str, float],
) -> AIResult:
    data = {
        "supplier": chosen.name,
        "unit_price": chosen.unit_price,
        # Unrounded so a tiny price never rounds to a zero cost; validation recomputes it.
        "total_cost": chosen.unit_price * inp.quantity,
        "rationale": rationale,
    }
    return rules_result(SourcingProposal, inp, data, confidence, signals)


# --- apply -------------------------------------------------------------------------------


class PurchaseOrderDraftRow(BusinessRow, table=True):
    __tablename__ = "purchase_order_drafts"

    product: str
    quantity: int
    supplier: str
    unit_price: float
    total_cost: float


def apply_sourcing(run_input: ProductSourcingInput, proposal: dict[str, Any]) -> dict[str, Any]:
    return {
        "product": run_input.product,
        "quantity": run_input.quantity,
        "supplier": proposal["supplier"],
        "unit_price": proposal["unit_price"],
        "total_cost": proposal["total_cost"],
    }


DEFINITION = ProcessDefinition(
    name="product_sourcing",
    input_model=ProductSourcingInput,
    proposal_model=SourcingProposal,
    rules=source_product,
    answer_model=ProductSourcingAnswer,
    answer_checks=_answer_checks,
    table=PurchaseOrderDraftRow,
    apply=apply_sourcing,
    default_policy=DefaultPolicy(hitl_enabled=True, confidence_threshold=0.90),
    # The buyer confirms the supplier; finance looks too when the order is large.
    gates=(
        Gate(name="buyer"),
        Gate(
            name="finance",
            when=amount_over("total_cost"),
            condition="the total cost exceeds the finance policy's amount_over",
            hitl_by_default=True,
        ),
    ),
    examples={
        "confident": {
            "product": "Stainless steel water bottle, 750 ml, powder-coated",
            "quantity": 2000,
            "max_unit_price": 6.5,
            "needed_by_days": 30,
            "suppliers": [
                {
                    "name": "Ningbo Everbright Housewares",
                    "unit_price": 4.1,
                    "lead_time_days": 18,
                    "rating": 4.8,
                    "min_order_qty": 1000,
                },
                {
                    "name": "Shenzhen Hydra Drinkware",
                    "unit_price": 5.2,
                    "lead_time_days": 25,
                    "rating": 4.1,
                    "min_order_qty": 500,
                },
                {
                    "name": "Pacific Bottle Co.",
                    "unit_price": 6.2,
                    "lead_time_days": 12,
                    "rating": 3.9,
                    "min_order_qty": 300,
                },
                {
                    "name": "Yiwu Quickship Trading",
                    "unit_price": 3.6,
                    "lead_time_days": 45,
                    "rating": 3.4,
                    "min_order_qty": 5000,
                },
            ],
        },
        "unsure": {
            "product": "USB-C 65 W GaN wall charger",
            "quantity": 500,
            "max_unit_price": 9.0,
            "needed_by_days": 21,
            "suppliers": [
                {
                    "name": "Dongguan Volt Electronics",
                    "unit_price": 8.4,
                    "lead_time_days": 14,
                    "rating": 4.3,
                    "min_order_qty": 300,
                },
                {
                    "name": "Amperia Components",
                    "unit_price": 8.2,
                    "lead_time_days": 16,
                    "rating": 4.4,
                    "min_order_qty": 200,
                },
                {
                    "name": "ChargeRight Ltd",
                    "unit_price": 11.5,
                    "lead_time_days": 7,
                    "rating": 4.9,
                    "min_order_qty": 100,
                },
            ],
        },
    },
    propose_activity="source_product",
    apply_activity="apply_sourcing",
)
