"""`brain up` as a test starts it: on free ports, in a directory of its own, its output in a
file (a pipe nobody reads would fill up and stall it over a long module), stopped with
Ctrl-C and its dev server killed if it outlives it."""

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.cli.conftest import BRAIN, Done, run_cmd
from tests.cli.procs import descendants_of, free_ports, interrupt, kill_all
from tests.support import eventually

STARTUP_TIMEOUT = 120
UP = "Ctrl-C stops"


@dataclass
class Up:
    cwd: Path
    env: dict[str, str]
    temporal_port: int
    ui_port: int
    api_port: int
    log: Path
    proc: asyncio.subprocess.Process
    servers: list[int] = field(default_factory=list)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def banner(self) -> list[str]:
        lines = self.output().splitlines()
        end = next(i for i, line in enumerate(lines) if UP in line)
        return lines[: end + 1]

    def export(self) -> str:
        """The banner's `export BRAIN=... TOKEN=...` line."""
        [line] = [x.strip() for x in self.banner() if x.strip().startswith("export BRAIN=")]
        return line

    def variables(self) -> dict[str, str]:
        return dict(part.split("=", 1) for part in self.export().split()[1:])

    def stack_file(self, home: str = ".brain") -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads((self.cwd / home / "stack.json").read_text())
        return loaded

    async def brain(self, *args: object, env: dict[str, str] | None = None) -> Done:
        """A `brain` command where a user of this stack runs it: its directory, its env."""
        return await run_cmd(BRAIN, *args, env=self.env if env is None else env, cwd=self.cwd)


@asynccontextmanager
async def brain_up(cwd: Path, env: dict[str, str], *args: str) -> AsyncIterator[Up]:
    """`brain up` on three free ports in ``cwd``, until it printed its banner."""
    temporal_port, ui_port, api_port = free_ports(3)
    log = cwd / "brain-up.log"
    with log.open("ab") as out:
        proc = await asyncio.create_subprocess_exec(
            str(BRAIN), "up", "--temporal-port", str(temporal_port), "--ui-port", str(ui_port),
            "--api-port", str(api_port), *args,
            stdout=out, stderr=asyncio.subprocess.STDOUT, env=env, cwd=cwd,
        )  # fmt: skip
    up = Up(cwd, env, temporal_port, ui_port, api_port, log, proc)
    try:

        async def started() -> bool:
            assert proc.returncode is None, f"brain up ended before it was up:\n{up.output()}"
            return UP in up.output()

        await eventually(started, within=STARTUP_TIMEOUT)
        up.servers = descendants_of(proc.pid)
        yield up
    finally:
        await interrupt(proc)
        kill_all(up.servers, groups=True)
