"""``python -m bench --smoke``: the whole bench on minimal sizes, on PostgreSQL, the reference
database (the SQLite column runs the same code on another URL; running it too would double
the test's minute). It asserts that every section was measured and written, never how fast:
timings are for docs/PERFORMANCE.md."""

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench import hops, paths, report

pytestmark = pytest.mark.postgres

SECTIONS = (
    "throughput",
    "start_latency",
    "decision_latency",
    "baseline_parking",
    "parked",
    "insights",
    "targets",
)
TARGETS = {
    "auto_ratio_50",
    "cpu_ratio",
    "webhook_p95",
    "subscriber_ratio",
    "subscriber_round_trips",
    "approve_gap",
    "park_ratio",
    "approvals_p95",
    "get_p99",
    "worker_rss",
    "flip",
    "insights_p95",
}


def test_bench_smoke(tmp_path: Path) -> None:
    doc = tmp_path / "PERFORMANCE.md"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "--smoke",
            "--database",
            "postgres",
            "--api-workers",
            "1",
            "--results-dir",
            str(tmp_path),
            "--doc",
            str(doc),
        ],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    [result_file] = tmp_path.glob("*.json")
    result = json.loads(result_file.read_text())
    assert "machine" in result
    assert list(result["databases"]) == ["postgres"]
    for per in result["databases"].values():
        for section in SECTIONS:
            assert section in per, section
        levels = per["throughput"]["levels"]
        assert [lv["concurrency"] for lv in levels] == [1, 2]
        for level in levels:
            assert level["brain"]["runs_per_s"] > 0 and level["baseline"]["runs_per_s"] > 0
            assert level["tuned"]["runs_per_s"] > 0
            # The tuned baseline's door starts in its worker's process: the server hands
            # the first task back (with at most two runs at once, a slot is always free).
            assert level["tuned"]["eager_starts"] == level["tuned"]["runs"]
            assert level["tuned"]["database"]["commits"] == 1
            # The subscriber heard of every run of the subscribed tenant.
            assert level["brain"]["webhooks"]["all_delivered"]
            # The database's work was counted: Brain writes its rows (an auto run: the apply
            # step's one transaction, and the start's row in one autocommitted statement).
            assert level["brain"]["database"]["commits"] >= 1
            assert level["brain"]["database"]["round_trips"] > level["brain"]["database"]["commits"]
            assert level["baseline"]["database"]["commits"] == 1
        assert "brain_no_subscriber" in levels[-1]
        decisions = per["decision_latency"]
        for path in ("brain_rest_approve", "baseline_update", "baseline_signal", "tuned_update"):
            assert decisions[path]["n"] == 2
        parked = per["parked"]
        assert parked["flip_released"] == 2
        assert parked["reads"]["latency"]["n"] == 4
        assert parked["worker_rss_mb_parked"] > 0
        assert per["baseline_parking"]["park_runs_per_s"] > 0
        assert {t["key"] for t in per["targets"]} == TARGETS
        _per_path(per)
    text = doc.read_text()
    assert "## Targets" in text and "| cores |" in text
    assert "| target | goal | PostgreSQL |  |" in text
    assert "## Database work per run" in text
    assert "## Per path: hops and round trips" in text
    assert "| auto | tuned baseline |" in text and "| release | Brain (policy flip) |" in text
    # The report's second column, from the same measurements under SQLite's name.
    result["databases"]["sqlite"] = copy.deepcopy(result["databases"]["postgres"])
    both = tmp_path / "BOTH.md"
    report.write(result, both, source=result_file)
    assert "| target | goal | PostgreSQL |  | SQLite |  |" in both.read_text()


# What the baselines' code asks of Temporal, by construction (bench/baseline.py): a broken
# counter (bench/hops.py) or a lost sample shows here. Brain's own counts are its code's to
# change, so only their presence is checked.
_BASELINE_HOPS = {
    ("auto", "baseline"): {"workflow_tasks": 3, "activities": 2, "local_activities": 0},
    ("auto", "tuned baseline"): {"workflow_tasks": 2, "activities": 1, "local_activities": 1},
    ("park", "baseline"): {"workflow_tasks": 2, "activities": 1, "timers": 0},
    ("decide", "baseline (Update)"): {"updates": 1, "signals": 0, "activities": 1},
    ("decide", "baseline (Signal)"): {"updates": 0, "signals": 1, "activities": 1},
    ("decide", "tuned baseline (Update)"): {"workflow_tasks": 1, "local_activities": 1},
}


def _per_path(per: dict) -> None:
    rows = {(r["path"], r["side"]): r for r in paths.collect(per)}
    for (path, side), want in _BASELINE_HOPS.items():
        found = rows[(path, side)]["hops"]
        assert {k: found[k] for k in want} == want, (path, side, found)
        assert found["search_attribute_upserts"] == 0 and found["patch_markers"] == 0
        assert found["payloads"] >= 1 and found["payload_bytes"] > found["payloads"]
    for path, side in (
        ("auto", "Brain"),
        ("park", "Brain"),
        ("decide", "Brain (REST approve)"),
        ("release", "Brain (policy flip)"),
    ):
        found = rows[(path, side)]["hops"]
        assert set(found) == set(hops.KEYS), (path, found)
        assert found["workflow_tasks"] >= 1 and found["events"] >= 1, (path, found)
    assert rows[("decide", "Brain (REST approve)")]["hops"]["updates"] == 1
    # Released by the policy change's signal: its history from that signal on.
    assert rows[("release", "Brain (policy flip)")]["hops"]["signals"] >= 1
    # A read starts nothing in Temporal; it asks the database.
    read = rows[("GET /workflows/{id}", "Brain")]
    assert read["hops"] is None and read["database"]["round_trips"] > 0
