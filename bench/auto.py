"""1. The auto path, start to completed, Brain over REST against the baseline over the SDK
and the tuned baseline (local activity, eager start) through its door, at each concurrency;
at the top one also Brain without the webhook subscriber, and the subscriber's
event-to-delivery latency. Each measurement counts its database work and samples its runs'
histories."""

from typing import Any

from bench import breakdown
from bench.load import Baseline, BrainApi, TunedBaseline
from bench.receiver import Receiver
from bench.scenarios import AUTO_TENANT, QUIET_TENANT, Counted, Sizes, pool, result_of
from bench.stack import Stack
from bench.stats import now, summary_ms

# How long the deliveries of a measurement may trail its last run.
_DELIVERY_GRACE = 120.0


def _steady_sample(ids: list[str], k: int = 20) -> list[str]:
    """Runs from the middle of a measurement: neither its ramp-up nor its drain."""
    mid = len(ids) // 2
    return ids[max(0, mid - k // 2) : mid + k // 2]


async def _brain(stack: Stack, api: BrainApi, tenant: str, clients: int, runs: int) -> dict:
    latencies: list[float] = []
    starts: list[float] = []
    ids: list[str] = []

    async def job(_: int) -> None:
        t0 = now()
        wid, start_s = await api.start(tenant)
        ids.append(wid)
        result = await result_of(stack.client.get_workflow_handle(wid))
        latencies.append(now() - t0)
        starts.append(start_s)
        if result["state"] != "completed":
            raise RuntimeError(f"{wid} ended {result['state']}, expected completed")

    wall = await pool(runs, clients, job)
    return _measured(runs, wall, latencies, ids, rest_start=summary_ms(starts))


async def _baseline(baseline: Baseline, clients: int, runs: int) -> dict:
    """Either baseline: the bare one, or the tuned one (then also how many of its starts the
    server made eager: a busy worker has no slot to take the first task at once)."""
    latencies: list[float] = []
    ids: list[str] = []
    eager0 = baseline.eager if isinstance(baseline, TunedBaseline) else 0

    async def job(_: int) -> None:
        t0 = now()
        handle, _t = await baseline.start()
        ids.append(handle.id)
        if await result_of(handle) != "completed":
            raise RuntimeError(f"{handle.id} did not complete")
        latencies.append(now() - t0)

    wall = await pool(runs, clients, job)
    if isinstance(baseline, TunedBaseline):
        return _measured(runs, wall, latencies, ids, eager_starts=baseline.eager - eager0)
    return _measured(runs, wall, latencies, ids)


def _measured(
    runs: int, wall: float, latencies: list[float], ids: list[str], **extra: object
) -> dict:
    """One side's level, Brain's or the baseline's, in the same shape (``extra`` before the
    ids, as the report's JSON always had them)."""
    return {
        "runs": runs,
        "seconds": round(wall, 3),
        "runs_per_s": round(runs / wall, 2),
        "start_to_completed": summary_ms(latencies),
        **extra,
        "ids": ids,
    }


async def _subscribed(
    stack: Stack, api: BrainApi, receiver: Receiver, clients: int, runs: int
) -> dict:
    """Brain on the subscribed tenant; done when every run completed and its event arrived."""
    receiver.reset()
    t0 = now()
    out = await _brain(stack, api, AUTO_TENANT, clients, runs)
    delivered = await receiver.wait_for(runs, _DELIVERY_GRACE)
    until_delivered = now() - t0
    out["webhooks"] = {
        "delivered": len(receiver.latencies),
        "all_delivered": delivered,
        "event_to_delivery": summary_ms(list(receiver.latencies.values())),
        "seconds_until_delivered": round(until_delivered, 3),
        "runs_per_s_delivered": round(runs / until_delivered, 2),
    }
    return out


async def _finish(stack: Stack, measured: dict, counted: Counted, runs: int, side: str) -> dict:
    """``side``: whose processes' database work counts (``dbcounts.SIDES``)."""
    ids = measured.pop("ids")
    measured["cpu_ms_per_run"] = counted.cpu(runs)
    measured["database"] = counted.side(side, runs)
    measured["history"] = await breakdown.mean(stack.client, _steady_sample(ids))
    return measured


async def throughput(
    stack: Stack,
    api: BrainApi,
    baseline: Baseline,
    tuned: TunedBaseline,
    receiver: Receiver,
    sizes: Sizes,
) -> dict[str, Any]:
    levels = []
    top = max(sizes.concurrency)
    for clients in sizes.concurrency:
        runs = sizes.auto_runs_serial if clients == 1 else max(sizes.auto_runs, clients)
        # The baselines first, then Brain, at each level: all see the same server state.
        async with Counted(stack) as c:
            bare = await _baseline(baseline, clients, runs)
        bare = await _finish(stack, bare, c, runs, "baseline")
        async with Counted(stack) as c:
            fast = await _baseline(tuned, clients, runs)
        fast = await _finish(stack, fast, c, runs, "tuned")
        async with Counted(stack) as c:
            brain = await _subscribed(stack, api, receiver, clients, runs)
        brain = await _finish(stack, brain, c, runs, "brain")
        level: dict[str, Any] = {
            "concurrency": clients,
            "baseline": bare,
            "tuned": fast,
            "brain": brain,
            # The targets' ratio: against the bare baseline. The tuned one is a reference.
            "ratio": round(brain["runs_per_s"] / bare["runs_per_s"], 3),
            "tuned_ratio": round(brain["runs_per_s"] / fast["runs_per_s"], 3),
        }
        if clients == top:
            # The same load on a tenant nobody subscribed to: what the subscriber costs.
            async with Counted(stack) as c:
                quiet = await _brain(stack, api, QUIET_TENANT, clients, runs)
            level["brain_no_subscriber"] = await _finish(stack, quiet, c, runs, "brain")
            hooks = brain["webhooks"]
            level["subscriber_ratio"] = round(
                hooks["runs_per_s_delivered"] / quiet["runs_per_s"], 3
            )
        stack.check()
        levels.append(level)
    return {"levels": levels}
