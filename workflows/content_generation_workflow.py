"""Content generation: the AI drafts content from a brief; it is published once approved."""

from temporalio import workflow

from hitl.gate import GatedWorkflow

with workflow.unsafe.imports_passed_through():
    from activities.ai import AIActivities
    from activities.apply import ApplyActivities
    from models.processes import Process
    from models.workflow_io import ContentGenerationStart, ProcessResult


@workflow.defn
class ContentGenerationWorkflow(GatedWorkflow):
    process = Process.CONTENT_GENERATION

    @workflow.run
    async def run(self, start: ContentGenerationStart) -> ProcessResult:
        return await self.run_process(
            start, propose=AIActivities.generate_content, apply=ApplyActivities.apply_content
        )
