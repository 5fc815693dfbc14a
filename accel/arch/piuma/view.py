"""PIUMA's report view: per-thread load and DRAM traffic by algorithm."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402


def piuma_threads_traffic(df: pd.DataFrame, params: list[str], title: str, label=None):
    need = ["param.algorithm", "metric.thread_work_max", "metric.thread_work_mean",
            "metric.dram_bytes_read", "metric.dram_bytes_written"]
    if any(c not in df.columns for c in need):
        return None
    g = df.groupby("param.algorithm")
    algs = list(g.groups)
    med = g[[c for c in need if c.startswith("metric.")]].median()
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(12, 4.8))
    x = np.arange(len(algs))
    ax.bar(x - 0.2, med["metric.thread_work_mean"], 0.38, label="mean thread")
    ax.bar(x + 0.2, med["metric.thread_work_max"], 0.38, label="busiest thread")
    ax.set_xticks(x, algs, rotation=20)
    ax.set_xlabel("algorithm")
    ax.set_ylabel("work per hardware thread [issue slots]")
    ax.set_title("per-thread load (median over designs)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, axis="y")
    ax2.bar(x, med["metric.dram_bytes_read"] / 1e6, 0.6, label="read")
    ax2.bar(x, med["metric.dram_bytes_written"] / 1e6, 0.6, bottom=med["metric.dram_bytes_read"] / 1e6,
            label="written")
    ax2.set_xticks(x, algs, rotation=20)
    ax2.set_xlabel("algorithm")
    ax2.set_ylabel("DRAM traffic [MB]")
    ax2.set_title("DRAM traffic by algorithm (median over designs)")
    ax2.legend(fontsize=8)
    ax2.grid(alpha=0.3, axis="y")
    fig.suptitle(title)
    fig.tight_layout()
    return fig, {"algorithms": algs, **{k: med[k].tolist() for k in med.columns}}


VIEWS = [("threads-traffic", piuma_threads_traffic, "per-thread load and DRAM traffic")]
