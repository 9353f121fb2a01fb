"""Every process Brain runs, one module each, found here at import.

A process module (``processes/<name>.py``, see docs/ADDING_A_PROCESS.md) exports
``DEFINITION``, a ``ProcessDefinition``. Everything that names processes elsewhere (the
``Process`` enum, workflows, activities, API routes and filters, default policies) is
derived from ``DEFINITIONS``; no registry is written by hand. Modules whose names start
with ``_`` and subpackages (``kit``, ``prompts``) are helpers, not processes.
"""

import importlib
import pkgutil

from processes.kit.definition import ProcessDefinition


def _discover() -> tuple[ProcessDefinition, ...]:
    found: list[ProcessDefinition] = []
    for info in pkgutil.iter_modules(__path__):
        if info.ispkg or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        definition = getattr(module, "DEFINITION", None)
        if not isinstance(definition, ProcessDefinition):
            raise ImportError(
                f"processes/{info.name}.py is a process module but defines no DEFINITION "
                "(a ProcessDefinition); prefix helper modules with '_'"
            )
        if definition.name != info.name:
            raise ImportError(
                f"processes/{info.name}.py defines process {definition.name!r}; "
                "the module must be named after its process"
            )
        found.append(definition)
    return tuple(sorted(found, key=lambda d: d.name))


DEFINITIONS: tuple[ProcessDefinition, ...] = _discover()
