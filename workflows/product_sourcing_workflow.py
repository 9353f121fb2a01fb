"""Product sourcing: the AI picks a supplier for a purchase-order draft; a person confirms
when unsure. Everything about the process is in ``processes/product_sourcing.py``."""

from temporalio import workflow

from hitl.gate import GatedWorkflow

with workflow.unsafe.imports_passed_through():
    from models.workflow_io import ProcessResult, ProcessStart
    from processes.product_sourcing import DEFINITION


@workflow.defn
class ProductSourcingWorkflow(GatedWorkflow):
    definition = DEFINITION

    @workflow.run
    async def run(self, start: ProcessStart) -> ProcessResult:
        return await self.run_process(start)
