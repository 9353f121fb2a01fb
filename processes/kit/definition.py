"""``ProcessDefinition``: everything that makes a process, declared once, in its module.

The engine derives every registry from the set of definitions (``processes.registry``):
the process names and aliases, the workflow types (``workflows/process_workflow.py``),
the AI and apply activities a worker registers, the API's start routes and filters, the
default policies, the answer schemas of the OpenAI path, the migrations to run.
``processes.kit.completeness.missing_parts`` names the part a definition lacks.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypedDict

from pydantic import BaseModel

from models.ai import AIResult
from models.processes import PROCESS_NAME
from processes.kit.answers import Answer
from processes.kit.edits import apply_edits, validate_proposal
from processes.kit.gates import DEFAULT_GATE, Gate, approval_id, check_gates
from processes.kit.models import BusinessRow, ProcessInput, Proposal
from processes.kit.prompts import BRAIN_PROMPTS, load_prompt


class AnswerSignals(TypedDict, total=False):
    """Evidence the engine can check on a model's answer: fields of
    ``activities.confidence.Evidence``; ``None`` means "not applicable"."""

    consistency: float | None
    length_ratio: float | None
    keyword_coverage: float | None


# (run input, the model's raw answer, the validated proposal) -> evidence.
AnswerChecks = Callable[[Any, dict[str, Any], dict[str, Any]], AnswerSignals]


@dataclass(frozen=True, kw_only=True)
class DefaultPolicy:
    """The global policy row a process starts with (SPEC §1)."""

    hitl_enabled: bool
    confidence_threshold: float


@dataclass(frozen=True, kw_only=True)
class ProcessDefinition:
    # The API name, e.g. ``lead_scoring``; seed aliases are accepted wherever it is.
    name: str
    input_model: type[ProcessInput]
    proposal_model: type[Proposal]
    # The embedded model: explainable rules, offline and deterministic.
    rules: Callable[[Any], AIResult]
    # What an OpenAI-compatible model is asked to answer; its prompt is
    # ``<name>.v<N>.md`` in the package ``prompts``.
    answer_model: type[Answer]
    # The business table and the row the apply step writes there for an approved proposal
    # (``apply(run_input, final_proposal) -> column values``).
    table: type[BusinessRow]
    apply: Callable[[Any, dict[str, Any]], dict[str, Any]]
    default_policy: DefaultPolicy
    # Start bodies: at least ``confident`` (clears the default threshold) and ``unsure``.
    examples: Mapping[str, Mapping[str, Any]]
    aliases: tuple[str, ...] = ()
    answer_checks: AnswerChecks | None = None
    # The reviews a proposal passes, in order (processes/kit/gates.py); one by default.
    gates: tuple[Gate, ...] = (Gate(name=DEFAULT_GATE),)
    # Activity names. The first processes keep the names their recorded histories use.
    propose_activity: str = field(default="")
    apply_activity: str = field(default="")
    # The package holding the prompts (``<name>.v<N>.md``): a plugin names its own.
    prompts: str = BRAIN_PROMPTS
    # The package holding the Alembic revisions that create and change ``table``, run by
    # ``store.db.migrate`` beside Brain's own. ``None``: Brain's (store/migrations/versions).
    migrations: str | None = None

    def __post_init__(self) -> None:
        if not PROCESS_NAME.fullmatch(self.name):
            raise ValueError(f"process name {self.name!r} must match {PROCESS_NAME.pattern}")
        check_gates(self.gates)
        if not self.propose_activity:
            object.__setattr__(self, "propose_activity", f"propose_{self.name}")
        if not self.apply_activity:
            object.__setattr__(self, "apply_activity", f"apply_{self.name}")

    @property
    def workflow_type(self) -> str:
        """``lead_scoring`` → ``LeadScoringWorkflow``: the Temporal workflow type, and the
        name of the class ``workflows/process_workflow.py`` makes for the process."""
        return "".join(part.title() for part in self.name.split("_")) + "Workflow"

    def gate(self, name: str | None) -> Gate:
        """The gate called ``name``; ``None`` is the first (policies and runs from before
        gates had names). Raises ``KeyError`` for a gate the process does not have."""
        if name is None:
            return self.gates[0]
        for gate in self.gates:
            if gate.name == name:
                return gate
        raise KeyError(name)

    def approval_id(self, workflow_id: str, gate_index: int) -> str:
        return approval_id(workflow_id, self.gates, gate_index)

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)

    def parse_input(self, data: Any) -> ProcessInput:
        """The input as its model; raises ``pydantic.ValidationError``."""
        if isinstance(data, self.input_model):
            return data
        if isinstance(data, BaseModel):
            data = data.model_dump()
        return self.input_model.model_validate(data)

    def validate_proposal(self, run_input: BaseModel, data: dict[str, Any]) -> dict[str, Any]:
        return validate_proposal(self.proposal_model, run_input, data)

    def apply_edits(
        self, run_input: BaseModel, original: dict[str, Any] | None, edits: dict[str, Any]
    ) -> dict[str, Any]:
        return apply_edits(self.proposal_model, run_input, original, edits)

    def prompt(self) -> tuple[str, str]:
        """``(prompt_version, text)`` of the newest prompt."""
        return load_prompt(self.name, package=self.prompts)
