"""``python -m bench.cli``: how long ``brain`` takes to answer (issue 21).

Times, as a user's shell would see them (a new process each time, wall clock): ``brain
--help``; ``brain status`` on a parked run, ``brain inbox`` and ``brain runs`` against a
``brain up`` on free ports in a scratch directory (found through its home file, no
variables); and ``temporal --help`` for reference. Targets: ``brain --help`` <= 0.3 s and
``brain status`` <= 0.8 s, medians. Writes ``bench/results/cli-<timestamp>.json`` and prints
the table. Run it on an idle machine: other processes' CPU shows up in every figure.
"""

import argparse
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

from bench.__main__ import machine
from bench.stats import summary_ms

_HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
BRAIN = BIN / "brain"
TEMPORAL = BIN / "temporal"
TARGETS = {"help": 0.3, "status": 0.8}
STARTUP_TIMEOUT = 120.0


def _env() -> dict[str, str]:
    # No BRAIN_* variable: the commands find the stack as a user's would, through its home.
    return {k: v for k, v in os.environ.items() if not k.startswith("BRAIN_")}


def _run(*argv: object, cwd: Path) -> tuple[float, subprocess.CompletedProcess[str]]:
    began = time.perf_counter()
    done = subprocess.run(
        [str(a) for a in argv], cwd=cwd, env=_env(), capture_output=True, text=True, timeout=60
    )
    took = time.perf_counter() - began
    if done.returncode != 0:
        raise RuntimeError(f"{argv} exited {done.returncode}: {done.stderr[-1000:]}")
    return took, done


def _timed(label: str, argv: list[object], cwd: Path, repeat: int, warmup: int) -> dict[str, Any]:
    for _ in range(warmup):  # the page cache, not the command, is what a first run measures
        _run(*argv, cwd=cwd)
    seconds = [_run(*argv, cwd=cwd)[0] for _ in range(repeat)]
    return {
        "command": label,
        "median_s": round(statistics.median(seconds), 3),
        **summary_ms(seconds),
    }


def _free_ports(n: int) -> list[int]:
    import socket

    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


class _Stack:
    """`brain up` on free ports in ``cwd``, its output in a file."""

    def __init__(self, cwd: Path) -> None:
        self.cwd = cwd
        self.log = cwd / "brain-up.log"
        temporal, ui, api = _free_ports(3)
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [str(BRAIN), "up", "--temporal-port", str(temporal), "--ui-port", str(ui),
                 "--api-port", str(api)],
                cwd=cwd, env=_env(), stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        self.children: list[psutil.Process] = []

    def wait_up(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while "Ctrl-C stops" not in self.log.read_text(errors="replace"):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("brain up did not start:\n" + self.log.read_text()[-2000:])
            time.sleep(0.1)
        self.children = psutil.Process(self.proc.pid).children(recursive=True)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for child in self.children:  # the dev server, should it outlive brain up
            with contextlib.suppress(psutil.Error):
                child.kill()


def _parked_run(cwd: Path) -> str:
    _, started = _run(BRAIN, "start", "lead_scoring", "--example", "unsure", cwd=cwd)
    workflow_id: str = json.loads(started.stdout)["workflow_id"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        _, status = _run(BRAIN, "status", workflow_id, cwd=cwd)
        if json.loads(status.stdout)["state"] == "awaiting_approval":
            return workflow_id
        time.sleep(0.2)
    raise RuntimeError(f"{workflow_id} did not park")


def measure(repeat: int, warmup: int) -> dict[str, Any]:
    result: dict[str, Any] = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "command": "python -m bench.cli " + " ".join(sys.argv[1:]),
        "machine": machine(),
        "repeat": repeat,
        "commands": {},
    }
    commands = result["commands"]
    with tempfile.TemporaryDirectory(prefix="bench-cli-") as scratch:
        cwd = Path(scratch)
        commands["help"] = _timed("brain --help", [BRAIN, "--help"], cwd, repeat, warmup)
        commands["temporal_help"] = _timed(
            "temporal --help", [TEMPORAL, "--help"], cwd, repeat, warmup
        )
        stack = _Stack(cwd)
        try:
            stack.wait_up()
            workflow_id = _parked_run(cwd)
            status = [BRAIN, "status", workflow_id]
            commands["status"] = _timed("brain status <parked run>", status, cwd, repeat, warmup)
            commands["inbox"] = _timed("brain inbox", [BRAIN, "inbox"], cwd, repeat, warmup)
            runs = [BRAIN, "runs", "--limit", "10"]
            commands["runs"] = _timed("brain runs --limit 10", runs, cwd, repeat, warmup)
        finally:
            stack.stop()
    result["targets"] = [
        {
            "name": name,
            "target": f"median <= {limit} s",
            "value": commands[name]["median_s"],
            "met": commands[name]["median_s"] <= limit,
        }
        for name, limit in TARGETS.items()
    ]
    return result


def table(result: dict[str, Any]) -> str:
    rows = [("command", "median", "p95", "target")]
    goals = {t["name"]: ("met" if t["met"] else "MISSED") for t in result["targets"]}
    for name, figures in result["commands"].items():
        rows.append(
            (
                figures["command"],
                f"{figures['median_s']:.3f} s",
                f"{figures['p95_ms'] / 1000:.3f} s",
                f"<= {TARGETS[name]} s: {goals[name]}" if name in TARGETS else "",
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    m = result["machine"]
    lines.append(f"({result['repeat']} runs each; {m['cores']} cores, {m['cpu']})")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.cli", description=__doc__)
    p.add_argument("--repeat", type=int, default=21, help="timed runs per command")
    p.add_argument("--warmup", type=int, default=2, help="untimed runs first")
    p.add_argument("--results-dir", type=Path, default=_HERE / "results")
    args = p.parse_args(argv)
    result = measure(args.repeat, args.warmup)
    args.results_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = args.results_dir / f"cli-{stamp}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(table(result))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
