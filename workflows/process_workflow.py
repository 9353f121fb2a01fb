"""The process workflow: one class per process, made from its definition.

Temporal needs a class per workflow type; a process's class holds nothing but its
definition (the gate, ``hitl/gate.py``, is the same for every process), so it is made here
rather than written: ``LeadScoringWorkflow`` for ``lead_scoring`` (``workflow_type``), a
plugin's process included. ``workflow_class(definition)`` makes it; the worker registers one
per registered process (``workers/registry.py``).

The sandbox starts each run by re-importing this module and taking the class by its name
(``from workflows.process_workflow import LeadScoringWorkflow``): the module ``__getattr__``
makes it there, from the registry, which is passed through (loaded once per worker).
"""

from typing import Any, cast

from temporalio import workflow

from hitl.gate import GatedWorkflow

with workflow.unsafe.imports_passed_through():
    from models.workflow_io import ProcessResult, ProcessStart
    from processes import registry
    from processes.kit.definition import ProcessDefinition


def workflow_class(definition: ProcessDefinition) -> type[GatedWorkflow]:
    """The workflow class of ``definition``'s process, made once per module instance."""
    name = definition.workflow_type
    made = cast("type[GatedWorkflow] | None", globals().get(name))
    if made is None:
        made = globals()[name] = _make(definition)
    elif made.definition is not definition:
        raise ValueError(f"two definitions make workflow type {name}")
    return made


def _make(definition: ProcessDefinition) -> type[GatedWorkflow]:
    name = definition.workflow_type

    # ``self`` unannotated: Temporal reads the run's argument types from the hints and skips
    # only a bare ``self``. And it accepts a run method only if it is defined on the class
    # itself: in this module, under the class's name.
    async def run(self, start: ProcessStart) -> ProcessResult:  # type: ignore[no-untyped-def]
        return await self.run_process(start)  # type: ignore[no-any-return]

    run.__qualname__ = f"{name}.run"
    body: dict[str, Any] = {
        "__module__": __name__,
        "__qualname__": name,
        "__doc__": f"The ``{definition.name}`` process: its definition through the gate.",
        "definition": definition,
        "run": workflow.run(run),
    }
    return workflow.defn(name=name)(type(name, (GatedWorkflow,), body))


def __getattr__(name: str) -> type[GatedWorkflow]:
    # Only the process asked for is made: a sandbox builds one class per run, not all.
    for definition in registry.definitions():
        if definition.workflow_type == name:
            return workflow_class(definition)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
