"""The later sections of ``docs/PERFORMANCE.md``: decisions and starts, parked runs and
reads, the insights query, the profile; every database side by side."""

from typing import Any

from bench.report_sections import Dbs, head, ms, name, row


def decisions(dbs: Dbs) -> list[str]:
    labels = (
        ("Brain: REST approve to run completed", "brain_rest_approve"),
        ("Brain: REST approve response alone", "brain_rest_approve_response"),
        ("baseline: Update to run completed", "baseline_update"),
        ("baseline: Signal to run completed", "baseline_signal"),
        ("tuned baseline: Update to run completed", "tuned_update"),
    )
    out = [
        "",
        "## 2. Decision latency",
        "",
        "One decision at a time on a parked run, the paths interleaved.",
        "",
        *head("database", "path", "n", "p50 ms", "p95 ms", "p99 ms"),
    ]
    for db, per in dbs.items():
        d = per.get("decision_latency") or {}
        for label, key in labels if d else ():
            v = d.get(key)
            if not v:
                continue
            pcts = (ms(v, p) for p in ("p50_ms", "p95_ms", "p99_ms"))
            out.append(row(name(db), label, v["n"], *pcts))
    hist_rows = []
    keys: list[str] = []
    for db, per in dbs.items():
        hist = (per.get("decision_latency") or {}).get("history") or {}
        if hist and all(hist.values()):
            keys = [k for k in next(iter(hist.values())) if k not in ("runs_sampled", "hops")]
            hist_rows += [row(name(db), path, *(h[k] for k in keys)) for path, h in hist.items()]
    if hist_rows:
        out += [
            "",
            "From the histories, from the moment the decision entered (per-run means, ms):",
            "",
            *head("database", "path", *keys),
            *hist_rows,
        ]
    out += [
        "",
        "## 3. Start latency",
        "",
        "One start at a time on an otherwise idle stack (a run that then parks).",
        "",
        *head("database", "door", "n", "p50 ms", "p99 ms"),
    ]
    for db, per in dbs.items():
        s = per.get("start_latency")
        if not s:
            continue
        for label, v in (
            ("Brain `POST /workflows/lead_scoring`", s["brain_rest"]),
            ("baseline `client.start_workflow`", s["baseline_sdk"]),
        ):
            out.append(row(name(db), label, v["n"], ms(v, "p50_ms"), ms(v, "p99_ms")))
    return out


