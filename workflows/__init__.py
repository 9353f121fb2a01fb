"""The process workflows, one per file.

The names load lazily (PEP 562): the workflow sandbox re-imports a workflow's package for
every run it starts, and importing all four workflows (and their decorators) each time
was about a tenth of the worker's CPU on the auto path (docs/PERFORMANCE.md). A run now
imports only its own.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from workflows.campaign_tuning_workflow import CampaignTuningWorkflow
    from workflows.content_generation_workflow import ContentGenerationWorkflow
    from workflows.lead_scoring_workflow import LeadScoringWorkflow
    from workflows.product_sourcing_workflow import ProductSourcingWorkflow

    PROCESS_WORKFLOWS: tuple[
        type[LeadScoringWorkflow],
        type[ProductSourcingWorkflow],
        type[CampaignTuningWorkflow],
        type[ContentGenerationWorkflow],
    ]

_MODULES = {
    "LeadScoringWorkflow": "workflows.lead_scoring_workflow",
    "ProductSourcingWorkflow": "workflows.product_sourcing_workflow",
    "CampaignTuningWorkflow": "workflows.campaign_tuning_workflow",
    "ContentGenerationWorkflow": "workflows.content_generation_workflow",
}


def __getattr__(name: str) -> Any:
    if name == "PROCESS_WORKFLOWS":
        value: Any = tuple(__getattr__(n) for n in _MODULES)
    elif name in _MODULES:
        value = getattr(import_module(_MODULES[name]), name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


__all__ = [
    "PROCESS_WORKFLOWS",
    "CampaignTuningWorkflow",
    "ContentGenerationWorkflow",
    "LeadScoringWorkflow",
    "ProductSourcingWorkflow",
]
