"""Lead scoring: the AI scores a lead; a person confirms when unsure; the lead is routed by
tier."""

from temporalio import workflow

from hitl.gate import GatedWorkflow

with workflow.unsafe.imports_passed_through():
    from activities.ai import AIActivities
    from activities.apply import ApplyActivities
    from models.processes import Process
    from models.workflow_io import LeadScoringStart, ProcessResult


@workflow.defn
class LeadScoringWorkflow(GatedWorkflow):
    process = Process.LEAD_SCORING

    @workflow.run
    async def run(self, start: LeadScoringStart) -> ProcessResult:
        return await self.run_process(
            start, propose=AIActivities.score_lead, apply=ApplyActivities.apply_lead
        )
