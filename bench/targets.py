"""The targets of issue 24 (raised from issues 6 and 15, with issue 13's webhook figures and
the insights query), each with its measured value and whether it was met, per database."""

from typing import Any


def targets(result: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []

    def add(key: str, name: str, goal: str, value: str, met: bool) -> None:
        out.append({"key": key, "name": name, "target": goal, "value": value, "met": bool(met)})

    if "throughput" in result:
        levels = {lv["concurrency"]: lv for lv in result["throughput"]["levels"]}
        top = levels[max(levels)]
        for c, goal in ((50, 0.8), (10, 0.9)):
            lv = levels.get(c) or (top if c == 50 else None)
            if lv is None:
                continue
            add(
                f"auto_ratio_{c}",
                f"auto-path throughput at concurrency {lv['concurrency']}, Brain / baseline",
                f">= {goal}",
                f"{lv['ratio']:.2f}",
                lv["ratio"] >= goal,
            )
        bare, brain = top["baseline"]["cpu_ms_per_run"], top["brain"]["cpu_ms_per_run"]
        cpu = brain["stack"] / bare["stack"] if bare["stack"] else float("inf")
        add(
            "cpu_ratio",
            f"CPU per auto run at concurrency {top['concurrency']} (API, workers, Temporal, "
            "database), Brain / baseline",
            "<= 1.3",
            f"{cpu:.2f} ({brain['stack']:.1f} / {bare['stack']:.1f} ms)",
            cpu <= 1.3,
        )
        hooks = top["brain"].get("webhooks")
        if hooks:
            p95 = hooks["event_to_delivery"].get("p95_ms", float("inf"))
            add(
                "webhook_p95",
                f"webhook event-to-delivery p95 at concurrency {top['concurrency']}",
                "<= 2 s",
                f"{p95 / 1000:.2f} s ({hooks['delivered']} delivered)",
                hooks["all_delivered"] and p95 <= 2000,
            )
        if "subscriber_ratio" in top:
            add(
                "subscriber_ratio",
                f"auto-path throughput at concurrency {top['concurrency']}, one webhook "
                "subscriber / none (runs completed and delivered)",
                ">= 0.95",
                f"{top['subscriber_ratio']:.2f}",
                top["subscriber_ratio"] >= 0.95,
            )
            _subscriber_trips(top, add)
    if "decision_latency" in result:
        dec = result["decision_latency"]
        gap = dec["brain_rest_approve"]["p50_ms"] - dec["baseline_update"]["p50_ms"]
        add(
            "approve_gap",
            "approve-to-completed p50, Brain REST minus baseline Update",
            "<= 15 ms",
            f"{gap:+.1f} ms",
            gap <= 15,
        )
    if "parked" in result:
        _parked(result, add)
    if "insights" in result:
        worst = max(s["p95_ms"] for s in result["insights"]["scopes"].values())
        add(
            "insights_p95",
            f"insights query p95 over {result['insights']['rows']:,} audit rows (worst scope)",
            "<= 200 ms",
            f"{worst:.1f} ms",
            worst <= 200,
        )
    return out


def _parked(result: dict[str, Any], add: Any) -> None:
    park = result["parked"]
    bare = result.get("baseline_parking")
    if bare:
        ratio = park["park_runs_per_s"] / bare["park_runs_per_s"]
        add(
            "park_ratio",
            f"start-and-park rate at {park['park_concurrency']} clients, Brain / baseline",
            ">= 0.8",
            f"{ratio:.2f} ({park['park_runs_per_s']:.1f} / {bare['park_runs_per_s']:.1f} runs/s)",
            ratio >= 0.8,
        )
    add(
        "approvals_p95",
        f"GET /approvals p95 with {park['parked']} parked",
        "<= 100 ms",
        f"{park['approvals']['p95_ms']:.1f} ms",
        park["approvals"]["p95_ms"] <= 100,
    )
    reads = park["reads"]
    add(
        "get_p99",
        f"GET /workflows/{{id}} p99 at {reads['clients']} concurrent clients",
        "<= 150 ms",
        f"{reads['latency']['p99_ms']:.1f} ms",
        reads["latency"]["p99_ms"] <= 150,
    )
    add(
        "worker_rss",
        f"worker RSS with {park['parked']} parked",
        "<= 500 MB",
        f"{park['worker_rss_mb_parked']:.0f} MB",
        park["worker_rss_mb_parked"] <= 500,
    )
    add(
        "flip",
        f"policy flip releasing {park['flip_released']} parked runs",
        "<= 15 s",
        f"{park['flip_seconds']:.1f} s",
        park["flip_seconds"] <= 15,
    )


def _subscriber_trips(top: dict[str, Any], add: Any) -> None:
    """Issue 24: the database round trips of an auto run with a subscriber, close to those
    of one without (the event's row rides in the run's own transaction; claims and outcomes
    are per batch, not per event)."""
    sub = top["brain"]["database"]["round_trips"]
    quiet = top["brain_no_subscriber"]["database"]["round_trips"]
    ratio = sub / quiet if quiet else float("inf")
    add(
        "subscriber_round_trips",
        f"database round trips per auto run at concurrency {top['concurrency']}, one webhook "
        "subscriber / none",
        "<= 1.2",
        f"{ratio:.2f} ({sub:.1f} / {quiet:.1f})",
        ratio <= 1.2,
    )
