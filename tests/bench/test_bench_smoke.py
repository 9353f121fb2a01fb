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

from bench import report

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
            # The subscriber heard of every run of the subscribed tenant.
            assert level["brain"]["webhooks"]["all_delivered"]
            # The database's work was counted: Brain writes its rows, the baseline its one.
            assert level["brain"]["database"]["commits"] >= 2
            assert level["baseline"]["database"]["commits"] == 1
        assert "brain_no_subscriber" in levels[-1]
        decisions = per["decision_latency"]
        for path in ("brain_rest_approve", "baseline_update", "baseline_signal"):
            assert decisions[path]["n"] == 2
        parked = per["parked"]
        assert parked["flip_released"] == 2
        assert parked["reads"]["latency"]["n"] == 4
        assert parked["worker_rss_mb_parked"] > 0
        assert per["baseline_parking"]["park_runs_per_s"] > 0
        assert {t["key"] for t in per["targets"]} == TARGETS
    text = doc.read_text()
    assert "## Targets" in text and "| cores |" in text
    assert "| target | goal | PostgreSQL |  |" in text
    assert "## Database work per run" in text
    # The report's second column, from the same measurements under SQLite's name.
    result["databases"]["sqlite"] = copy.deepcopy(result["databases"]["postgres"])
    both = tmp_path / "BOTH.md"
    report.write(result, both, source=result_file)
    assert "| target | goal | PostgreSQL |  | SQLite |  |" in both.read_text()
