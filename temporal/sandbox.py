"""The workflow sandbox, configured once for every worker."""

from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

# pydantic imports email_validator lazily, the first time an ``EmailStr`` is validated;
# inside the sandbox that would re-import it on every run. prometheus_client (the gate's
# metrics, recorded by activities only) subclasses a urllib handler at import, which the
# sandbox forbids: a module that imports the activities must still load there.
WORKFLOW_RUNNER = SandboxedWorkflowRunner(
    restrictions=SandboxRestrictions.default.with_passthrough_modules(
        "email_validator", "idna", "prometheus_client", "hitl"
    )
)
