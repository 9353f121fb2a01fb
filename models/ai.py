"""What an AI step returns, whichever model produced it (SPEC §1)."""

from typing import Any

from pydantic import BaseModel, Field


class ModelCall(BaseModel):
    """Per-step accounting: which model, which prompt, what it cost."""

    model: str
    prompt_version: str | None = None
    tokens_in: int | None = None
    tokens_out: int | None = None
    latency_ms: float | None = None
    attempts: int = 1


class AIResult(BaseModel):
    # ``None`` only when the step needs review: the model refused, failed or answered
    # with something invalid, and a person must supply the proposal.
    proposal: dict[str, Any] | None
    confidence: float = Field(ge=0, le=1)
    rationale: str
    model: str
    needs_review: bool = False
    error: str | None = None
    # Evidence behind the confidence, shown to the approver.
    signals: dict[str, float] = Field(default_factory=dict)
    call: ModelCall | None = None
