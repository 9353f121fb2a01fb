"""``python -m bench.insights``: how long ``GET /insights/decisions`` takes to compute (SPEC
§7) over a large audit log. It seeds 100,000 audit rows (and their runs) into a scratch
PostgreSQL database, then times the same call the API makes and prints p50/p95 as JSON.

The mix is deliberately unkind: one tenant holds 90 % of the rows, so its insights read
most of the log; the rest is spread over nine small tenants. Target: p95 <= 200 ms.
"""

import argparse
import asyncio
import contextlib
import json
import random
import tempfile
import time
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import insert

from bench.stats import summary_ms
from models.processes import Process
from models.tables import DecisionRow, RunRow
from processes import registry
from services.insights import decision_insights
from store.db import is_sqlite, make_engine, make_sessionmaker, migrate
from store.policies import PolicyStore
from store.scratch import ADMIN_DSN, scratch_postgres

BIG = "acme"
# channel, decision, weight: mostly automatic, a third by people, a few of everything else.
_MIX = [
    ("auto", "approve", 40),
    ("api", None, 35),
    ("signal", None, 10),
    ("timeout", "reject", 5),
    ("policy", "approve", 5),
    ("api", "cancel", 5),
]


def _as_tenant(tenant: str) -> AbstractContextManager[None]:
    """The tenant the API would query as (an admin its own, a super admin ``*``), where
    PostgreSQL's row-level security binds queries to one (store/tenancy.py)."""
    try:
        from store.tenancy import tenant_scope
    except ImportError:  # a tree without row-level security: every query sees every row
        return nullcontext()
    return tenant_scope(tenant)


