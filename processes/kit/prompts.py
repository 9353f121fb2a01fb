"""Versioned system prompts, one file per process and version: ``<process>.v<N>.md`` in the
process's prompt package (``ProcessDefinition.prompts``; Brain's own: ``processes/prompts/``).

The version travels with every model call (``ModelCall.prompt_version``), so an approver
or an auditor can tell which prompt produced a proposal. Adding ``.v2.md`` rolls it out.
"""

import re
from functools import lru_cache
from importlib import resources

_NAME = re.compile(r"^(?P<process>[a-z0-9_]+)\.v(?P<version>\d+)\.md$")
BRAIN_PROMPTS = "processes.prompts"


def prompt_versions(process: str, package: str = BRAIN_PROMPTS) -> dict[int, str]:
    """Version number → file name, for every prompt of ``process`` in ``package``."""
    found: dict[int, str] = {}
    try:
        entries = list(resources.files(package).iterdir())
    except ModuleNotFoundError:
        return found
    for entry in entries:
        match = _NAME.match(entry.name)
        if match and match["process"] == process:
            found[int(match["version"])] = entry.name
    return found


@lru_cache
def load_prompt(
    process: str, version: int | None = None, *, package: str = BRAIN_PROMPTS
) -> tuple[str, str]:
    """``(prompt_version, text)``, e.g. ``("lead_scoring.v1", ...)``; the newest by default."""
    versions = prompt_versions(process, package)
    if not versions:
        raise LookupError(f"no prompt file for process {process!r} in package {package}")
    chosen = max(versions) if version is None else version
    if chosen not in versions:
        raise LookupError(f"no prompt {process}.v{chosen}.md; have {sorted(versions)}")
    text = resources.files(package).joinpath(versions[chosen]).read_text(encoding="utf-8")
    return f"{process}.v{chosen}", text.strip()
