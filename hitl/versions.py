"""Which shape of the gate a run takes (PATCHES.md explains each id).

A run started by Brain carries ``gate_version`` in its start; a run started from outside
Brain, or before that field existed, asks ``workflow.patched``, so runs recorded before keep
replaying the path they ran.
"""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.workflow_io import ProcessStart

GATE_V3 = "gate-v3-audit-after-commit"
GATE_V4 = "gate-v4"
CONFIDENCE_EARLY = "confidence-searchable-early"
POLICY_AUDIT_ON_APPLY = "policy-release-audit-on-apply"


def gate_version(start: ProcessStart) -> int:
    """2: before gate-v3; 3: audit after commit; 4: the current shape. Runs started by Brain
    carry it; any other run asks its patch markers (a new one records the newest)."""
    if start.gate_version:
        return start.gate_version
    if workflow.patched(GATE_V4):
        return 4
    return 3 if workflow.patched(GATE_V3) else 2
