"""Every process is whole (docs/ADDING_A_PROCESS.md): a missing part fails here with its name,
not quietly at run time (a 422 on a filter, a run that parks for ever, a table that is not
there). ``missing_parts`` is shown to catch each gap on deliberately incomplete definitions.

What a definition can prove itself is ``processes.kit.completeness``, for every registered
process and for the plugin under tests/plugins; a process in Brain's tree also needs its
tests and its recorded histories here (a plugin keeps those in its own repository).
"""

import asyncio
import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import create_async_engine

from models.processes import Process
from processes import registry
from processes.kit import completeness
from processes.kit.definition import ProcessDefinition
from store.db import migrate
from tests.plugins.package import NAME as PLUGIN
from tests.plugins.package import TABLE as PLUGIN_TABLE
from tests.plugins.package import run_probe
from workflows.process_workflow import workflow_class

ROOT = Path(__file__).resolve().parents[2]
SHAPES = ("auto", "approved", "rejected", "edited", "released_by_policy")
# A process with several gates also records each gate decided (scripts/record_process_histories.py).
GATED_SHAPES = ("both_gates", "rejected_at_second", "released_at_second")


def missing_parts(d: ProcessDefinition, root: Path = ROOT) -> list[str]:
    """What ``d`` lacks, each named so a newcomer knows which file to write."""
    gaps = completeness.missing_parts(d)
    if not in_tree(d):
        return gaps
    if not (root / "tests" / "processes" / f"test_{d.name}.py").exists() and d.name not in _FIRST:
        gaps.append(f"tests: tests/processes/test_{d.name}.py")
    shapes = (*SHAPES, *GATED_SHAPES) if len(d.gates) > 1 else SHAPES
    if not _histories_cover(root / "tests" / "histories", d.name, shapes):
        gaps.append(
            f"recorded histories: run scripts/record_process_histories.py {d.name} "
            f"(tests/histories/{d.name}@<gate>.json with {', '.join(shapes)})"
        )
    return gaps


def in_tree(d: ProcessDefinition) -> bool:
    """A process of Brain's own (``processes/<name>.py``), not a plugin's."""
    return d.input_model.__module__.startswith("processes.")


# The first four processes predate the recipe; their tests live across the suite.
_FIRST = {"lead_scoring", "product_sourcing", "campaign_tuning", "content_generation"}


def _histories_cover(folder: Path, name: str, shapes: tuple[str, ...]) -> bool:
    for path in folder.glob(f"{name}@*.json"):
        if set(shapes) <= set(json.loads(path.read_text()).get("histories", {})):
            return True
    return False


@pytest.mark.parametrize("definition", registry.definitions(), ids=lambda d: d.name)
def test_every_process_is_whole(definition: ProcessDefinition) -> None:
    assert missing_parts(definition) == []


def test_a_plugin_process_is_whole_and_its_migration_creates_its_table(
    plugin_site: Path, tmp_path: Path
) -> None:
    """The same check for a process from another package, installed beside Brain (in a
    process of its own: tests/plugins/probe.py): what its definition can prove, its prompt
    and its revisions in its own package; its tests and histories are its repository's."""
    done = run_probe(plugin_site, f"sqlite+aiosqlite:///{tmp_path / 'p.db'}")
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert seen["gaps"] == {name: [] for name in [*registry.processes(), PLUGIN]}
    assert seen["gaps_without_migrations"] == [
        "migrations: the package brain_returns.nowhere with the table's Alembic revision"
    ]
    assert PLUGIN_TABLE in seen["tables"]


@pytest.mark.parametrize("definition", registry.definitions(), ids=lambda d: d.name)
def test_every_process_has_its_workflow_made_from_its_definition(
    definition: ProcessDefinition,
) -> None:
    cls = workflow_class(definition)
    assert cls.__name__ == definition.workflow_type and cls.definition is definition
    assert workflow_class(definition) is cls


def test_names_workflows_and_activities_are_derived_once_each() -> None:
    definitions = registry.definitions()
    assert list(registry.processes()) == [d.name for d in definitions]
    names = [n for d in definitions for n in d.names]
    assert len(names) == len(set(names)) and set(names) == set(registry.names())
    activities = [a for d in definitions for a in (d.propose_activity, d.apply_activity)]
    assert len(activities) == len(set(activities))
    assert registry.parse("client_success_story") == Process("testimonial_generation")


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
    names = [d.table.__tablename__ for d in registry.definitions()]
    missing = [t for t in names if t not in created]
    assert missing == [], f"no migration creates {missing} (docs/ADDING_A_PROCESS.md, step 4)"


def _incomplete(**changes: Any) -> ProcessDefinition:
    base = registry.definition("testimonial_generation")
    return dataclasses.replace(base, **changes)


class _NoConfidence(BaseModel):
    headline: str


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"name": "never_written"}, "prompt: never_written.v1.md in the package processes.prompts"),
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
            {"name": "lead_scoring", "gates": registry.definition("product_sourcing").gates},
            "recorded histories",
        ),
    ],
)
def test_an_incomplete_definition_is_named_part_by_part(
    changes: dict[str, Any], named: str
) -> None:
    gaps = missing_parts(_incomplete(**changes))
    assert any(g.startswith(named) for g in gaps), gaps
