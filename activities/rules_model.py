"""The embedded default model: each process's explainable rules, offline and deterministic."""

from typing import Any

from pydantic import BaseModel

from models.ai import AIResult
from models.processes import Process
from processes import registry
from processes.kit.rules import RULES_MODEL_NAME


class RulesModel:
    """Same interface as the LLM-backed model, so the AI step can use either."""

    name = RULES_MODEL_NAME

    async def propose(self, process: Process, run_input: BaseModel | dict[str, Any]) -> AIResult:
        definition = registry.definition(process)
        # Inputs that crossed a Temporal boundary may arrive as another model or a dict.
        return definition.rules(definition.parse_input(run_input))
