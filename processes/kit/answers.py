"""What an OpenAI-compatible model is asked to answer (structured output), per process.

Loose on purpose: strict structured output rejects most JSON-schema constraints, and the
proposal model validates every value against the run's input afterwards. The rationale
comes first so the model reasons before it decides; ``confidence`` comes last.
"""

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

CONFIDENCE_HELP = "0..1: the probability that a careful reviewer accepts this answer unchanged"


class Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    if TYPE_CHECKING:
        # Declared by each subclass, last, so the model states it after deciding.
        confidence: float

    def to_proposal(self) -> dict[str, Any]:
        return self.model_dump(exclude={"confidence"})
