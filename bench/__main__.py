"""``python -m bench``: on each database (PostgreSQL, the reference, then SQLite), start a
stack and measure Brain against the bare-SDK baseline (and the tuned one: local activity,
eager start; a reference), with each path's hops and round trips; time the insights query;
write ``bench/results/<timestamp>.json`` and regenerate ``docs/PERFORMANCE.md`` from it."""

import argparse
import asyncio
import contextlib
import json
import os
import platform
import signal
import sys
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil
import temporalio

from bench import auto, decide, insights, parked, profile, report, scenarios
from bench.load import Baseline, BrainApi, TunedBaseline
from bench.receiver import Receiver
from bench.scenarios import Sizes
from bench.stack import Stack, running_stack, sessions_for
from bench.targets import targets

_HERE = Path(__file__).resolve().parent
SECTIONS = ("throughput", "decisions", "parked", "insights")
DATABASES = ("postgres", "sqlite")


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
    p.add_argument(
        "--database",
        default=",".join(DATABASES),
        help="comma-separated, in order: postgres (the reference) and/or sqlite",
    )
    p.add_argument("--baseline-parked", type=int, default=d.baseline_parked)
    p.add_argument("--insights-rows", type=int, default=100_000)
    p.add_argument("--insights-repeat", type=int, default=50)
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
    p.add_argument(
        "--profile",
        type=Path,
        help="after the measurements on the first database, one more auto-path pass at the top "
        "concurrency with py-spy on the worker and the API, into this dir (not measured)",
    )
    args = p.parse_args(argv)
    args.databases = [d.strip() for d in args.database.split(",") if d.strip()]
    unknown = set(args.databases) - set(DATABASES)
    if unknown or not args.databases:
        p.error(f"--database: one or more of {', '.join(DATABASES)}")
    return args


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
        baseline_parked=args.baseline_parked,
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


async def measure(args: argparse.Namespace, sizes: Sizes) -> dict[str, Any]:
    only = {s.strip() for s in args.only.split(",") if s.strip()}
    result: dict[str, Any] = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": "python -m bench " + " ".join(sys.argv[1:]),
        "machine": machine(),
        "sizes": asdict(sizes),
        "api_workers": args.api_workers,
        "databases": {},
    }
    t_all = time.perf_counter()
    # SIGTERM (a timeout, a CI kill) unwinds like Ctrl-C, so the stack is always stopped.
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    for i, database in enumerate(args.databases):
        t_db = time.perf_counter()
        per: dict[str, Any] = {}
        if only & {"throughput", "decisions", "parked"}:
            spy = args.profile if i == 0 else None
            await _on_stack(per, database, only, sizes, args.api_workers, spy)
        if "insights" in only:
            rows = 200 if args.smoke else args.insights_rows
            repeat = 3 if args.smoke else args.insights_repeat
            _log(f"6. insights over {rows} audit rows, {database}")
            per["insights"] = await insights.measure(database, rows, repeat)
        per["seconds"] = round(time.perf_counter() - t_db, 1)
        per["targets"] = targets(per)
        result["databases"][database] = per
    result["seconds"] = round(time.perf_counter() - t_all, 1)
    return result


async def _on_stack(
    per: dict[str, Any],
    database: str,
    only: set[str],
    sizes: Sizes,
    api_workers: int,
    spy: Path | None,
) -> None:
    receiver = Receiver()
    await receiver.start()
    async with running_stack(database, api_workers=api_workers) as stack:
        _log(f"stack up: temporal {stack.temporal_address}, api {stack.api_url}, {database}")
        api = BrainApi(stack.api_url)
        baseline = Baseline(stack.client)
        tuned = TunedBaseline(stack.client, base_url=stack.tuned_url)
        engine, sessions = sessions_for(stack.database_url)
        try:
            await scenarios.setup(api, receiver)
            await scenarios.warmup(stack, api, (baseline, tuned), sizes.warmup)
            _log("warm")
            await _sections(per, only, stack, api, (baseline, tuned), receiver, sessions, sizes)
            if spy is not None:
                _log(f"profile: one more auto pass at {max(sizes.concurrency)}, py-spy on")
                per["profile"] = await profile.auto_pass(stack, api, sizes, spy)
        finally:
            await api.aclose()
            await tuned.aclose()
            await engine.dispose()
            await receiver.close()


async def _sections(
    per: dict[str, Any],
    only: set[str],
    stack: Stack,
    api: BrainApi,
    baselines: tuple[Baseline, TunedBaseline],
    receiver: Receiver,
    sessions: Any,
    sizes: Sizes,
) -> None:
    baseline, tuned = baselines
    if "throughput" in only:
        _log(f"1. auto-path throughput at {sizes.concurrency}")
        per["throughput"] = await auto.throughput(stack, api, baseline, tuned, receiver, sizes)
    if "decisions" in only:
        _log(f"2-3. start and decision latency, {sizes.decisions} runs each")
        starts, decisions = await decide.start_and_decide(stack, api, baseline, tuned, sizes)
        per["start_latency"] = starts
        per["decision_latency"] = decisions
    if "parked" in only:
        n = min(sizes.baseline_parked, sizes.parked)
        _log(f"4. the baseline parks {n}")
        per["baseline_parking"] = await parked.baseline_parking(stack, baseline, sizes)
        _log(f"4-5. {sizes.parked} parked, {sizes.reads} reads, flip of {sizes.release}")
        per["parked"] = await parked.parked(stack, api, sessions, sizes)


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
