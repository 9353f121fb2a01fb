"""What the measurements share: the run sizes, the tenants, the pool of closed-loop clients,
the policies and the webhook subscription every run of the bench carries, and counting the
database's work around a measurement. The measurements are in ``auto.py``, ``decide.py``
and ``parked.py``; the targets they are held to in ``targets.py``."""

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench import dbcounts
from bench.load import Baseline, BrainApi
from bench.receiver import Receiver
from bench.stack import Stack
from bench.stats import now

Sessions = async_sessionmaker[AsyncSession]

# One tenant per scenario, so each one's policy and inbox are its own.
AUTO_TENANT = "bench-auto"  # one webhook subscriber: run.completed
QUIET_TENANT = "bench-auto-quiet"  # the same policy, no subscriber
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
    # The baseline's start-and-park rate, from this many runs (they stay parked).
    baseline_parked: int = 2000
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
            baseline_parked=4,
            approvals_requests=2,
            reads=4,
            read_clients=2,
            warmup=1,
        )


RESULT_TIMEOUT = 300.0


async def result_of(handle: Any) -> Any:
    """A run's result; a run that never ends fails the bench instead of hanging it."""
    return await asyncio.wait_for(handle.result(), RESULT_TIMEOUT)


async def pool(total: int, clients: int, job: Callable[[int], Awaitable[None]]) -> float:
    """Run ``job(i)`` for i in range(total) on ``clients`` concurrent loops; the wall time."""
    counter = iter(range(total))

    async def client() -> None:
        for i in counter:
            await job(i)

    t0 = now()
    await asyncio.gather(*(client() for _ in range(min(clients, total))))
    return now() - t0


async def setup(api: BrainApi, receiver: Receiver) -> None:
    # The auto path: the AI proceeds on its own, whatever its confidence.
    for tenant in (AUTO_TENANT, QUIET_TENANT):
        await api.set_policy(tenant, hitl=False, threshold=0.0)
    # The flip: parks (HITL on) until the flip turns HITL off; threshold 0 so every parked
    # run is then auto-approvable.
    await api.set_policy(FLIP_TENANT, threshold=0.0)
    # One real subscriber, for the auto tenant's completed runs, for the whole bench.
    await api.subscribe(AUTO_TENANT, receiver.url, ["run.completed"])


async def warmup(stack: Stack, api: BrainApi, baselines: tuple[Baseline, ...], runs: int) -> None:
    """Import, sandbox and connection costs are paid here, not in the first measurement."""

    async def brain(i: int) -> None:
        wid, _t = await api.start(AUTO_TENANT if i % 2 else QUIET_TENANT)
        await result_of(stack.client.get_workflow_handle(wid))

    await pool(max(runs, 2), 5, brain)
    for baseline in baselines:

        async def bare(_: int, baseline: Baseline = baseline) -> None:
            handle, _t = await baseline.start()
            await result_of(handle)

        await pool(runs, 5, bare)


def cpu_ms_per_run(before: dict[str, float], after: dict[str, float], runs: int) -> dict:
    """CPU milliseconds per run spent by each process during a measurement; ``stack``: all
    but the load generator (API, workers, Temporal, PostgreSQL's backends)."""
    out = {k: round((after[k] - before[k]) * 1000 / runs, 2) for k in after}
    out["stack"] = round(sum(v for k, v in out.items() if k != "load_generator"), 2)
    return out


class Counted:
    """The database counters and CPU around a measurement: ``async with Counted(stack) as c``,
    then ``c.per_run(runs, baseline_runs)``."""

    def __init__(self, stack: Stack) -> None:
        self._stack = stack

    async def __aenter__(self) -> "Counted":
        self.db0 = await dbcounts.snapshot(self._stack.counts_dir)
        self.cpu0 = self._stack.cpu()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.cpu1 = self._stack.cpu()
        self.db1 = await dbcounts.snapshot(self._stack.counts_dir)

    def per_run(self, runs: int, baseline_runs: int = 0) -> dict[str, Any]:
        return dbcounts.both(self.db0, self.db1, runs, baseline_runs)

    def side(self, side: str, runs: int) -> dict[str, Any]:
        """Per run, the work of one side's processes (``dbcounts.SIDES``)."""
        return dbcounts.per_run(self.db0, self.db1, runs, dbcounts.SIDES[side])

    def cpu(self, runs: int) -> dict[str, float]:
        return cpu_ms_per_run(self.cpu0, self.cpu1, runs)

    def counter_now(self, role: str, name: str) -> int:
        """How far ``role``'s counter ``name`` moved since the start, as written so far."""
        now = dbcounts.read(self._stack.counts_dir)
        return int(
            now.get(role, Counter()).get(name, 0) - self.db0.get(role, Counter()).get(name, 0)
        )
