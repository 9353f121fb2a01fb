"""Lead scoring: the AI scores a lead; a person confirms when unsure; the lead is routed by tier."""

from typing import Any

from temporalio import workflow

from hitl.gate import GatedWorkflow

with workflow.unsafe.imports_passed_through():
    from activities.ai import AIActivities
    from activities.apply import ApplyActivities
    from models.ai import AIResult
    from models.processes import Process
    from models.workflow_io import LeadScoringStart, ProcessResult
    from temporal.search_attributes import BRAIN_CONFIDENCE, BRAIN_PROCESS

# Runs started before this change have no upsert after the AI step; ``workflow.patched``
# keeps them replaying (tests/histories/lead_scoring_*.json record both shapes).
CONFIDENCE_EARLY = "lead-confidence-searchable-early"


@workflow.defn
class LeadScoringWorkflow(GatedWorkflow):
    process = Process.LEAD_SCORING

    @workflow.run
    async def run(self, start: LeadScoringStart) -> ProcessResult:
        return await self.run_process(
            start, propose=AIActivities.score_lead, apply=ApplyActivities.apply_lead
        )

    async def _propose(self, propose: Any) -> AIResult:
        scored = await super()._propose(propose)
        # Sales searches leads by confidence (BrainConfidence) as soon as they are scored,
        # not only once a lead parks or completes: autonomous runs never park.
        started_by_brain = workflow.info().typed_search_attributes.get(BRAIN_PROCESS) is not None
        if workflow.patched(CONFIDENCE_EARLY) and started_by_brain:
            workflow.upsert_search_attributes([BRAIN_CONFIDENCE.value_set(scored.confidence)])
        return scored
