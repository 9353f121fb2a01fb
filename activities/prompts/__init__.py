"""Versioned system prompts, one file per process: ``<process>.v<N>.md``.

The version travels with every model call (``ModelCall.prompt_version``), so an
approver or an auditor can tell which prompt produced a proposal.
"""

import re
from functools import lru_cache
from importlib import resources

from models.processes import Process

_NAME = re.compile(r"^(?P<process>[a-z_]+)\.v(?P<version>\d+)\.md$")


@lru_cache
def load_prompt(process: Process, version: int | None = None) -> tuple[str, str]:
    """Return ``(prompt_version, text)`` for ``process``, e.g. ``("lead_scoring.v1", ...)``.

    Without ``version`` the highest one on disk is used, so adding ``.v2.md`` rolls it out.
    """
    versions: dict[int, str] = {}
    for entry in resources.files(__package__).iterdir():
        match = _NAME.match(entry.name)
        if match and match["process"] == process.value:
            versions[int(match["version"])] = entry.name
    if not versions:
        raise LookupError(f"no prompt file for process {process.value!r}")
    chosen = max(versions) if version is None else version
    if chosen not in versions:
        raise LookupError(f"no prompt {process.value}.v{chosen}.md; have {sorted(versions)}")
    text = resources.files(__package__).joinpath(versions[chosen]).read_text(encoding="utf-8")
    return f"{process.value}.v{chosen}", text.strip()
