"""Every process is whole (docs/ADDING_A_PROCESS.md): a missing part fails here with its name,
not quietly at run time (a 422 on a filter, a run that parks for ever, a table that is not
there). ``missing_parts`` is shown to catch each gap on deliberately incomplete definitions."""

import asyncio
import dataclasses
import importlib
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import create_async_engine

from hitl.gate import GatedWorkflow
from models.processes import PROCESS_NAMES, Process
from processes import DEFINITIONS
from processes.kit.definition import ProcessDefinition
from processes.kit.prompts import prompt_versions
from store.db import migrate

ROOT = Path(__file__).resolve().parents[2]
SHAPES = ("auto", "approved", "rejected", "edited", "released_by_policy")
# A process with several gates also records each gate decided (scripts/record_process_histories.py).
GATED_SHAPES = ("both_gates", "rejected_at_second", "released_at_second")


def missing_parts(d: ProcessDefinition, root: Path = ROOT) -> list[str]:
    """What ``d`` lacks, each named so a newcomer knows which file to write."""
    gaps: list[str] = []
    if not prompt_versions(d.name):
        gaps.append(f"prompt: processes/prompts/{d.name}.v1.md")
    gaps += _workflow_gaps(d)
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
    if not (root / "tests" / "processes" / f"test_{d.name}.py").exists() and d.name not in _FIRST:
        gaps.append(f"tests: tests/processes/test_{d.name}.py")
    shapes = (*SHAPES, *GATED_SHAPES) if len(d.gates) > 1 else SHAPES
    if not _histories_cover(root / "tests" / "histories", d.name, shapes):
        gaps.append(
            f"recorded histories: run scripts/record_process_histories.py {d.name} "
            f"(tests/histories/{d.name}@<gate>.json with {', '.join(shapes)})"
        )
    return gaps


# The first four processes predate the recipe; their tests live across the suite.
_FIRST = {"lead_scoring", "product_sourcing", "campaign_tuning", "content_generation"}


def _workflow_gaps(d: ProcessDefinition) -> list[str]:
    module = f"workflows.{d.name}_workflow"
    try:
        cls = getattr(importlib.import_module(module), d.workflow_type, None)
    except ModuleNotFoundError:
        return [f"workflow: workflows/{d.name}_workflow.py with class {d.workflow_type}"]
    if not (isinstance(cls, type) and issubclass(cls, GatedWorkflow)):
        return [f"workflow: {module} must define {d.workflow_type}(GatedWorkflow)"]
    if cls.definition is not d:
        return [f"workflow: {d.workflow_type}.definition must be processes.{d.name}.DEFINITION"]
    return []


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


def _histories_cover(folder: Path, name: str, shapes: tuple[str, ...]) -> bool:
    for path in folder.glob(f"{name}@*.json"):
        if set(shapes) <= set(json.loads(path.read_text()).get("histories", {})):
            return True
    return False


@pytest.mark.parametrize("definition", DEFINITIONS, ids=lambda d: d.name)
def test_every_process_is_whole(definition: ProcessDefinition) -> None:
    assert missing_parts(definition) == []


def test_names_workflows_and_activities_are_derived_once_each() -> None:
    assert [p.value for p in Process] == [d.name for d in DEFINITIONS]
    names = [n for d in DEFINITIONS for n in d.names]
    assert len(names) == len(set(names)) and set(names) == set(PROCESS_NAMES)
    activities = [a for d in DEFINITIONS for a in (d.propose_activity, d.apply_activity)]
    assert len(activities) == len(set(activities))
    assert Process.parse("client_success_story") is Process("testimonial_generation")


@pytest.mark.parametrize("backend", ["sqlite"])
def test_every_business_table_is_created_by_a_migration(tmp_path: Path, backend: str) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'm.db'}"

    async def tables() -> set[str]:
        await migrate(url)
        engine = create_async_engine(url)
        async with engine.connect() as conn:
            found = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
        await engine.dispose()
        return found

    created = asyncio.run(tables())
    missing = [d.table.__tablename__ for d in DEFINITIONS if d.table.__tablename__ not in created]
    assert missing == [], f"no migration creates {missing} (docs/ADDING_A_PROCESS.md, step 4)"


def _incomplete(**changes: Any) -> ProcessDefinition:
    base = Process("testimonial_generation").definition
    return dataclasses.replace(base, **changes)


class _NoConfidence(BaseModel):
    headline: str


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"name": "never_written"}, "prompt: processes/prompts/never_written.v1.md"),
        ({"name": "never_written"}, "workflow: workflows/never_written_workflow.py"),
        ({"name": "never_written"}, "recorded histories"),
        ({"name": "never_written"}, "tests: tests/processes/test_never_written.py"),
        ({"examples": {"confident": {}}}, "example 'confident' fails"),
        ({"examples": {"confident": {"client": {}}}}, "example: examples['unsure']"),
        ({"default_policy": None}, "default policy"),
        ({"table": None}, "business table"),
        ({"apply": None}, "apply step"),
        ({"answer_model": _NoConfidence}, "answer model"),
        # A second gate needs the recorded paths through it (lead scoring has one gate).
        (
            {"name": "lead_scoring", "gates": Process("product_sourcing").definition.gates},
            "recorded histories",
        ),
    ],
)
def test_an_incomplete_definition_is_named_part_by_part(
    changes: dict[str, Any], named: str
) -> None:
    gaps = missing_parts(_incomplete(**changes))
    assert any(g.startswith(named) for g in gaps), gaps
