"""What an OpenAI-compatible model is asked to answer for each process (structured output).

Loose on purpose: strict structured output rejects most JSON-schema constraints, and the
proposal models validate every value against the run's input afterwards. The rationale
comes first so the model reasons before it decides; confidence comes last.
"""

from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from models.processes import Process

_CONFIDENCE = "0..1: the probability that a careful reviewer accepts this answer unchanged"


class Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    if TYPE_CHECKING:
        # Declared by each subclass, last, so the model states it after deciding.
        confidence: float

    def to_proposal(self) -> dict[str, Any]:
        return self.model_dump(exclude={"confidence"})


class LeadScoringAnswer(Answer):
    rationale: str
    score: int
    tier: Literal["hot", "warm", "cold"]
    confidence: float = Field(description=_CONFIDENCE)


class ProductSourcingAnswer(Answer):
    rationale: str
    supplier: str
    unit_price: float
    total_cost: float
    confidence: float = Field(description=_CONFIDENCE)


class BudgetLine(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: str
    amount: float


class CampaignTuningAnswer(Answer):
    rationale: str
    # A list, not a map: strict structured output allows no free-form object keys.
    budgets: list[BudgetLine]
    confidence: float = Field(description=_CONFIDENCE)

    @model_validator(mode="after")
    def _channels_once(self) -> "CampaignTuningAnswer":
        names = [line.channel for line in self.budgets]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"channels listed more than once: {twice}")
        return self

    def to_proposal(self) -> dict[str, Any]:
        budgets = {line.channel: line.amount for line in self.budgets}
        return {"budgets": budgets, "rationale": self.rationale}


class ContentGenerationAnswer(Answer):
    rationale: str
    title: str
    body: str
    confidence: float = Field(description=_CONFIDENCE)


ANSWER_MODELS: dict[Process, type[Answer]] = {
    Process.LEAD_SCORING: LeadScoringAnswer,
    Process.PRODUCT_SOURCING: ProductSourcingAnswer,
    Process.CAMPAIGN_TUNING: CampaignTuningAnswer,
    Process.CONTENT_GENERATION: ContentGenerationAnswer,
}
