"""The five measurements of issue 6, each returning a JSON-ready dict."""

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench import breakdown
from bench.load import Baseline, BrainApi, count_runs
from bench.rawhttp import RawConnection
from bench.stack import Stack
from bench.stats import now, summary_ms

Sessions = async_sessionmaker[AsyncSession]

# One tenant per scenario, so each one's policy and inbox are its own.
AUTO_TENANT = "bench-auto"
DECIDE_TENANT = "bench-decide"
PARK_TENANT = "bench-park"
FLIP_TENANT = "bench-flip"


@dataclass(frozen=True)
class Sizes:
    concurrency: tuple[int, ...] = (1, 10, 50)
    auto_runs: int = 200  # per concurrency level (at least 4 per client)
    auto_runs_serial: int = 30  # at concurrency 1
    decisions: int = 30
    parked: int = 10000
    release: int = 1000
    park_concurrency: int = 20
    approvals_requests: int = 200
    # A p99 from 2,000 samples rests on its 20 slowest: too few for a steady figure.
    reads: int = 6000
    read_clients: int = 50
    warmup: int = 10

    @classmethod
    def smoke(cls) -> "Sizes":
        return cls(
            concurrency=(1, 2),
            auto_runs=2,
            auto_runs_serial=2,
            decisions=2,
            parked=4,
            release=2,
            park_concurrency=2,
            approvals_requests=2,
            reads=4,
            read_clients=2,
            warmup=1,
        )


RESULT_TIMEOUT = 300.0


async def result_of(handle: Any) -> Any:
    """A run's result; a run that never ends fails the bench instead of hanging it."""
    return await asyncio.wait_for(handle.result(), RESULT_TIMEOUT)


async def _pool(total: int, clients: int, job: Callable[[int], Awaitable[None]]) -> float:
    """Run ``job(i)`` for i in range(total) on ``clients`` concurrent loops; the wall time."""
    counter = iter(range(total))

    async def client() -> None:
        for i in counter:
            await job(i)

    t0 = now()
    await asyncio.gather(*(client() for _ in range(min(clients, total))))
    return now() - t0


async def setup_policies(api: BrainApi) -> None:
    # The auto path: the AI proceeds on its own, whatever its confidence.
    await api.set_policy(AUTO_TENANT, hitl=False, threshold=0.0)
    # The flip: parks (HITL on) until the flip turns HITL off; threshold 0 so every parked
    # run is then auto-approvable.
    await api.set_policy(FLIP_TENANT, threshold=0.0)


async def warmup(stack: Stack, api: BrainApi, baseline: Baseline, runs: int) -> None:
    """Import, sandbox and connection costs are paid here, not in the first measurement."""

    async def brain(_: int) -> None:
        wid, _t = await api.start(AUTO_TENANT)
        await result_of(stack.client.get_workflow_handle(wid))

    async def bare(_: int) -> None:
        handle, _t = await baseline.start()
        await result_of(handle)

    await _pool(runs, 5, brain)
    await _pool(runs, 5, bare)


# ----- 1. auto-path throughput -----------------------------------------------------------


