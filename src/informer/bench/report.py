"""Tables and plots of benchmark results (matplotlib only when a plot is asked for)."""

from __future__ import annotations

from pathlib import Path

from informer.bench.suite import fitted_exponent
from informer.rundir import atomic_write


def attention_table(rows: list[dict]) -> str:
    """One line per mode and length: median ms and extra MB of each method."""
    methods = list(dict.fromkeys(r["method"] for r in rows))
    header = f"{'mode':<8}{'length':>7}" + "".join(f"{m + ' ms':>14}{m + ' MB':>12}" for m in methods)
    lines = [header]
    keys = list(dict.fromkeys((r["mode"], r["length"]) for r in rows))
    for mode, length in keys:
        cells = []
        for method in methods:
            row = next((r for r in rows if (r["mode"], r["length"], r["method"]) == (mode, length, method)), {})
            if "median_s" in row:
                cells.append(f"{row['median_s'] * 1e3:>14.1f}{row['extra_rss_mb']:>12.0f}")
            else:
                cells.append(f"{'-':>14}{'-':>12}")
        lines.append(f"{mode:<8}{length:>7}" + "".join(cells))
    return "\n".join(lines)


def memory_exponents(rows: list[dict], *, low: int = 1024, high: int = 8192) -> dict:
    """Fitted exponent of extra memory against length, per mode and method, on [low, high]."""
    result = {}
    for mode in dict.fromkeys(r["mode"] for r in rows):
        for method in dict.fromkeys(r["method"] for r in rows):
            points = [(r["length"], r["extra_rss_mb"]) for r in rows
                      if r["mode"] == mode and r["method"] == method and "extra_rss_mb" in r
                      and low <= r["length"] <= high and r["extra_rss_mb"] > 0]
            if len(points) >= 2:
                result[f"{mode}/{method}"] = fitted_exponent(*zip(*points))
    return result


def plot_attention(rows: list[dict], path: str | Path, *, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    modes = list(dict.fromkeys(r["mode"] for r in rows))
    figure, axes = plt.subplots(len(modes), 2, figsize=(11, 4 * len(modes)), squeeze=False)
    for i, mode in enumerate(modes):
        for method in dict.fromkeys(r["method"] for r in rows):
            points = [r for r in rows if r["mode"] == mode and r["method"] == method and "median_s" in r]
            if not points:
                continue
            lengths = [r["length"] for r in points]
            axes[i][0].plot(lengths, [r["median_s"] * 1e3 for r in points], marker="o", label=method)
            axes[i][1].plot(lengths, [max(r["extra_rss_mb"], 1) for r in points], marker="o", label=method)
        for j, label in enumerate(("time (ms, median)", "peak extra memory (MB)")):
            axes[i][j].set(xscale="log", yscale="log", xlabel="sequence length L", ylabel=label,
                           title=f"{mode}: {label}")
            axes[i][j].grid(True, which="both", alpha=0.3)
            axes[i][j].legend()
    figure.suptitle(title)
    figure.tight_layout()
    image_format = Path(path).suffix.lstrip(".") or "png"
    try:
        atomic_write(path, lambda tmp: figure.savefig(tmp, dpi=110, format=image_format), make_parents=True)
    finally:
        plt.close(figure)
