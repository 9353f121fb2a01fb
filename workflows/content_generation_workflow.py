"""Content generation: the AI drafts a piece from a brief; it is published unless the AI is
unsure. Everything about the process is in ``processes/content_generation.py``."""

from temporalio import workflow

from hitl.gate import GatedWorkflow

with workflow.unsafe.imports_passed_through():
    from models.workflow_io import ProcessResult, ProcessStart
    from processes.content_generation import DEFINITION


@workflow.defn
class ContentGenerationWorkflow(GatedWorkflow):
    definition = DEFINITION

    @workflow.run
    async def run(self, start: ProcessStart) -> ProcessResult:
        return await self.run_process(start)
