"""Which shape of the gate a run takes (PATCHES.md explains each id).

A run started by Brain carries ``gate_version`` in its start; a run started from outside
Brain, or before that field existed, asks ``workflow.patched``, so runs recorded before keep
replaying the path they ran.
"""

from dataclasses import dataclass

from temporalio import workflow

from hitl.state import GateState

with workflow.unsafe.imports_passed_through():
    from models.workflow_io import ProcessStart

GATE_V3 = "gate-v3-audit-after-commit"
GATE_V4 = "gate-v4"
CONFIDENCE_EARLY = "confidence-searchable-early"
POLICY_AUDIT_ON_APPLY = "policy-release-audit-on-apply"
# Numbered per policy signal a run receives (``-1``, ``-2``...): a run from before gate 5
# verifies a policy change if it arrived after this code, whatever earlier ones did.
SIGNED_POLICY_CHANGE = "signed-policy-change"


GATE_V5 = "gate-v5"


def gate_version(start: ProcessStart) -> int:
    """2: before gate-v3; 3: audit after commit; 4: the start carries the version; 5: gates
    with names, eligibility and doors, signed internal signals (the current shape). Runs
    started by Brain carry it; any other run asks its patch markers (a new one records the
    newest)."""
    if start.gate_version:
        return start.gate_version
    if workflow.patched(GATE_V5):
        return 5
    if workflow.patched(GATE_V4):
        return 4
    return 3 if workflow.patched(GATE_V3) else 2


def signed_policy_change(s: GateState) -> bool:
    """Whether this policy signal must carry Brain's signature: always from gate 5; for an
    older run, each signal that reached it after the check existed (the ones before replay
    as they ran)."""
    if s.version >= 5:
        return True
    s.policy_signals += 1
    return workflow.patched(f"{SIGNED_POLICY_CHANGE}-{s.policy_signals}")


@dataclass(frozen=True)
class Patch:
    """A path kept for runs started by earlier code (hitl/PATCHES.md): it can go once no
    open run of the gate versions it serves remains (``brain ops patches`` counts them)."""

    id: str
    # The gate versions whose runs take (or may take) the path.
    versions: frozenset[int]
    where: str


PATCHES = (
    Patch(CONFIDENCE_EARLY, frozenset({2, 3}), "hitl/legacy.py _publish_confidence"),
    Patch(POLICY_AUDIT_ON_APPLY, frozenset({2}), "hitl/legacy.py _record_human_decision"),
    Patch(GATE_V3, frozenset({2}), "hitl/legacy.py (local audit steps)"),
    Patch(GATE_V4, frozenset({2, 3}), "hitl/gate.py the unnamed policy_changed handler"),
    Patch(GATE_V5, frozenset({2, 3, 4}), "hitl/legacy.py (one gate, approval id <wid>:1)"),
    Patch(
        f"{SIGNED_POLICY_CHANGE}-<n>",
        frozenset({2, 3, 4}),
        "hitl/versions.py signed_policy_change",
    ),
)