def _steady_sample(ids: list[str], k: int = 20) -> list[str]:
    """Runs from the middle of a measurement: neither its ramp-up nor its drain."""
    mid = len(ids) // 2
    return ids[max(0, mid - k // 2) : mid + k // 2]


async def _throughput_brain(stack: Stack, api: BrainApi, clients: int, runs: int) -> dict:
    latencies: list[float] = []
    starts: list[float] = []
    ids: list[str] = []

    async def job(_: int) -> None:
        t0 = now()
        wid, start_s = await api.start(AUTO_TENANT)
        ids.append(wid)
        result = await result_of(stack.client.get_workflow_handle(wid))
        latencies.append(now() - t0)
        starts.append(start_s)
        if result["state"] != "completed":
            raise RuntimeError(f"{wid} ended {result['state']}, expected completed")

    wall = await _pool(runs, clients, job)
    return {
        "runs": runs,
        "seconds": round(wall, 3),
        "runs_per_s": round(runs / wall, 2),
        "start_to_completed": summary_ms(latencies),
        "rest_start": summary_ms(starts),
        "history": await breakdown.mean(stack.client, _steady_sample(ids)),
    }


async def _throughput_baseline(baseline: Baseline, clients: int, runs: int) -> dict:
    latencies: list[float] = []
    ids: list[str] = []

    async def job(_: int) -> None:
        t0 = now()
        handle, _t = await baseline.start()
        ids.append(handle.id)
        await result_of(handle)
        latencies.append(now() - t0)

    wall = await _pool(runs, clients, job)
    return {
        "runs": runs,
        "seconds": round(wall, 3),
        "runs_per_s": round(runs / wall, 2),
        "start_to_completed": summary_ms(latencies),
        "history": await breakdown.mean(baseline.client, _steady_sample(ids)),
    }


def _cpu_ms_per_run(before: dict[str, float], after: dict[str, float], runs: int) -> dict:
    """CPU milliseconds per run spent by each process during a measurement."""
    out = {k: round((after[k] - before[k]) * 1000 / runs, 2) for k in after}
    out["total"] = round(sum(out.values()), 2)
    return out


async def throughput(stack: Stack, api: BrainApi, baseline: Baseline, sizes: Sizes) -> dict:
    levels = []
    for clients in sizes.concurrency:
        runs = sizes.auto_runs_serial if clients == 1 else max(sizes.auto_runs, clients)
        # Baseline first, then Brain, at each level: both see the same server state.
        cpu0 = stack.cpu()
        bare = await _throughput_baseline(baseline, clients, runs)
        cpu1 = stack.cpu()
        brain = await _throughput_brain(stack, api, clients, runs)
        cpu2 = stack.cpu()
        bare["cpu_ms_per_run"] = _cpu_ms_per_run(cpu0, cpu1, runs)
        brain["cpu_ms_per_run"] = _cpu_ms_per_run(cpu1, cpu2, runs)
        stack.check()
        levels.append(
            {
                "concurrency": clients,
                "baseline": bare,
                "brain": brain,
                "ratio": round(brain["runs_per_s"] / bare["runs_per_s"], 3),
            }
        )
    return {"levels": levels}


# ----- 2 and 3. start latency, then decision latency on the runs it started ----------------


async def start_and_decide(
    stack: Stack, api: BrainApi, baseline: Baseline, sizes: Sizes
) -> tuple[dict, dict]:
    n = sizes.decisions
    rest_starts: list[float] = []
    sdk_starts: list[float] = []
    brain_ids: list[str] = []
    bare_update = []
    bare_signal = []
    # Started one at a time: the start latency of an idle system, not of a queue.
    for _ in range(n):
        wid, elapsed = await api.start(DECIDE_TENANT)
        rest_starts.append(elapsed)
        brain_ids.append(wid)
        for group in (bare_update, bare_signal):
            handle, elapsed = await baseline.start(wait_for_decision=True)
            sdk_starts.append(elapsed)
            group.append(handle)
    for wid in brain_ids:
        await api.wait_parked(DECIDE_TENANT, wid)
    for handle in (*bare_update, *bare_signal):
        await baseline.wait_parked(handle)

    brain_lat: list[float] = []
    brain_rest: list[float] = []
    update_lat: list[float] = []
    signal_lat: list[float] = []
    # Interleaved, one decision at a time: each path sees the same background.
    for i in range(n):
        t0 = now()
        brain_rest.append(await api.approve(DECIDE_TENANT, brain_ids[i]))
        result = await result_of(stack.client.get_workflow_handle(brain_ids[i]))
        brain_lat.append(now() - t0)
        if result["state"] != "completed":
            raise RuntimeError(f"{brain_ids[i]} ended {result['state']}")

        t0 = now()
        await baseline.decide_by_update(bare_update[i])
        await result_of(bare_update[i])
        update_lat.append(now() - t0)

        t0 = now()
        await baseline.decide_by_signal(bare_signal[i])
        await result_of(bare_signal[i])
        signal_lat.append(now() - t0)
    stack.check()
    starts = {"brain_rest": summary_ms(rest_starts), "baseline_sdk": summary_ms(sdk_starts)}
    decisions = {
        "brain_rest_approve": summary_ms(brain_lat),
        "brain_rest_approve_response": summary_ms(brain_rest),
        "baseline_update": summary_ms(update_lat),
        "baseline_signal": summary_ms(signal_lat),
        # From the history, after the run woke up for its decision.
        "history": {
            "brain_rest_approve": await breakdown.mean(stack.client, brain_ids, from_decision=True),
            "baseline_update": await breakdown.mean(
                stack.client, [h.id for h in bare_update], from_decision=True
            ),
            "baseline_signal": await breakdown.mean(
                stack.client, [h.id for h in bare_signal], from_decision=True
            ),
        },
    }
    return starts, decisions


# ----- 4 and 5. many parked runs: memory, the inbox, reads under load, the policy flip -----


async def _wait_count(
    sessions: Sessions, tenant: str, state: str, target: int, within: float, stack: Stack
) -> float:
    """Seconds until ``target`` runs of ``tenant`` are in ``state``."""
    t0 = now()
    while True:
        done = await count_runs(sessions, tenant, state)
        if done >= target:
            return now() - t0
        if now() - t0 > within:
            raise RuntimeError(f"only {done}/{target} {tenant} runs {state} after {within} s")
        stack.check()
        await asyncio.sleep(0.1)


async def parked(stack: Stack, api: BrainApi, sessions: Sessions, sizes: Sizes) -> dict:
    n, release = sizes.parked, min(sizes.release, sizes.parked)
    rss_before = stack.brain_worker.rss_bytes()
    ids: list[str] = []
    start_lat: list[float] = []
    # ``release`` of the runs park in the tenant whose policy will flip, spread evenly.
    tenants = [PARK_TENANT] * (n - release) + [FLIP_TENANT] * release
    random.Random(4).shuffle(tenants)

    async def park(i: int) -> None:
        tenant = tenants[i]
        wid, elapsed = await api.start(tenant)
        start_lat.append(elapsed)
        if tenant == PARK_TENANT:
            ids.append(wid)

    wall = await _pool(n, sizes.park_concurrency, park)
    flip_count = n - len(ids)
    settle = await _wait_count(sessions, PARK_TENANT, "awaiting_approval", len(ids), 600, stack)
    await _wait_count(sessions, FLIP_TENANT, "awaiting_approval", flip_count, 600, stack)
    await asyncio.sleep(1.0)
    rss_parked = stack.brain_worker.rss_bytes()

    inbox = await _inbox(api, sizes.approvals_requests)

    cpu0 = stack.cpu()
    reads = await _reads(api, ids, sizes)
    reads["cpu_ms_per_request"] = _cpu_ms_per_run(cpu0, stack.cpu(), sizes.reads)

    # The flip: HITL off for the flip tenant; every run parked there may proceed.
    t0 = now()
    await api.set_policy(FLIP_TENANT, hitl=False)
    await _wait_count(sessions, FLIP_TENANT, "completed", 1, 600, stack)
    first_s = now() - t0
    await _wait_count(sessions, FLIP_TENANT, "completed", flip_count, 900, stack)
    flip_s = now() - t0
    rss_after = stack.brain_worker.rss_bytes()
    stack.check()
    return {
        "parked": n,
        "park_concurrency": sizes.park_concurrency,
        "park_seconds": round(wall + settle, 2),
        "park_runs_per_s": round(n / (wall + settle), 2),
        "park_rest_start": summary_ms(start_lat),
        "worker_rss_mb_before": round(rss_before / 2**20, 1),
        "worker_rss_mb_parked": round(rss_parked / 2**20, 1),
        "worker_rss_mb_after_flip": round(rss_after / 2**20, 1),
        "approvals_tenant_parked": len(ids),
        "approvals": inbox,
        "reads": reads,
        "flip_released": flip_count,
        "flip_seconds": round(flip_s, 2),
        "flip_first_release_seconds": round(first_s, 2),
    }


async def _reads(api: BrainApi, ids: list[str], sizes: Sizes) -> dict:
    lat: list[float] = []
    rng = random.Random(6)
    conns = [
        RawConnection(api.base_url, api.auth_headers(PARK_TENANT, "viewer"))
        for _ in range(sizes.read_clients)
    ]
    free = list(conns)

    async def job(_: int) -> None:
        conn = free.pop()
        try:
            t0 = now()
            status, _body = await conn.get(f"/workflows/{rng.choice(ids)}")
            lat.append(now() - t0)
        finally:
            free.append(conn)
        if status != 200:
            raise RuntimeError(f"GET /workflows/{{id}} answered {status}")

    try:
        wall = await _pool(sizes.reads, sizes.read_clients, job)
    finally:
        for conn in conns:
            await conn.close()
    return {
        "clients": sizes.read_clients,
        "requests": sizes.reads,
        "requests_per_s": round(sizes.reads / wall, 1),
        "latency": summary_ms(lat),
    }


async def _inbox(api: BrainApi, requests: int) -> dict:
    conn = RawConnection(api.base_url, api.auth_headers(PARK_TENANT, "viewer"))
    lat: list[float] = []
    try:
        for _ in range(requests):
            t0 = now()
            status, body = await conn.get("/approvals")
            lat.append(now() - t0)
            if status != 200 or b'"items":[]' in body:
                raise RuntimeError(f"GET /approvals answered {status} {body[:200]!r}")
    finally:
        await conn.close()
    return summary_ms(lat)


def targets(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's targets, each with the measured value and whether it was met."""
    out: list[dict[str, Any]] = []

    def add(name: str, goal: str, value: str, met: bool) -> None:
        out.append({"name": name, "target": goal, "value": value, "met": bool(met)})

    if "throughput" in result:
        levels = {lv["concurrency"]: lv for lv in result["throughput"]["levels"]}
        top = levels.get(50) or levels[max(levels)]
        add(
            f"auto-path throughput at concurrency {top['concurrency']}, Brain / baseline",
            ">= 0.8",
            f"{top['ratio']:.2f}",
            top["ratio"] >= 0.8,
        )
    if "decision_latency" in result:
        dec = result["decision_latency"]
        gap = dec["brain_rest_approve"]["p50_ms"] - dec["baseline_update"]["p50_ms"]
        add(
            "approve-to-completed p50, Brain REST minus baseline Update",
            "<= 15 ms",
            f"{gap:+.1f} ms",
            gap <= 15,
        )
    if "parked" in result:
        park = result["parked"]
        add(
            f"GET /approvals p95 with {park['parked']} parked",
            "<= 100 ms",
            f"{park['approvals']['p95_ms']:.1f} ms",
            park["approvals"]["p95_ms"] <= 100,
        )
        reads = park["reads"]
        add(
            f"GET /workflows/{{id}} p99 at {reads['clients']} concurrent clients",
            "<= 200 ms",
            f"{reads['latency']['p99_ms']:.1f} ms",
            reads["latency"]["p99_ms"] <= 200,
        )
        add(
            f"worker RSS with {park['parked']} parked",
            "<= 500 MB",
            f"{park['worker_rss_mb_parked']:.0f} MB",
            park["worker_rss_mb_parked"] <= 500,
        )
        add(
            f"policy flip releasing {park['flip_released']} parked runs",
            "<= 30 s",
            f"{park['flip_seconds']:.1f} s",
            park["flip_seconds"] <= 30,
        )
    return out
