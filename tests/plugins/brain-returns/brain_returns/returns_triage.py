"""Returns triage: the AI settles a return request (refund, replace or reject); support
confirms when unsure, and finance looks too when a refund is large.

A process outside Brain's tree, built from Brain's kit like Brain's own: its prompt and its
Alembic revisions are in this package, named by the definition (``prompts``,
``migrations``), and ``pyproject.toml`` registers it in the entry-point group
``brain.processes``.
"""

from typing import Any, Literal

from pydantic import Field, ValidationInfo, model_validator

from models.ai import AIResult
from processes.kit.answers import CONFIDENCE_HELP, Answer
from processes.kit.definition import DefaultPolicy, ProcessDefinition
from processes.kit.gates import Gate, amount_over
from processes.kit.models import BusinessRow, ProcessInput, Proposal, input_of
from processes.kit.rules import rules_result

# --- input -------------------------------------------------------------------------------

Reason = Literal["damaged", "wrong_item", "not_as_described", "changed_mind"]


class ReturnRequest(ProcessInput):
    order_id: str = Field(min_length=1, max_length=64)
    product: str = Field(min_length=1, max_length=200)
    price: float = Field(gt=0, le=1e6)
    days_since_delivery: int = Field(ge=0, le=3650)
    reason: Reason
    returns_last_year: int = Field(0, ge=0, le=1000)

    def subject(self) -> str:
        return f"return of {self.product} (order {self.order_id}): {self.reason}"


# --- proposal ----------------------------------------------------------------------------

Resolution = Literal["refund", "replace", "reject"]


class ReturnProposal(Proposal):
    resolution: Resolution
    refund_amount: float = Field(ge=0)

    @model_validator(mode="after")
    def _amount_fits(self, info: ValidationInfo) -> "ReturnProposal":
        request = input_of(info, ReturnRequest)
        if self.resolution != "refund" and self.refund_amount != 0:
            raise ValueError(f"a {self.resolution} refunds nothing: refund_amount must be 0")
        if request is not None and self.refund_amount > request.price:
            raise ValueError(f"refund_amount exceeds the price paid ({request.price:g})")
        return self


class ReturnAnswer(Answer):
    rationale: str
    resolution: str
    refund_amount: float
    confidence: float = Field(description=CONFIDENCE_HELP)


# --- the rules model ---------------------------------------------------------------------
_FAULT_DAYS, _MIND_DAYS = 30, 14
# Each return in the last year makes a change of mind a little less believable.
_PER_RETURN = 0.08


def triage(request: ReturnRequest) -> AIResult:
    days, fault = request.days_since_delivery, request.reason != "changed_mind"
    limit = _FAULT_DAYS if fault else _MIND_DAYS
    if days > limit:
        resolution, amount = "reject", 0.0
        why = f"{days} days after delivery, past the {limit}-day limit for {request.reason}"
    elif request.reason == "wrong_item":
        resolution, amount = "replace", 0.0
        why = f"the wrong item was sent; replaced within {limit} days"
    else:
        resolution, amount = "refund", request.price
        why = f"{request.reason} within {limit} days: the price paid back"
    # Sure when far from the limit and the customer rarely returns things.
    margin = abs(limit - days) / limit
    confidence = (0.7 + 0.28 * min(1.0, margin)) if fault else 0.5 + 0.3 * margin
    confidence -= _PER_RETURN * request.returns_last_year
    data = {"resolution": resolution, "refund_amount": amount, "rationale": f"{why}."}
    signals: dict[str, float] = {
        "days": days,
        "limit": limit,
        "returns_last_year": request.returns_last_year,
    }
    return rules_result(ReturnProposal, request, data, confidence, signals)


# --- apply -------------------------------------------------------------------------------


class ReturnDecisionRow(BusinessRow, table=True):
    __tablename__ = "return_decisions"

    order_id: str
    resolution: str
    refund_amount: float


def apply_return(request: ReturnRequest, proposal: dict[str, Any]) -> dict[str, Any]:
    return {
        "order_id": request.order_id,
        "resolution": proposal["resolution"],
        "refund_amount": proposal["refund_amount"],
    }


DEFINITION = ProcessDefinition(
    name="returns_triage",
    input_model=ReturnRequest,
    proposal_model=ReturnProposal,
    rules=triage,
    answer_model=ReturnAnswer,
    table=ReturnDecisionRow,
    apply=apply_return,
    default_policy=DefaultPolicy(hitl_enabled=False, confidence_threshold=0.8),
    # Support settles the return; finance looks too when the refund is over its amount.
    gates=(
        Gate(name="support"),
        Gate(
            name="finance",
            when=amount_over("refund_amount"),
            condition="the refund exceeds the finance policy's amount_over",
            hitl_by_default=True,
        ),
    ),
    examples={
        "confident": {
            "order_id": "A-1001",
            "product": "Espresso machine",
            "price": 249.0,
            "days_since_delivery": 3,
            "reason": "damaged",
        },
        "unsure": {
            "order_id": "A-1002",
            "product": "Rain jacket",
            "price": 89.0,
            "days_since_delivery": 11,
            "reason": "changed_mind",
            "returns_last_year": 2,
        },
    },
    prompts="brain_returns.prompts",
    migrations="brain_returns.migrations",
)
