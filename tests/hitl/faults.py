"""Injected faults for the audit tests: a workflow task that fails right after a decision was
taken, so the server discards it and the worker tries again."""

from dataclasses import dataclass
from typing import Any

from temporalio import workflow
from temporalio.worker import (
    ExecuteWorkflowInput,
    HandleUpdateInput,
    Interceptor,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
)


@dataclass
class Plan:
    """How many decision tasks still fail (one worker process, shared by every sandbox)."""

    failures_left: int = 0
    failed: int = 0


PLAN = Plan()


class _FailAfterDecision(WorkflowInboundInterceptor):
    async def execute_workflow(self, input: ExecuteWorkflowInput) -> Any:
        return await super().execute_workflow(input)

    async def handle_update_handler(self, input: HandleUpdateInput) -> Any:
        result = await super().handle_update_handler(input)
        if PLAN.failures_left > 0 and not workflow.unsafe.is_replaying():
            PLAN.failures_left -= 1
            PLAN.failed += 1
            # Not an ApplicationError: the SDK fails the whole workflow task, which the
            # server then discards along with the decision it took.
            raise RuntimeError("injected: the decision's workflow task fails")
        return result


class FailDecisionTasks(Interceptor):
    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[WorkflowInboundInterceptor]:
        return _FailAfterDecision