def parked(dbs: Dbs) -> list[str]:
    have = {db: per for db, per in dbs.items() if "parked" in per}
    if not have:
        return []
    measures: list[tuple[str, Any]] = [
        ("runs parked at once (inbox tenant / flip tenant)",
         lambda p, b: f"{p['parked']} ({p['approvals_tenant_parked']} / {p['flip_released']})"),
        ("Brain start-and-park rate (REST starts until each row says parked)",
         lambda p, b: f"{p['park_runs_per_s']:.1f} runs/s at {p['park_concurrency']} clients"),
        ("baseline start-and-park rate (SDK starts until each AI step is done)",
         lambda p, b: f"{b['park_runs_per_s']:.1f} runs/s ({b['parked']} runs)" if b else "-"),
        ("REST start p50 / p99 while parking",
         lambda p, b: f"{ms(p['park_rest_start'], 'p50_ms')} / "
         f"{ms(p['park_rest_start'], 'p99_ms')} ms"),
        ("CPU per parked run, stack: Brain / baseline",
         lambda p, b: f"{p['park_cpu_ms_per_run']['stack']:.1f} / "
         + (f"{b['park_cpu_ms_per_run']['stack']:.1f} ms" if b else "-")),
        ("worker RSS before parking", lambda p, b: f"{p['worker_rss_mb_before']:.0f} MB"),
        ("worker RSS, all parked", lambda p, b: f"{p['worker_rss_mb_parked']:.0f} MB"),
        ("worker RSS after the flip", lambda p, b: f"{p['worker_rss_mb_after_flip']:.0f} MB"),
        ("`GET /approvals` p50 / p95 / p99 (sequential)",
         lambda p, b: " / ".join(ms(p["approvals"], k) for k in ("p50_ms", "p95_ms", "p99_ms"))
         + " ms"),
        ("policy flip: first run released",
         lambda p, b: f"{p['flip_first_release_seconds']:.2f} s"),
        ("policy flip: all released and applied", lambda p, b: f"{p['flip_seconds']:.2f} s"),
    ]  # fmt: skip
    out = [
        "",
        "## 4. Parked runs",
        "",
        "Runs parked at once over REST, part of them in a tenant whose policy then flips to HITL "
        "off; the baseline parks its own at the same concurrency first (they stay parked).",
        "",
        *head("measure", *(name(db) for db in have)),
    ]
    for label, value in measures:
        cells = (value(p["parked"], p.get("baseline_parking")) for p in have.values())
        out.append(row(label, *cells))
    out += [
        "",
        "## 5. `GET /workflows/{id}` under concurrent clients",
        "",
        "Requests for random parked runs, each client holding one keep-alive connection "
        "(bench/rawhttp.py). A read is served by the runs table alone, never by Temporal: "
        "the run's own steps keep its row true, and the reconciler's pass (every ~20 s) "
        "writes the closes made outside Brain.",
        "",
        *head(
            "database", "clients", "requests", "requests/s", "p50 ms", "p95 ms", "p99 ms",
            "max ms", "API CPU ms", "Temporal CPU ms", "DB CPU ms",
        ),
    ]  # fmt: skip
    for db, per in have.items():
        r = per["parked"]["reads"]
        lat, cpu = r["latency"], r.get("cpu_ms_per_request", {})
        out.append(
            row(
                name(db),
                r["clients"],
                r["requests"],
                f"{r['requests_per_s']:.0f}",
                *(ms(lat, k) for k in ("p50_ms", "p95_ms", "p99_ms", "max_ms")),
                cpu.get("api", "-"),
                cpu.get("temporal", "-"),
                cpu.get("db", "-"),
            )
        )
    return out


def insights(dbs: Dbs) -> list[str]:
    have = {db: per["insights"] for db, per in dbs.items() if "insights" in per}
    if not have:
        return []
    first = next(iter(have.values()))
    out = [
        "",
        "## 6. Insights over the audit log",
        "",
        f"`GET /insights/decisions` computed as the API does (`services/insights.py`, under the "
        f"tenant's row-level security on PostgreSQL) over {first['rows']:,} seeded audit rows "
        f"and their runs (`bench/insights.py`: 90 % in one tenant), {first['repeat']} calls per "
        "scope after a warm-up, in a database of its own.",
        "",
        *head("database", "scope", "p50 ms", "p95 ms", "max ms"),
    ]
    for db, found in have.items():
        for scope, t in found["scopes"].items():
            out.append(row(name(db), scope, ms(t, "p50_ms"), ms(t, "p95_ms"), ms(t, "max_ms")))
    return out


def profile(dbs: Dbs) -> list[str]:
    for db, per in dbs.items():
        prof = per.get("profile")
        if prof:
            return _profile(db, prof)
    return []


def _profile(db: str, prof: dict[str, Any]) -> list[str]:
    out = [
        "",
        "## 7. Profile of the auto path",
        "",
        f"py-spy (`--gil`, 100 Hz) on Brain's worker and API during one more pass of "
        f"{prof['runs']} runs at concurrency {prof['concurrency']} on {name(db)}, after the "
        "measurements (sampling slows what it samples, so this pass measures nothing). Shares "
        "of each process's samples; `python -m bench.profile DIR/brain-worker.txt` prints more.",
    ]
    for proc in ("brain-worker", "api"):
        found = prof.get(proc)
        if not found:
            continue
        out += ["", f"**{proc}** ({found['samples']} samples): named costs, inclusive:", ""]
        out += head("cost", "share")
        out += [row(label, f"{share} %") for label, share in found["watched"].items()]
        out += ["", "Largest own costs:", "", *head("frame", "share")]
        out += [row(f"`{frame}`", f"{share} %") for frame, share in found["self"][:8]]
    return out
