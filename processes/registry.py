"""The processes this installation runs: every ``ProcessDefinition`` declared in the
entry-point group ``brain.processes``.

An entry point names a process and the definition that makes it::

    [project.entry-points."brain.processes"]
    lead_scoring = "processes.lead_scoring:DEFINITION"

Brain declares its own in its ``pyproject.toml``; a company ships its own process in its own
package the same way and ``pip install``s it next to Brain (docs/ADDING_A_PROCESS.md).
Everything that names processes (API routes and filters, workflows, activities, default
policies, migrations) is derived from ``definitions()``; no registry is written by hand.

Loaded on first use, not at import: a process module imports ``processes.kit``, and a
registry that loaded every entry point as ``processes`` was imported would import that
module again, half made.
"""

from collections.abc import Iterable
from functools import cache
from importlib.metadata import EntryPoint, entry_points

from models.processes import ENTRY_POINT_GROUP as GROUP
from models.processes import PROCESS_NAME, Process
from processes.kit.definition import ProcessDefinition


class UnknownProcess(ValueError):
    """A name no registered process answers to (``str(err)`` lists the known ones)."""


class RegistryError(ImportError):
    """An entry point of ``brain.processes`` that does not make a process."""


@cache
def definitions() -> tuple[ProcessDefinition, ...]:
    """Every registered process, sorted by name."""
    return _checked(_load(ep) for ep in entry_points(group=GROUP))


def names() -> tuple[str, ...]:
    """Every name a caller may use for a process: API names, then seed aliases."""
    found = definitions()
    return (*(d.name for d in found), *(a for d in found for a in d.aliases))


def processes() -> tuple[Process, ...]:
    """Every registered process's API name, sorted."""
    return tuple(Process(d.name) for d in definitions())


def parse(name: str) -> Process:
    """An API name or a seed alias as its process; ``UnknownProcess`` otherwise."""
    found = _by_name().get(name)
    if found is None:
        raise UnknownProcess(f"unknown process {name!r}; known: {', '.join(names())}")
    return Process(found.name)


def definition(process: str) -> ProcessDefinition:
    """The definition of ``process`` (an API name or a seed alias); ``UnknownProcess`` for
    a name no installed process has (say, a run's process since uninstalled)."""
    found = _by_name().get(process)
    if found is None:
        raise UnknownProcess(f"unknown process {process!r}; known: {', '.join(names())}")
    return found


@cache
def _by_name() -> dict[str, ProcessDefinition]:
    return {n: d for d in definitions() for n in d.names}


def _load(ep: EntryPoint) -> ProcessDefinition:
    where = f"entry point {ep.name!r} = {ep.value!r} of {_distribution(ep)} (group {GROUP})"
    try:
        loaded = ep.load()
    except Exception as err:  # any failure to import a plugin: say which one
        raise RegistryError(f"{where} does not load: {type(err).__name__}: {err}") from err
    if not isinstance(loaded, ProcessDefinition):
        raise RegistryError(f"{where} is a {type(loaded).__name__}, not a ProcessDefinition")
    if loaded.name != ep.name:
        raise RegistryError(f"{where} defines process {loaded.name!r}: name them alike")
    return loaded


def _distribution(ep: EntryPoint) -> str:
    dist = ep.dist
    return f"{dist.name} {dist.version}" if dist is not None else "an unnamed distribution"


def _checked(loaded: Iterable[ProcessDefinition]) -> tuple[ProcessDefinition, ...]:
    found = sorted(loaded, key=lambda d: d.name)
    if not found:
        raise RegistryError(
            f"no process is registered in the entry-point group {GROUP}: "
            "is Brain installed (pip install -e .)?"
        )
    _unique("process names and aliases", [n for d in found for n in d.names])
    _unique("workflow types", [d.workflow_type for d in found])
    _unique("activity names", [a for d in found for a in (d.propose_activity, d.apply_activity)])
    _unique("business tables", [str(d.table.__tablename__) for d in found])
    for name in (n for d in found for n in d.names):
        if not PROCESS_NAME.fullmatch(name):
            raise RegistryError(f"process name {name!r} must match {PROCESS_NAME.pattern}")
    return tuple(found)


def _unique(what: str, values: list[str]) -> None:
    twice = sorted({v for v in values if values.count(v) > 1})
    if twice:
        raise RegistryError(f"{what} must be unique across installed processes: {twice}")
