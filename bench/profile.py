"""Profiles: py-spy on Brain's worker and API during one more auto-path pass (``python -m
bench --profile DIR``), and the summary of a py-spy ``--format raw`` profile (collapsed
stacks): where the time goes.

``python -m bench.profile <file.txt> [--top 25] [--match substring]``
"""

import argparse
import collections
import contextlib
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.scenarios import AUTO_TENANT, Sizes, pool, result_of
from bench.stack import Proc, Stack
from bench.stats import now

# Frames whose inclusive share the report names (what issue 15 asked about by name).
WATCHED = {
    "the SDK's serialization context per payload": "get_serialization_context",
    "creating each run's sandbox": "_create_instance",
    "activities (Brain's own code)": "(activities/",
    "SQLAlchemy compiling a statement (a compiled-cache miss)": "SQLCompiler.__init__",
    "SQLAlchemy": "sqlalchemy/",
    "asyncpg": "asyncpg/",
    "pydantic": "pydantic",
}

_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")


def _parse(path: Path) -> list[tuple[list[str], int]]:
    stacks = []
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        stacks.append((stack.split(";"), int(count)))
    return stacks


def _short(frame: str) -> str:
    m = _FRAME.match(frame)
    if not m:
        return frame
    file = m["file"]
    for marker in ("site-packages/", "/work/main/", "python3.11/"):
        if marker in file:
            file = file.split(marker, 1)[1]
    return f"{m['func']} ({file})"


@contextlib.contextmanager
def spying(out: Path, procs: list[Proc]) -> Iterator[None]:
    out.mkdir(parents=True, exist_ok=True)
    spies = [
        subprocess.Popen(
            [
                str(Path(sys.executable).parent / "py-spy"),
                "record",
                "--pid",
                str(p.pid),
                "--format",
                "raw",
                "--rate",
                "100",
                # Only threads holding the GIL: where CPU goes, not where threads wait.
                "--gil",
                # The API's processes are the children of the one started.
                *(["--subprocesses"] if p.name == "api" else []),
                "--output",
                str(out / f"{p.name}.txt"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for p in procs
    ]
    try:
        yield
    finally:
        for spy in spies:
            spy.send_signal(2)
        for spy in spies:
            with contextlib.suppress(subprocess.TimeoutExpired):
                spy.wait(timeout=30)


async def auto_pass(stack: Stack, api: Any, sizes: Sizes, out: Path) -> dict[str, Any]:
    """The auto path at the top concurrency once more, py-spy on the worker and the API (it
    slows what it samples: this pass is not one of the measurements)."""
    clients = max(sizes.concurrency)
    runs = max(sizes.auto_runs, clients)

    async def job(_: int) -> None:
        wid, _t = await api.start(AUTO_TENANT)
        await result_of(stack.client.get_workflow_handle(wid))

    with spying(out, [stack.brain_worker, stack.api]):
        t0 = now()
        await pool(runs, clients, job)
        wall = now() - t0
    found: dict[str, Any] = {"runs": runs, "concurrency": clients, "seconds": round(wall, 2)}
    for name in ("brain-worker", "api"):
        path = out / f"{name}.txt"
        if path.exists() and path.stat().st_size:
            found[name] = summary(path, 12)
    return found


def summary(path: Path, top: int) -> dict[str, Any]:
    """The ``top`` frames by own and by inclusive samples, and the watched frames' shares."""
    stacks = _parse(path)
    total = sum(c for _, c in stacks) or 1
    own: collections.Counter[str] = collections.Counter()
    incl: collections.Counter[str] = collections.Counter()
    watched: collections.Counter[str] = collections.Counter()
    for frames, count in stacks:
        short = [_short(f) for f in frames]
        own[short[-1]] += count
        for f in set(short):
            incl[f] += count
        for label, marker in WATCHED.items():
            if any(marker in f for f in frames):
                watched[label] += count
    share = lambda c: round(100 * c / total, 1)  # noqa: E731
    return {
        "samples": total,
        "self": [[f, share(c)] for f, c in own.most_common(top)],
        "inclusive": [[f, share(c)] for f, c in incl.most_common(top)],
        "watched": {label: share(watched[label]) for label in WATCHED},
    }


def summarise(path: Path, top: int, match: str | None) -> str:
    stacks = _parse(path)
    total = sum(c for _, c in stacks)
    own: collections.Counter[str] = collections.Counter()
    incl: collections.Counter[str] = collections.Counter()
    for frames, count in stacks:
        if match and not any(match in f for f in frames):
            continue
        short = [_short(f) for f in frames]
        own[short[-1]] += count
        for f in set(short):
            incl[f] += count
    lines = [f"{path.name}: {total} samples"]
    lines.append("-- self --")
    lines += [f"{c / total:6.1%}  {f}" for f, c in own.most_common(top)]
    lines.append("-- inclusive --")
    lines += [f"{c / total:6.1%}  {f}" for f, c in incl.most_common(top)]
    return "\n".join(lines)


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("files", nargs="+", type=Path)
    p.add_argument("--top", type=int, default=25)
    p.add_argument("--match")
    a = p.parse_args()
    for f in a.files:
        print(summarise(f, a.top, a.match))
