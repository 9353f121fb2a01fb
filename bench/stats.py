"""Percentiles and timing helpers."""

import math
import statistics
import time
from collections.abc import Sequence
from typing import Any


def now() -> float:
    return time.perf_counter()


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (the value below which ``pct`` % of the samples fall)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def summary_ms(seconds: Sequence[float]) -> dict[str, Any]:
    """p50/p95/p99/mean/max in milliseconds, and the sample count."""
    ms = [s * 1000 for s in seconds]
    if not ms:
        return {"n": 0}
    return {
        "n": len(ms),
        "p50_ms": round(percentile(ms, 50), 2),
        "p95_ms": round(percentile(ms, 95), 2),
        "p99_ms": round(percentile(ms, 99), 2),
        "mean_ms": round(statistics.fmean(ms), 2),
        "max_ms": round(max(ms), 2),
    }
