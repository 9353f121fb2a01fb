"""Deterministic, explainable rules: the embedded default "AI" for every process."""

from activities.rules._common import RULES_MODEL_NAME
from activities.rules.model import RulesModel

__all__ = ["RULES_MODEL_NAME", "RulesModel"]
