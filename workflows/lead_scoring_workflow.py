"""Lead scoring: the AI scores a lead; a person confirms when unsure; the lead is routed by
tier. Everything about the process is in ``processes/lead_scoring.py``."""

from temporalio import workflow

from hitl.gate import GatedWorkflow

with workflow.unsafe.imports_passed_through():
    from models.workflow_io import ProcessResult, ProcessStart
    from processes.lead_scoring import DEFINITION


@workflow.defn
class LeadScoringWorkflow(GatedWorkflow):
    definition = DEFINITION

    @workflow.run
    async def run(self, start: ProcessStart) -> ProcessResult:
        return await self.run_process(start)
