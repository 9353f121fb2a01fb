"""What Brain makes of the installed processes, as JSON on stdout: run in a process that has
the plugin on its path (``package.run_probe``), never imported by the suite itself (the
plugin's table would join the suite's metadata).

    python -m tests.plugins.probe SQLITE_URL
"""

import asyncio
import dataclasses
import json
import sys
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import create_async_engine

from processes import registry
from processes.kit.completeness import missing_parts
from store.db import migrate
from workflows.process_workflow import workflow_class


async def _tables(url: str) -> list[str]:
    await migrate(url)
    engine = create_async_engine(url)
    async with engine.connect() as conn:
        found = await conn.run_sync(lambda c: inspect(c).get_table_names())
    await engine.dispose()
    return sorted(found)


def main(url: str) -> dict[str, Any]:
    plugin = registry.definition("returns_triage")
    return {
        "names": list(registry.names()),
        "gaps": {d.name: missing_parts(d) for d in registry.definitions()},
        "gaps_without_migrations": missing_parts(
            dataclasses.replace(plugin, migrations="brain_returns.nowhere")
        ),
        "workflow_type": workflow_class(plugin).__name__,
        "gates": [g.name for g in plugin.gates],
        "tables": asyncio.run(_tables(url)),
    }


if __name__ == "__main__":
    sys.stdout.write(json.dumps(main(sys.argv[1])) + "\n")
