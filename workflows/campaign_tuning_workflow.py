"""Campaign tuning: the AI reallocates budget across channels; the change is applied once."""

from temporalio import workflow

from hitl.gate import GatedWorkflow

with workflow.unsafe.imports_passed_through():
    from activities.ai import AIActivities
    from activities.apply import ApplyActivities
    from models.processes import Process
    from models.workflow_io import CampaignTuningStart, ProcessResult


@workflow.defn
class CampaignTuningWorkflow(GatedWorkflow):
    process = Process.CAMPAIGN_TUNING

    @workflow.run
    async def run(self, start: CampaignTuningStart) -> ProcessResult:
        return await self.run_process(
            start, propose=AIActivities.tune_campaign, apply=ApplyActivities.apply_campaign
        )
