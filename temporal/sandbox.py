"""The workflow sandbox, configured once for every worker."""

from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

# pydantic imports email_validator lazily, the first time an ``EmailStr`` is validated;
# inside the sandbox that would re-import it on every run. prometheus_client (the gate's
# metrics, recorded by activities only) subclasses a urllib handler at import, which the
# sandbox forbids: a module that imports the activities must still load there.
#
# ``hitl`` (the gate, written once for every process) is imported once per worker instead of
# once per run: re-importing it into each new sandbox was about a tenth of the worker's CPU
# on the auto path, and each cached run held its own copy of the modules (worker RSS with
# 5,000 parked: 359 MB before, 285 MB after; docs/PERFORMANCE.md). The price: the sandbox
# no longer stops a non-deterministic call made from the gate's own code at run time.
# The gate keeps no module state, calls only ``workflow.*`` for time and randomness, and
# its determinism is checked by replaying recorded histories (tests/workflows/test_replay.py,
# ``brain replay-check``). The process workflows themselves stay sandboxed.
WORKFLOW_RUNNER = SandboxedWorkflowRunner(
    restrictions=SandboxRestrictions.default.with_passthrough_modules(
        "email_validator", "idna", "prometheus_client", "hitl"
    )
)
