"""The embedded default model: explainable rules, offline and deterministic."""

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from activities.rules._common import RULES_MODEL_NAME
from activities.rules.campaign import tune_campaign
from activities.rules.content import generate_content
from activities.rules.lead import score_lead
from activities.rules.sourcing import source_product
from models.ai import AIResult
from models.processes import Process
from models.proposals import INPUT_MODELS

_RULES: dict[Process, Callable[[Any], AIResult]] = {
    Process.LEAD_SCORING: score_lead,
    Process.PRODUCT_SOURCING: source_product,
    Process.CAMPAIGN_TUNING: tune_campaign,
    Process.CONTENT_GENERATION: generate_content,
}


class RulesModel:
    """Same interface as the LLM-backed model, so the AI step can use either."""

    name = RULES_MODEL_NAME

    async def propose(self, process: Process, run_input: BaseModel) -> AIResult:
        process = Process(process)
        kind = INPUT_MODELS[process]
        # Inputs that crossed a Temporal boundary may arrive as another model or a dict.
        if not isinstance(run_input, kind):
            data = run_input.model_dump() if isinstance(run_input, BaseModel) else run_input
            run_input = kind.model_validate(data)
        return _RULES[process](run_input)
