"""Workflow inputs and results, the same for every process workflow."""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from models.hitl import Decision
from models.processes import Process, RunState


class ProcessStart(BaseModel):
    """What a process workflow starts with. ``input`` is validated by the gate against the
    process's input model, so a start from outside Brain with a bad input (say, from the
    Temporal CLI) fails the run with the fields named instead of failing every workflow task
    while decoding; every field has a default for the same reason."""

    model_config = ConfigDict(extra="ignore")

    tenant: str = ""
    requested_by: str = ""
    input: dict[str, Any] = Field(default_factory=dict)
    # The shape of the gate the run was started for (hitl/PATCHES.md): carried in the start,
    # so a run started by Brain needs no patch marker (nor its search-attribute write) to
    # know it. 0: started before this field, or from outside Brain.
    gate_version: int = 0
    # How the run compares subjects (core/identity.py), fixed for its whole life.
    subjects_case_sensitive: bool = False
    # The Temporal address the starter used, for the terminal hints in the run's details
    # (workflow code cannot read settings).
    temporal_address: str = ""

    @model_validator(mode="before")
    @classmethod
    def _whatever_was_sent(cls, data: Any) -> Any:
        """Decoding must not fail: a start that is not an object, or a field of the wrong
        type, is left out, and the gate fails the run naming what is missing."""
        if not isinstance(data, dict):
            return {}
        kinds = {
            "tenant": str,
            "requested_by": str,
            "input": dict,
            "gate_version": int,
            "subjects_case_sensitive": bool,
            "temporal_address": str,
        }
        return {k: v for k, v in data.items() if k not in kinds or isinstance(v, kinds[k])}


# The gate's current shape; ``services.starting`` starts every run with it.
GATE_VERSION = 5


class ProcessResult(BaseModel):
    workflow_id: str
    process: Process
    tenant: str
    state: RunState
    decision: Decision | None = None
    # Every gate's decision, in order, for a process with several (``decision`` is the last).
    decisions: list[Decision] = Field(default_factory=list)
    # What the apply step wrote (the business row), when it ran.
    result: dict[str, Any] | None = None
