"""Client success stories: the AI drafts a testimonial; a person approves it before it is
ready to publish. Everything about the process is in ``processes/testimonial_generation.py``."""

from temporalio import workflow

from hitl.gate import GatedWorkflow

with workflow.unsafe.imports_passed_through():
    from models.workflow_io import ProcessResult, ProcessStart
    from processes.testimonial_generation import DEFINITION


@workflow.defn
class TestimonialGenerationWorkflow(GatedWorkflow):
    definition = DEFINITION

    @workflow.run
    async def run(self, start: ProcessStart) -> ProcessResult:
        return await self.run_process(start)
