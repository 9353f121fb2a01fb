"""The sections of ``docs/PERFORMANCE.md``, each rendering every database of the run side
by side (PostgreSQL, the reference, first). ``dbs`` maps a database to its results."""

from typing import Any

DB_NAMES = {"postgres": "PostgreSQL", "sqlite": "SQLite"}
Dbs = dict[str, dict[str, Any]]


def ms(s: dict[str, Any] | None, key: str) -> str:
    value = (s or {}).get(key)
    return "-" if value is None else f"{value:.1f}"


def row(*cells: object) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def head(*cells: str) -> list[str]:
    return [row(*cells), row(*["---"] * len(cells))]


def name(db: str) -> str:
    return DB_NAMES.get(db, db)


def targets(dbs: Dbs) -> list[str]:
    keys: list[str] = []
    names: dict[str, tuple[str, str]] = {}
    for per in dbs.values():
        for t in per.get("targets", []):
            if t["key"] not in names:
                keys.append(t["key"])
                names[t["key"]] = (t["name"], t["target"])
    cols = ["target", "goal"]
    for db in dbs:
        cols += [name(db), ""]
    out = head(*cols)
    for key in keys:
        cells = list(names[key])
        for per in dbs.values():
            found = {t["key"]: t for t in per.get("targets", [])}.get(key)
            mark = ("met" if found["met"] else "**missed**") if found else ""
            cells += [found["value"] if found else "-", mark]
        out.append(row(*cells))
    return out


def throughput(dbs: Dbs) -> list[str]:
    out = [
        "",
        "## 1. Auto-path throughput (start to completed)",
        "",
        "Brain: `POST /workflows/lead_scoring` (HITL off, threshold 0) on the tenant with one "
        "webhook subscriber (its `run.completed` events go to a real HTTP receiver in the load "
        "generator), then the run's result from Temporal. Baseline: `client.start_workflow`, "
        "then the result. Tuned baseline: a start through the door in its worker's process "
        "(eager: the server hands the first workflow task straight back; `eager` counts the "
        "starts it did so), then the result. Each client starts its next run when its last "
        "one completed.",
        "",
        *head(
            "database", "concurrency", "runs", "baseline runs/s", "tuned runs/s", "eager",
            "Brain runs/s", "Brain / baseline", "Brain / tuned", "baseline p50 ms",
            "tuned p50 ms", "Brain p50 ms", "Brain p99 ms", "REST start p50 ms",
        ),
    ]  # fmt: skip
    for db, per in dbs.items():
        for lv in per.get("throughput", {}).get("levels", []):
            b, r, t = lv["baseline"], lv["brain"], lv.get("tuned") or {}
            out.append(
                row(
                    name(db),
                    lv["concurrency"],
                    r["runs"],
                    f"{b['runs_per_s']:.1f}",
                    f"{t['runs_per_s']:.1f}" if t else "-",
                    f"{t['eager_starts']} / {t['runs']}" if t else "-",
                    f"{r['runs_per_s']:.1f}",
                    f"{lv['ratio']:.2f}",
                    f"{lv['tuned_ratio']:.2f}" if t else "-",
                    ms(b["start_to_completed"], "p50_ms"),
                    ms(t.get("start_to_completed"), "p50_ms"),
                    ms(r["start_to_completed"], "p50_ms"),
                    ms(r["start_to_completed"], "p99_ms"),
                    ms(r["rest_start"], "p50_ms"),
                )
            )
    return out + _webhooks(dbs) + _cpu(dbs) + _history(dbs)


def _top(per: dict[str, Any]) -> dict[str, Any] | None:
    levels = per.get("throughput", {}).get("levels", [])
    return levels[-1] if levels else None


def _webhooks(dbs: Dbs) -> list[str]:
    out = [
        "",
        "The webhook subscriber at the top concurrency: event-to-delivery latency (the event's "
        "`created_at` to its arrival at the receiver), and Brain's rate with the subscriber "
        "(until every run completed and its event arrived) against the same load on a tenant "
        "without one.",
        "",
        *head(
            "database", "delivered", "p50 ms", "p95 ms", "max ms", "runs/s, subscriber",
            "runs/s, none", "subscriber / none",
        ),
    ]  # fmt: skip
    for db, per in dbs.items():
        top = _top(per)
        if not top or "webhooks" not in top["brain"]:
            continue
        hooks, quiet = top["brain"]["webhooks"], top.get("brain_no_subscriber", {})
        lat = hooks["event_to_delivery"]
        out.append(
            row(
                name(db),
                f"{hooks['delivered']} / {top['brain']['runs']}",
                ms(lat, "p50_ms"),
                ms(lat, "p95_ms"),
                ms(lat, "max_ms"),
                f"{hooks['runs_per_s_delivered']:.1f}",
                f"{quiet.get('runs_per_s', 0):.1f}",
                f"{top.get('subscriber_ratio', 0):.2f}",
            )
        )
    return out


