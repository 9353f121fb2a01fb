from workflows.campaign_tuning_workflow import CampaignTuningWorkflow
from workflows.content_generation_workflow import ContentGenerationWorkflow
from workflows.lead_scoring_workflow import LeadScoringWorkflow
from workflows.product_sourcing_workflow import ProductSourcingWorkflow

PROCESS_WORKFLOWS = (
    LeadScoringWorkflow,
    ProductSourcingWorkflow,
    CampaignTuningWorkflow,
    ContentGenerationWorkflow,
)

__all__ = [
    "PROCESS_WORKFLOWS",
    "CampaignTuningWorkflow",
    "ContentGenerationWorkflow",
    "LeadScoringWorkflow",
    "ProductSourcingWorkflow",
]
