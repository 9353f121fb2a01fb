"""Issue 24's per-path view of one database's results: on each path (auto, park, decide,
release, GET) what each side asked of Temporal (``hops``, from its sampled runs' histories:
``bench/hops.py``) and of the database (per run, or per request for the read), Brain beside
the bare baseline and the tuned one where they have the path.

Where each comes from: auto, the top concurrency's runs; park, the decision section's runs
before their decision (hops) and the parking measurements (database); decide, the same runs
from their decision on; release, runs freed by the policy flip, from its signal on; GET,
the reads (no history: a read starts nothing in Temporal)."""

from typing import Any

PATHS = ("auto", "park", "decide", "release", "GET /workflows/{id}")


def collect(per: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows of ``{"path", "side", "hops", "database"}`` in ``PATHS`` order, Brain first;
    ``hops`` or ``database`` None where that side's path has none measured."""
    rows: list[dict[str, Any]] = []

    def add(path: str, side: str, hops: dict | None, database: dict | None) -> None:
        if hops or database:
            rows.append({"path": path, "side": side, "hops": hops or None, "database": database})

    levels = per.get("throughput", {}).get("levels", [])
    if levels:
        top = levels[-1]
        for side, key in (
            ("Brain", "brain"),
            ("Brain, no subscriber", "brain_no_subscriber"),
            ("baseline", "baseline"),
            ("tuned baseline", "tuned"),
        ):
            measured = top.get(key) or {}
            add("auto", side, measured.get("history", {}).get("hops"), measured.get("database"))

    dec = per.get("decision_latency") or {}
    parked_hops = dec.get("parked_hops") or {}
    park = per.get("parked") or {}
    add("park", "Brain", _hops(parked_hops.get("brain")), park.get("park_database"))
    add(
        "park",
        "baseline",
        _hops(parked_hops.get("baseline")),
        (per.get("baseline_parking") or {}).get("park_database"),
    )
    add("park", "tuned baseline", _hops(parked_hops.get("tuned")), dec.get("tuned_park_database"))

    history = dec.get("history") or {}
    database = dec.get("database") or {}
    for side, key, db_key in (
        ("Brain (REST approve)", "brain_rest_approve", "brain"),
        ("baseline (Update)", "baseline_update", "baseline"),
        ("baseline (Signal)", "baseline_signal", "baseline"),
        ("tuned baseline (Update)", "tuned_update", "tuned"),
    ):
        add("decide", side, (history.get(key) or {}).get("hops"), database.get(db_key))

    add(
        "release",
        "Brain (policy flip)",
        (park.get("flip_history") or {}).get("hops"),
        park.get("flip_database"),
    )
    add("GET /workflows/{id}", "Brain", None, (park.get("reads") or {}).get("database"))
    return rows


def _hops(found: dict[str, Any] | None) -> dict[str, Any] | None:
    """``breakdown.hops_of``'s answer without its sample count."""
    if not found:
        return None
    return {k: v for k, v in found.items() if k != "runs_sampled"}