def _cpu(dbs: Dbs) -> list[str]:
    keys = (
        "api", "brain_worker", "baseline_worker", "tuned_worker", "temporal", "db", "stack",
        "load_generator",
    )  # fmt: skip
    out = [
        "",
        "CPU per completed run at the top concurrency (ms, user + system, from each process's "
        "counters; `db`: PostgreSQL's backends for the bench's database, SQLite works inside "
        "the processes; `stack`: all but the load generator, the figure the CPU target "
        "compares):",
        "",
        *head("database", "", *keys),
    ]
    for db, per in dbs.items():
        top = _top(per)
        if not top:
            continue
        runs = [("baseline", top["baseline"])]
        if "tuned" in top:
            runs.append(("tuned baseline", top["tuned"]))
        runs.append(("Brain", top["brain"]))
        if "brain_no_subscriber" in top:
            runs.append(("Brain, no subscriber", top["brain_no_subscriber"]))
        for label, measured in runs:
            cpu = measured["cpu_ms_per_run"]
            out.append(row(name(db), label, *(cpu.get(k, "-") for k in keys)))
    return out


def _history(dbs: Dbs) -> list[str]:
    out: list[str] = []
    for db, per in dbs.items():
        top = _top(per)
        if not top or not top["baseline"].get("history") or not top["brain"].get("history"):
            continue
        keys = [k for k in top["baseline"]["history"] if k not in ("runs_sampled", "hops")]
        if not out:
            out += [
                "",
                "Where a run's time went at the top concurrency, from the histories of runs in "
                "mid-measurement (per-run sums, ms; queue = scheduled to started, work = "
                "started to completed):",
                "",
                *head("database", "", *keys),
            ]
        sides = [("baseline", top["baseline"]), ("tuned baseline", top.get("tuned")),
                 ("Brain", top["brain"])]  # fmt: skip
        for label, side in sides:
            if side and side.get("history"):
                out.append(row(name(db), label, *(side["history"].get(k, "-") for k in keys)))
    return out


_PATHS = (
    ("auto (one subscriber)", lambda p: (_top(p) or {}).get("brain", {}).get("database"),
     lambda p: (_top(p) or {}).get("baseline", {}).get("database")),
    ("auto (no subscriber)",
     lambda p: (_top(p) or {}).get("brain_no_subscriber", {}).get("database"), lambda p: None),
    ("park", lambda p: p.get("parked", {}).get("park_database"),
     lambda p: p.get("baseline_parking", {}).get("park_database")),
    ("decide (REST approve; baseline: Update or Signal)",
     lambda p: p.get("decision_latency", {}).get("database", {}).get("brain"),
     lambda p: p.get("decision_latency", {}).get("database", {}).get("baseline")),
    ("release (policy flip)", lambda p: p.get("parked", {}).get("flip_database"), lambda p: None),
    ("GET /workflows/{id}", lambda p: p.get("parked", {}).get("reads", {}).get("database"),
     lambda p: None),
)  # fmt: skip


def round_trips(dbs: Dbs) -> list[str]:
    out = [
        "",
        "## Database work per run",
        "",
        "Counted in each process by an engine hook the bench turns on (`store/statement_counts"
        ".py`), per run (per request for the read): Brain is the API and its worker, the "
        "baseline its worker. Round trips are PostgreSQL's: each statement one (prepared once "
        "per connection), each transaction two more (BEGIN, and COMMIT or ROLLBACK); a "
        "statement under autocommit none more. SQLite makes no round trips: there the "
        "statements are calls into the library. `API / worker`: Brain's round trips by process.",
        "",
        *head(
            "path", "database", "Brain statements", "transactions", "commits", "round trips",
            "API / worker", "baseline statements", "commits", "round trips",
        ),
    ]  # fmt: skip
    for path, brain_of, bare_of in _PATHS:
        for db, per in dbs.items():
            brain, bare = brain_of(per), bare_of(per)
            if not brain:
                continue
            split = brain.get("round_trips_by_process", {})
            out.append(
                row(
                    path,
                    name(db),
                    brain["statements"],
                    brain["transactions"],
                    brain["commits"],
                    brain["round_trips"],
                    f"{split.get('api', 0)} / {split.get('brain_worker', 0)}",
                    *(
                        (bare["statements"], bare["commits"], bare["round_trips"])
                        if bare
                        else ("-", "-", "-")
                    ),
                )
            )
    return out
