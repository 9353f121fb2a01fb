"""``python -m bench``: start a stack, measure Brain against the bare-SDK baseline, write
``bench/results/<timestamp>.json`` and regenerate ``docs/PERFORMANCE.md`` from it."""

import argparse
import asyncio
import contextlib
import json
import os
import platform
import signal
import subprocess
import sys
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil
import temporalio

from bench import report, scenarios
from bench.load import Baseline, BrainApi
from bench.scenarios import Sizes
from bench.stack import Proc, Stack, running_stack, sessions_for

_HERE = Path(__file__).resolve().parent
SECTIONS = ("throughput", "decisions", "parked")


def _args(argv: list[str] | None) -> argparse.Namespace:
    d = Sizes()
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--smoke", action="store_true", help="tiny sizes (the smoke test)")
    p.add_argument(
        "--concurrency", default=",".join(map(str, d.concurrency)), help="auto-path levels"
    )
    p.add_argument("--auto-runs", type=int, default=d.auto_runs, help="runs per level")
    p.add_argument("--auto-runs-serial", type=int, default=d.auto_runs_serial)
    p.add_argument("--decisions", type=int, default=d.decisions)
    p.add_argument("--parked", type=int, default=d.parked, help="runs parked at once")
    p.add_argument("--release", type=int, default=d.release, help="of them, freed by a flip")
    p.add_argument("--park-concurrency", type=int, default=d.park_concurrency)
    p.add_argument("--approvals-requests", type=int, default=d.approvals_requests)
    p.add_argument("--reads", type=int, default=d.reads, help="GET /workflows/{id} requests")
    p.add_argument("--read-clients", type=int, default=d.read_clients)
    p.add_argument("--warmup", type=int, default=d.warmup)
    p.add_argument("--only", default=",".join(SECTIONS), help="sections to run")
    p.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    p.add_argument(
        "--api-workers",
        type=int,
        default=2,
        help="API processes, as `brain api --workers N` (default: one per core of the 2-core "
        "reference machine)",
    )
    p.add_argument("--results-dir", type=Path, default=_HERE / "results")
    p.add_argument(
        "--doc",
        default=str(_HERE.parent / "docs" / "PERFORMANCE.md"),
        help="the report to regenerate; 'none' to skip",
    )
    p.add_argument("--profile", type=Path, help="py-spy the worker and the API into this dir")
    return p.parse_args(argv)


def _sizes(args: argparse.Namespace) -> Sizes:
    if args.smoke:
        return Sizes.smoke()
    return Sizes(
        concurrency=tuple(int(c) for c in args.concurrency.split(",") if c),
        auto_runs=args.auto_runs,
        auto_runs_serial=args.auto_runs_serial,
        decisions=args.decisions,
        parked=args.parked,
        release=args.release,
        park_concurrency=args.park_concurrency,
        approvals_requests=args.approvals_requests,
        reads=args.reads,
        read_clients=args.read_clients,
        warmup=args.warmup,
    )


def machine() -> dict[str, Any]:
    return {
        "cores": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "cpu": _cpu_model(),
        "python": platform.python_version(),
        "temporalio": getattr(temporalio, "__version__", "?"),
        "os": f"{platform.system()} {platform.release()}",
    }


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "?"


def _log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


@contextlib.contextmanager
def _profiling(out: Path | None, procs: list[Proc]):  # type: ignore[no-untyped-def]
    if out is None:
        yield
        return
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


async def measure(args: argparse.Namespace, sizes: Sizes) -> dict[str, Any]:
    only = {s.strip() for s in args.only.split(",") if s.strip()}
    result: dict[str, Any] = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": "python -m bench " + " ".join(sys.argv[1:]),
        "machine": machine(),
        "sizes": asdict(sizes),
        "database": args.database,
        "api_workers": args.api_workers,
    }
    t_all = time.perf_counter()
    # SIGTERM (a timeout, a CI kill) unwinds like Ctrl-C, so the stack is always stopped.
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    async with running_stack(args.database, api_workers=args.api_workers) as stack:
        _log(f"stack up: temporal {stack.temporal_address}, api {stack.api_url}, {args.database}")
        api = BrainApi(stack.api_url)
        baseline = Baseline(stack.client)
        engine, sessions = sessions_for(stack.database_url)
        try:
            await scenarios.setup_policies(api)
            await scenarios.warmup(stack, api, baseline, sizes.warmup)
            _log("warm")
            with _profiling(args.profile, [stack.brain_worker, stack.api]):
                await _sections(result, only, stack, api, baseline, sessions, sizes)
        finally:
            await api.aclose()
            await engine.dispose()
    result["seconds"] = round(time.perf_counter() - t_all, 1)
    result["targets"] = scenarios.targets(result)
    return result


async def _sections(
    result: dict[str, Any],
    only: set[str],
    stack: Stack,
    api: BrainApi,
    baseline: Baseline,
    sessions: Any,
    sizes: Sizes,
) -> None:
    if "throughput" in only:
        _log(f"1. auto-path throughput at {sizes.concurrency}")
        result["throughput"] = await scenarios.throughput(stack, api, baseline, sizes)
    if "decisions" in only:
        _log(f"2-3. start and decision latency, {sizes.decisions} runs each")
        starts, decisions = await scenarios.start_and_decide(stack, api, baseline, sizes)
        result["start_latency"] = starts
        result["decision_latency"] = decisions
    if "parked" in only:
        _log(f"4-5. {sizes.parked} parked, {sizes.reads} reads, flip of {sizes.release}")
        result["parked"] = await scenarios.parked(stack, api, sessions, sizes)


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    sizes = _sizes(args)
    result = asyncio.run(measure(args, sizes))
    args.results_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = args.results_dir / f"{stamp}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    _log(f"wrote {out}")
    print(report.table(result))
    if args.doc != "none":
        doc = Path(args.doc)
        report.write(result, doc, source=out)
        _log(f"regenerated {doc}")
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # The SDK's runtime can abort while the interpreter finalizes (sdk-python#300).
    os._exit(code)
