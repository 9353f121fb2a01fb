"""Campaign tuning: the AI reallocates a campaign's budget across channels; it proceeds on
its own unless unsure. Everything about the process is in ``processes/campaign_tuning.py``."""

from temporalio import workflow

from hitl.gate import GatedWorkflow

with workflow.unsafe.imports_passed_through():
    from models.workflow_io import ProcessResult, ProcessStart
    from processes.campaign_tuning import DEFINITION


@workflow.defn
class CampaignTuningWorkflow(GatedWorkflow):
    definition = DEFINITION

    @workflow.run
    async def run(self, start: ProcessStart) -> ProcessResult:
        return await self.run_process(start)
