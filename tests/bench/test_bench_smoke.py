"""``python -m bench --smoke``: the whole bench on minimal sizes. It asserts that every
section was measured and written, never how fast: timings are for docs/PERFORMANCE.md."""

import json
import subprocess
import sys
from pathlib import Path

SECTIONS = ("throughput", "start_latency", "decision_latency", "parked", "targets", "machine")


def test_bench_smoke(tmp_path: Path) -> None:
    doc = tmp_path / "PERFORMANCE.md"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "--smoke",
            "--results-dir",
            str(tmp_path),
            "--doc",
            str(doc),
        ],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    [result_file] = tmp_path.glob("*.json")
    result = json.loads(result_file.read_text())
    for section in SECTIONS:
        assert section in result, section
    levels = result["throughput"]["levels"]
    assert [lv["concurrency"] for lv in levels] == [1, 2]
    for level in levels:
        assert level["brain"]["runs_per_s"] > 0 and level["baseline"]["runs_per_s"] > 0
    decisions = result["decision_latency"]
    for path in ("brain_rest_approve", "baseline_update", "baseline_signal"):
        assert decisions[path]["n"] == 2
    parked = result["parked"]
    assert parked["flip_released"] == 2
    assert parked["reads"]["latency"]["n"] == 4
    assert parked["worker_rss_mb_parked"] > 0
    assert len(result["targets"]) == 6
    text = doc.read_text()
    assert "## Targets" in text and "| cores |" in text
