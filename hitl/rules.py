"""The pure decision rule (SPEC §2). No I/O: the workflow and the gate's activities both
call it, so the run and its row never disagree about whether a person must look."""

import math

from models.hitl import Policy


def needs_human(policy: Policy, confidence: float | None, needs_review: bool = False) -> bool:
    """A person decides when HITL is on, when the AI is unsure, or when the step needs review.

    A confidence that is missing, NaN or outside 0..1 cannot be trusted, so it needs a human.
    """
    if needs_review or policy.hitl_enabled:
        return True
    if confidence is None or isinstance(confidence, bool):
        return True
    try:
        value = float(confidence)
    except (TypeError, ValueError):
        return True
    if math.isnan(value) or not 0.0 <= value <= 1.0:
        return True
    return value < policy.confidence_threshold
