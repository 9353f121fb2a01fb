"""Whether a definition is whole, part by part, wherever the process lives.

What a definition itself can prove: its prompt, examples on the right side of the default
threshold, a default policy, a business table the apply step's columns fit, an answer model
of the proposal's fields, and (for a plugin) a migrations package. Brain's completeness test
(tests/processes/test_completeness.py) checks every process this way and adds what only a
repository holds (tests, recorded histories); a plugin's own tests call ``missing_parts``
on its definitions (docs/ADDING_A_PROCESS.md).
"""

from importlib import resources

from processes.kit.definition import ProcessDefinition
from processes.kit.prompts import prompt_versions


def missing_parts(d: ProcessDefinition) -> list[str]:
    """What ``d`` lacks, each named so its author knows what to write; empty when whole."""
    gaps: list[str] = []
    if not prompt_versions(d.name, d.prompts):
        gaps.append(f"prompt: {d.name}.v1.md in the package {d.prompts}")
    gaps += _example_gaps(d)
    policy = d.default_policy
    if policy is None or not 0 <= policy.confidence_threshold <= 1:
        gaps.append("default policy: DefaultPolicy(hitl_enabled=..., confidence_threshold=0..1)")
    if d.table is None or not getattr(d.table, "__tablename__", None):
        gaps.append("business table: a BusinessRow subclass with table=True")
    if not callable(d.apply):
        gaps.append("apply step: apply(input, proposal) -> the business row's columns")
    answer = list(d.answer_model.model_fields) if d.answer_model else []
    if not answer or answer[-1] != "confidence":
        gaps.append("answer model: the proposal's fields, then confidence last")
    elif set(answer) != set(d.proposal_model.model_fields) | {"confidence"}:
        gaps.append("answer model: its fields must be the proposal's plus confidence")
    if d.migrations is not None and not _has_revisions(d.migrations):
        gaps.append(f"migrations: the package {d.migrations} with the table's Alembic revision")
    return gaps


def _has_revisions(package: str) -> bool:
    try:
        entries = list(resources.files(package).iterdir())
    except ModuleNotFoundError:
        return False
    return any(e.name.endswith(".py") and not e.name.startswith("_") for e in entries)


def _example_gaps(d: ProcessDefinition) -> list[str]:
    gaps = []
    for kind in ("confident", "unsure"):
        if kind not in d.examples:
            gaps.append(f"example: examples[{kind!r}]")
            continue
        try:
            result = d.rules(d.parse_input(d.examples[kind]))
        except Exception as err:  # anything wrong with it is a gap to name
            gaps.append(f"example {kind!r} fails: {type(err).__name__}: {err}")
            continue
        threshold = d.default_policy.confidence_threshold if d.default_policy else 0.5
        clears = result.confidence >= threshold
        if clears != (kind == "confident"):
            gaps.append(
                f"example {kind!r}: the rules model's confidence {result.confidence} must be "
                f"{'at least' if kind == 'confident' else 'below'} the default threshold"
            )
        elif result.proposal is not None and callable(d.apply) and d.table is not None:
            row = d.apply(d.parse_input(d.examples[kind]), result.proposal)
            unknown = set(row) - set(d.table.model_fields)
            if unknown:
                gaps.append(f"apply step: columns {sorted(unknown)} are not in the table")
    return gaps