def _rows(count: int, seed: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    rng = random.Random(seed)
    now = datetime.now(UTC)
    processes = [p.value for p in registry.processes()]
    # Rows as the gate writes them: the gate named, and when it asked for a person.
    first_gates = [registry.definition(p).gates[0].name for p in processes]
    weights = [w for *_, w in _MIX]
    decisions, runs = [], []
    for i in range(count):
        wid = f"bench:{i}"
        tenant = BIG if rng.random() < 0.9 else f"small-{rng.randrange(9)}"
        channel, decision, _ = rng.choices(_MIX, weights)[0]
        confidence = round(rng.uniform(0.3, 1.0), 3)
        edits = None
        if decision is None:  # a person: the surer the model, the likelier a plain approve
            decision = "approve"
            if rng.random() > 0.2 + 0.8 * confidence:
                if rng.random() < 0.5:
                    decision = "reject"
                else:
                    edits = {"score": rng.randrange(100)}
        decided_at = now - timedelta(seconds=rng.uniform(0, 180 * 86400))
        parked = channel != "auto"
        waited = timedelta(seconds=rng.expovariate(1 / 3600))
        runs.append(
            {
                "workflow_id": wid,
                "tenant": tenant,
                "process": processes[i % len(processes)],
                "state": "completed",
                "requested_at": decided_at - waited if parked else None,
            }
        )
        decisions.append(
            {
                "approval_id": f"{wid}:1",
                "workflow_id": wid,
                "run_id": "r",
                "tenant": tenant,
                "process": processes[i % len(processes)],
                "decision": decision,
                "actor": "brain" if channel == "auto" else f"user-{rng.randrange(20)}",
                "channel": channel,
                "confidence": confidence,
                "threshold": 0.85,
                "hitl_enabled": True,
                "edits": edits,
                "decided_at": decided_at,
                "gate": first_gates[i % len(processes)],
                "requested_at": decided_at - waited if parked else None,
            }
        )
    return decisions, runs


async def _seed(url: str, count: int) -> None:
    """COPY as the tables' owner: fast, and not subject to row-level security. On SQLite,
    one transaction of inserts."""
    decisions, runs = _rows(count, seed=7)
    now = datetime.now(UTC)
    for d in decisions:
        d["recorded_at"] = d["decided_at"]
        d["policy_version"] = 1  # COPY fills no ORM defaults
    for r in runs:
        r["created_at"] = r["updated_at"] = now
    if is_sqlite(url):
        engine = make_engine(url)
        try:
            async with engine.begin() as sqlite:
                await sqlite.execute(insert(RunRow.__table__), runs)  # type: ignore[attr-defined]
                await sqlite.execute(insert(DecisionRow.__table__), decisions)  # type: ignore[attr-defined]
                await sqlite.exec_driver_sql("ANALYZE")
        finally:
            await engine.dispose()
        return
    for d in decisions:
        d["edits"] = json.dumps(d["edits"]) if d["edits"] is not None else None
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        for table, rows in (("runs", runs), ("decisions", decisions)):
            columns = list(rows[0])
            records = [tuple(row[c] for c in columns) for row in rows]
            await conn.copy_records_to_table(table, records=records, columns=columns)
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


async def _time(url: str, scopes: dict[str, dict[str, Any]], repeat: int, warmup: int) -> Any:
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    policies = PolicyStore(sessions)
    results = {}
    try:
        for name, scope in scopes.items():
            took = []
            for i in range(warmup + repeat):
                started = time.perf_counter()
                with _as_tenant(scope["tenant"]):
                    answer = await decision_insights(sessions, policies, **scope)
                if i >= warmup:
                    took.append(time.perf_counter() - started)
            lead = answer.items[0]
            results[name] = {
                **summary_ms(took),
                "runs": sum(item.runs for item in answer.items),
                "first_process": lead.model_dump(mode="json"),
            }
    finally:
        await engine.dispose()
    return results


def scopes() -> dict[str, dict[str, Any]]:
    month_ago = datetime.now(UTC) - timedelta(days=30)
    return {
        f"tenant {BIG}, every process": {"tenant": BIG},
        f"tenant {BIG}, lead_scoring, last 30 days": {
            "tenant": BIG,
            "process": Process("lead_scoring"),
            "since": month_ago,
        },
        "tenant small-0, every process": {"tenant": "small-0"},
        "every tenant (*), every process": {"tenant": "*"},
    }


async def measure(database: str, rows: int, repeat: int, warmup: int = 3) -> dict[str, Any]:
    """``python -m bench``'s insights figure on ``database`` (``postgres`` or ``sqlite``), in
    a database of its own."""
    async with contextlib.AsyncExitStack() as stack:
        if database == "postgres":
            url = await stack.enter_async_context(scratch_postgres("brain_bench_insights"))
        else:
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
            url = f"sqlite+aiosqlite:///{folder / 'insights.db'}"
        await migrate(url)
        started = time.perf_counter()
        await _seed(url, rows)
        seeded = time.perf_counter() - started
        timings = await _time(url, scopes(), repeat, warmup)
    return {"rows": rows, "seed_seconds": round(seeded, 1), "repeat": repeat, "scopes": timings}


async def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(prog="python -m bench.insights", description=__doc__)
    p.add_argument("--rows", type=int, default=100_000, help="audit rows to seed")
    p.add_argument("--repeat", type=int, default=100, help="timed calls per scope")
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--admin-dsn", default=ADMIN_DSN, help="PostgreSQL to make the scratch DB on")
    args = p.parse_args(argv)
    async with scratch_postgres("brain_bench_insights", args.admin_dsn) as url:
        await migrate(url)
        started = time.perf_counter()
        await _seed(url, args.rows)
        seeded = time.perf_counter() - started
        timings = await _time(url, scopes(), args.repeat, args.warmup)
    report = {"rows": args.rows, "seed_seconds": round(seeded, 1), "scopes": timings}
    print(json.dumps(report, indent=2))
    worst = max(t["p95_ms"] for t in timings.values())
    print(f"worst p95: {worst} ms (target <= 200 ms)")
    return report


if __name__ == "__main__":
    asyncio.run(main())
