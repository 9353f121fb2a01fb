"""The "Per path" section of ``docs/PERFORMANCE.md`` (issue 24): every hop and round trip on
each path, Brain beside the bare baseline and the tuned baseline; a table per database."""

from typing import Any

from bench import paths
from bench.hops import KEYS
from bench.report_sections import Dbs, head, name, row

_LABELS = {
    "workflow_tasks": "workflow tasks",
    "activities": "activities",
    "local_activities": "local activities",
    "patch_markers": "patch markers",
    "search_attribute_upserts": "search-attribute upserts",
    "properties_modified": "memo updates",
    "signals": "signals",
    "updates": "updates",
    "timers": "timers",
    "timer_cancels": "timer cancels",
    "events": "events",
    "payloads": "payloads",
    "payload_bytes": "payload bytes",
}
_DB = (
    ("statements", "DB statements"),
    ("transactions", "transactions"),
    ("round_trips", "round trips"),
)


def section(dbs: Dbs) -> list[str]:
    tables = {db: paths.collect(per) for db, per in dbs.items()}
    if not any(tables.values()):
        return []
    out = [
        "",
        "## Per path: hops and round trips",
        "",
        "What each path asks of Temporal and of the database, per run (per request for the "
        "read). Hops are counted in the histories of sampled runs (`bench/hops.py`; per-run "
        "means, so a fraction says the runs differed): auto, runs from the middle of the top "
        "concurrency; park, the decision section's runs up to parking (their workflow task "
        "done); decide, the same runs from the decision on (an Update counts from the workflow "
        "task that ran it); release, runs freed by the policy flip, from its signal on. "
        "Workflow tasks are those started; activities those scheduled; local activities and "
        "patch markers their markers; payloads every payload in the events (inputs, results, "
        "headers, search attributes, memo), bytes as stored: each is serialized by the SDK and "
        "stored by the server. Database work as in the table above: statements, transactions, "
        "PostgreSQL round trips (the decide row of the bare baseline is per Update or Signal "
        "decision, both writing the same row). The tuned baseline is the bare baseline with "
        "its database step a local activity and every start eager (`bench/baseline_tuned.py`); "
        "it is a reference, not a target.",
    ]
    cols = [_LABELS[k] for k in KEYS] + [label for _, label in _DB]
    for db, rows in tables.items():
        if not rows:
            continue
        out += ["", f"**{name(db)}**", "", *head("path", "who", *cols)]
        for r in rows:
            hops, database = r["hops"] or {}, r["database"] or {}
            cells = [_num(hops.get(k)) for k in KEYS] + [_num(database.get(k)) for k, _ in _DB]
            out.append(row(r["path"], r["side"], *cells))
    return out


def _num(value: Any) -> str:
    if value is None:
        return "-"
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.0f}" if abs(value) >= 100 else f"{value:.2f}".rstrip("0")
