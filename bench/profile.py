"""Summarise a py-spy ``--format raw`` profile (collapsed stacks): where the time goes.

``python -m bench.profile <file.txt> [--top 25] [--match substring]``
"""

import argparse
import collections
import re
from pathlib import Path

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
