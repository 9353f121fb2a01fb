"""``python -m bench.cli`` on one run per command: every figure is measured and written, and
the targets are judged. Never how fast (docs: the bench's own numbers)."""

import json
import subprocess
import sys
from pathlib import Path


def test_bench_cli_writes_every_figure(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.cli", "--repeat", "1", "--warmup", "0",
         "--results-dir", str(tmp_path)],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    [result_file] = tmp_path.glob("cli-*.json")
    result = json.loads(result_file.read_text())
    assert set(result["commands"]) == {"help", "temporal_help", "status", "inbox", "runs"}
    for figures in result["commands"].values():
        assert figures["n"] == 1 and figures["median_s"] > 0
    assert [t["name"] for t in result["targets"]] == ["help", "status"]
    assert all(isinstance(t["met"], bool) for t in result["targets"])
