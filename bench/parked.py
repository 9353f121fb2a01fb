"""4 and 5. Many parked runs: the start-and-park rate (and the baseline's), worker memory,
the inbox, reads under 50 clients, and a policy flip releasing part of them."""

import asyncio
import random

from bench import breakdown
from bench.load import Baseline, BrainApi, count_runs
from bench.rawhttp import RawConnection
from bench.scenarios import FLIP_TENANT, PARK_TENANT, Counted, Sessions, Sizes, pool
from bench.stack import Stack
from bench.stats import now, summary_ms

_SAMPLE = 20  # released runs whose histories are read


async def baseline_parking(stack: Stack, baseline: Baseline, sizes: Sizes) -> dict:
    """The baseline's start-and-park rate: starts over the SDK at the same concurrency as
    Brain's, until each run's AI step is done (its worker counts them)."""
    n = min(sizes.baseline_parked, sizes.parked)

    async def park(_: int) -> None:
        await baseline.start(wait_for_decision=True)

    async with Counted(stack) as c:
        t0 = now()
        await pool(n, sizes.park_concurrency, park)
        while True:
            parked = c.counter_now("baseline_worker", "baseline_parked")
            if parked >= n:
                break
            if now() - t0 > 600:
                raise RuntimeError(f"only {parked}/{n} baseline runs parked after 600 s")
            stack.check()
            await asyncio.sleep(0.1)
        wall = now() - t0
    return {
        "parked": n,
        "park_seconds": round(wall, 2),
        "park_runs_per_s": round(n / wall, 2),
        "park_database": c.per_run(0, n)["baseline"],
        "park_cpu_ms_per_run": c.cpu(n),
    }


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
    flip_ids: list[str] = []
    start_lat: list[float] = []
    # ``release`` of the runs park in the tenant whose policy will flip, spread evenly.
    tenants = [PARK_TENANT] * (n - release) + [FLIP_TENANT] * release
    random.Random(4).shuffle(tenants)

    async def park(i: int) -> None:
        tenant = tenants[i]
        wid, elapsed = await api.start(tenant)
        start_lat.append(elapsed)
        (ids if tenant == PARK_TENANT else flip_ids).append(wid)

    async with Counted(stack) as parking:
        wall = await pool(n, sizes.park_concurrency, park)
        flip_count = len(flip_ids)
        settle = await _wait_count(sessions, PARK_TENANT, "awaiting_approval", len(ids), 600, stack)
        await _wait_count(sessions, FLIP_TENANT, "awaiting_approval", flip_count, 600, stack)
    await asyncio.sleep(1.0)
    rss_parked = stack.brain_worker.rss_bytes()

    inbox = await _inbox(api, sizes.approvals_requests)

    async with Counted(stack) as reading:
        reads = await _reads(api, ids, sizes)
    reads["cpu_ms_per_request"] = reading.cpu(sizes.reads)
    reads["database"] = reading.per_run(sizes.reads)["brain"]

    # The flip: HITL off for the flip tenant; every run parked there may proceed.
    async with Counted(stack) as flipping:
        t0 = now()
        await api.set_policy(FLIP_TENANT, hitl=False)
        await _wait_count(sessions, FLIP_TENANT, "completed", 1, 600, stack)
        first_s = now() - t0
        await _wait_count(sessions, FLIP_TENANT, "completed", flip_count, 900, stack)
        flip_s = now() - t0
    rss_after = stack.brain_worker.rss_bytes()
    stack.check()
    # The release path's hops: from the policy change's signal to the run's end.
    released = await breakdown.mean(
        stack.client, flip_ids[:_SAMPLE], from_decision=True, settled=True
    )
    return {
        "parked": n,
        "park_concurrency": sizes.park_concurrency,
        "park_seconds": round(wall + settle, 2),
        "park_runs_per_s": round(n / (wall + settle), 2),
        "park_rest_start": summary_ms(start_lat),
        "park_database": parking.per_run(n)["brain"],
        "park_cpu_ms_per_run": parking.cpu(n),
        "worker_rss_mb_before": round(rss_before / 2**20, 1),
        "worker_rss_mb_parked": round(rss_parked / 2**20, 1),
        "worker_rss_mb_after_flip": round(rss_after / 2**20, 1),
        "approvals_tenant_parked": len(ids),
        "approvals": inbox,
        "reads": reads,
        "flip_released": flip_count,
        "flip_seconds": round(flip_s, 2),
        "flip_first_release_seconds": round(first_s, 2),
        "flip_database": flipping.per_run(max(flip_count, 1))["brain"],
        "flip_history": released,
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
        wall = await pool(sizes.reads, sizes.read_clients, job)
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
