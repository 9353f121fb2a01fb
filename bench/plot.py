"""The plot of ``docs/PERFORMANCE.md``: auto-path throughput per concurrency and decision
latency percentiles, Brain against the baseline, a row per database."""

from pathlib import Path
from typing import Any

from bench.report_sections import DB_NAMES


def plot(result: dict[str, Any], png: Path) -> bool:
    """Throughput per concurrency and decision latency percentiles, Brain vs baseline; a
    row per database."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    dbs = {db: per for db, per in result["databases"].items() if "throughput" in per}
    panels = ("throughput", "decision_latency")
    if not dbs or not all(k in per for per in dbs.values() for k in panels):
        return False
    fig, axes = plt.subplots(len(dbs), 2, figsize=(12, 4.2 * len(dbs)), squeeze=False)
    for axrow, (db, per) in zip(axes, dbs.items(), strict=True):
        _panels(axrow, per, DB_NAMES.get(db, db))
    m = result["machine"]
    fig.suptitle(f"Brain vs bare Temporal SDK — {m['cores']} cores", fontsize=11)
    fig.tight_layout()
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png, dpi=110)
    plt.close(fig)
    return True


def _panels(axrow: Any, result: dict[str, Any], db: str) -> None:
    width = 0.27
    for ax, key in zip(axrow, ("throughput", "decision_latency"), strict=True):
        if key == "throughput":
            levels = result["throughput"]["levels"]
            xs = range(len(levels))
            base = [lv["baseline"]["runs_per_s"] for lv in levels]
            tuned = [(lv.get("tuned") or {}).get("runs_per_s", 0) for lv in levels]
            brain = [lv["brain"]["runs_per_s"] for lv in levels]
            ax.bar([x - width for x in xs], base, width, label="bare SDK baseline", color="#9aa5b1")
            ax.bar(list(xs), tuned, width, label="tuned baseline", color="#cbd2d9")
            ax.bar([x + width for x in xs], brain, width, label="Brain (REST)", color="#2f6fde")
            for x, lv in zip(xs, levels, strict=True):
                ax.annotate(
                    f"{lv['ratio']:.2f}x",
                    (x + width, lv["brain"]["runs_per_s"]),
                    ha="center",
                    va="bottom",
                    fontsize=9,
                )
            ax.set_xticks(list(xs), [str(lv["concurrency"]) for lv in levels])
            ax.set_xlabel("concurrent clients")
            ax.set_ylabel("runs completed per second")
            ax.set_title(f"Auto path: start to completed ({db})")
        else:
            d = result["decision_latency"]
            paths = [
                ("Brain REST approve", d["brain_rest_approve"], "#2f6fde"),
                ("baseline Update", d["baseline_update"], "#9aa5b1"),
                ("baseline Signal", d["baseline_signal"], "#cbd2d9"),
            ]
            if d.get("tuned_update"):
                paths.append(("tuned baseline Update", d["tuned_update"], "#e4e7eb"))
            pcts = ("p50_ms", "p95_ms", "p99_ms")
            w = 0.8 / len(paths)
            for i, (name, s, color) in enumerate(paths):
                ax.bar(
                    [x + (i - (len(paths) - 1) / 2) * w for x in range(3)],
                    [s[p] for p in pcts],
                    w,
                    label=name,
                    color=color,
                )
            ax.set_xticks(range(3), ["p50", "p95", "p99"])
            ax.set_ylabel("ms, decision sent to run completed")
            ax.set_title(f"Decision latency ({db})")
        # Head room above the bars, so the legend never covers one.
        ax.set_ylim(0, ax.get_ylim()[1] * 1.3)
        ax.legend(fontsize=8, loc="upper center", ncol=3)
        ax.grid(axis="y", alpha=0.3)
