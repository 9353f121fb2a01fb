"""Workflow inputs and results: one typed start model per process."""

from typing import Any

from pydantic import BaseModel, Field

from models.hitl import Decision
from models.inputs import (
    CampaignTuningInput,
    ContentGenerationInput,
    LeadScoringInput,
    ProductSourcingInput,
)
from models.processes import Process, RunState


class ProcessStart(BaseModel):
    tenant: str = Field(min_length=1)
    requested_by: str = Field(min_length=1)


class LeadScoringStart(ProcessStart):
    input: LeadScoringInput


class ProductSourcingStart(ProcessStart):
    input: ProductSourcingInput


class CampaignTuningStart(ProcessStart):
    input: CampaignTuningInput


class ContentGenerationStart(ProcessStart):
    input: ContentGenerationInput


START_MODELS: dict[Process, type[ProcessStart]] = {
    Process.LEAD_SCORING: LeadScoringStart,
    Process.PRODUCT_SOURCING: ProductSourcingStart,
    Process.CAMPAIGN_TUNING: CampaignTuningStart,
    Process.CONTENT_GENERATION: ContentGenerationStart,
}


class ProcessResult(BaseModel):
    workflow_id: str
    process: Process
    tenant: str
    state: RunState
    decision: Decision | None = None
    # What the apply step wrote (the business row), when it ran.
    result: dict[str, Any] | None = None
