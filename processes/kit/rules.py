"""What the embedded rules models share: their name, and how a result is packaged."""

from typing import Any

from pydantic import BaseModel

from models.ai import AIResult, ModelCall
from processes.kit.edits import validate_proposal
from processes.kit.models import Proposal
from processes.kit.text import clip

RULES_MODEL_NAME = "brain-rules-v1"
PROMPT_VERSION = "rules-v1"

# The proposal models cap ``rationale`` at 5000 characters; inputs with dozens of
# suppliers or keywords could run past it, and an overlong rationale must not turn a
# good proposal into an invalid one.
RATIONALE_LIMIT = 5000


def clamp01(value: float) -> float:
    return min(1.0, max(0.0, value))


def rules_result(
    proposal_model: type[Proposal],
    run_input: BaseModel,
    data: dict[str, Any],
    confidence: float,
    signals: dict[str, float],
) -> AIResult:
    """Validate the proposal against the input and wrap it with its evidence.

    Rounding happens here, once, so the same input always serialises identically.
    """
    rationale = clip(data["rationale"], RATIONALE_LIMIT)
    proposal = validate_proposal(proposal_model, run_input, {**data, "rationale": rationale})
    return AIResult(
        proposal=proposal,
        confidence=round(clamp01(confidence), 4),
        rationale=rationale,
        model=RULES_MODEL_NAME,
        signals={key: round(float(signals[key]), 4) for key in sorted(signals)},
        call=ModelCall(model=RULES_MODEL_NAME, prompt_version=PROMPT_VERSION),
    )
