"""The AI step of each process, backed by whichever model provider is configured."""

from typing import Protocol

from pydantic import BaseModel
from temporalio import activity

from models.ai import AIResult
from models.inputs import (
    CampaignTuningInput,
    ContentGenerationInput,
    LeadScoringInput,
    ProductSourcingInput,
)
from models.processes import Process


class ModelProvider(Protocol):
    @property
    def name(self) -> str: ...

    async def propose(self, process: Process, run_input: BaseModel) -> AIResult: ...


class AIActivities:
    def __init__(self, provider: ModelProvider) -> None:
        self._provider = provider

    @activity.defn
    async def score_lead(self, run_input: LeadScoringInput) -> AIResult:
        return await self._provider.propose(Process.LEAD_SCORING, run_input)

    @activity.defn
    async def source_product(self, run_input: ProductSourcingInput) -> AIResult:
        return await self._provider.propose(Process.PRODUCT_SOURCING, run_input)

    @activity.defn
    async def tune_campaign(self, run_input: CampaignTuningInput) -> AIResult:
        return await self._provider.propose(Process.CAMPAIGN_TUNING, run_input)

    @activity.defn
    async def generate_content(self, run_input: ContentGenerationInput) -> AIResult:
        return await self._provider.propose(Process.CONTENT_GENERATION, run_input)
