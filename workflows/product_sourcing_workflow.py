"""Product sourcing: the AI picks a supplier; a person confirms; a purchase-order draft is
written."""

from temporalio import workflow

from hitl.gate import GatedWorkflow

with workflow.unsafe.imports_passed_through():
    from activities.ai import AIActivities
    from activities.apply import ApplyActivities
    from models.processes import Process
    from models.workflow_io import ProcessResult, ProductSourcingStart


@workflow.defn
class ProductSourcingWorkflow(GatedWorkflow):
    process = Process.PRODUCT_SOURCING

    @workflow.run
    async def run(self, start: ProductSourcingStart) -> ProcessResult:
        return await self.run_process(
            start, propose=AIActivities.source_product, apply=ApplyActivities.apply_sourcing
        )
