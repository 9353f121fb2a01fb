"""What Brain and the baselines ask of the database per run, on each path: statements,
transactions, commits and rollbacks, counted in each process by ``store/statement_counts.py``
(on for the bench's processes only) and read here before and after a scenario.

Round trips on PostgreSQL: each statement is one (asyncpg keeps each connection's prepared
statements), and each transaction adds its BEGIN and its COMMIT or ROLLBACK; a statement
run under AUTOCOMMIT (``store.db.single_statement``) adds nothing. SQLite makes no round
trips: there the same counts are calls into the library.
"""

import asyncio
import json
from collections import Counter
from pathlib import Path
from typing import Any

# Which process is whose: the API and Brain's worker are Brain; each baseline its worker.
BRAIN_ROLES = ("api", "brain_worker")
BASELINE_ROLES = ("baseline_worker",)
TUNED_ROLES = ("tuned_worker",)
SIDES = {"brain": BRAIN_ROLES, "baseline": BASELINE_ROLES, "tuned": TUNED_ROLES}
_SETTLE = 0.5  # the processes write their counters every 0.2 s


def read(folder: Path) -> dict[str, Counter[str]]:
    """The counters so far, summed per role (the API runs in several processes)."""
    out: dict[str, Counter[str]] = {}
    for path in folder.glob("*.json"):
        role = path.stem.rsplit("-", 1)[0]
        try:
            counts = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        out.setdefault(role, Counter()).update(counts)
    return out


async def snapshot(folder: Path) -> dict[str, Counter[str]]:
    await asyncio.sleep(_SETTLE)
    return read(folder)


def per_run(
    before: dict[str, Counter[str]],
    after: dict[str, Counter[str]],
    runs: int,
    roles: tuple[str, ...],
) -> dict[str, Any]:
    """Per run, over ``roles``: statements, transactions, commits, rollbacks, autocommit
    statements, PostgreSQL round trips; and the round trips of each role."""
    total: Counter[str] = Counter()
    by_role: dict[str, float] = {}
    for role in roles:
        delta = after.get(role, Counter()).copy()
        delta.subtract(before.get(role, Counter()))
        total.update(delta)
        by_role[role] = round(_trips(delta) / max(runs, 1), 2)
    keys = ("statements", "transactions", "commits", "rollbacks", "autocommit", "connects")
    out: dict[str, Any] = {k: round(total[k] / max(runs, 1), 2) for k in keys}
    out["round_trips"] = round(_trips(total) / max(runs, 1), 2)
    out["round_trips_by_process"] = by_role
    out["runs"] = runs
    return out


def _trips(c: Counter[str]) -> int:
    return c["statements"] + 2 * c["transactions"]


def both(
    before: dict[str, Counter[str]], after: dict[str, Counter[str]], runs: int, baseline_runs: int
) -> dict[str, Any]:
    return {
        "brain": per_run(before, after, runs, BRAIN_ROLES),
        "baseline": per_run(before, after, baseline_runs, BASELINE_ROLES)
        if baseline_runs
        else None,
    }
