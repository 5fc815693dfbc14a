"""The systolic array's report view: cycles against array size, one line per dataflow."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402


def systolic_dataflows(df: pd.DataFrame, params: list[str], title: str, label=None):
    """Best cycles per (PEs, dataflow[, prune]) over the sweep -- where ws, os and is cross."""
    need = ["metric.cycles", "metric.pes", "metric.mapping_efficiency"]
    if any(c not in df.columns for c in need):
        return None
    keys = [c for c in ("param.dataflow", "param.prune") if c in df.columns and df[c].nunique() > 1]
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(12, 4.8))
    data = {}
    groups = df.groupby(keys) if keys else [((), df)]
    for key, g in groups:
        key = key if isinstance(key, tuple) else (key,)
        name = ", ".join(str(k) for k in key) or "all"
        # the fastest design of each size (its mapping efficiency, not the best one seen)
        best = g.loc[g.groupby("metric.pes")["metric.cycles"].idxmin()].set_index("metric.pes")
        best = best.sort_index()
        ax.plot(best.index, best["metric.cycles"], marker="o", label=name)
        ax2.plot(best.index, best["metric.mapping_efficiency"], marker="o", label=name)
        data[name] = {"pes": best.index.tolist(), "cycles": best["metric.cycles"].tolist(),
                      "mapping_efficiency": best["metric.mapping_efficiency"].tolist()}
    for a in (ax, ax2):
        a.set_xscale("log", base=2)
        a.set_xlabel("PEs (array rows x cols) [PEs]")
        a.grid(alpha=0.3)
        a.legend(fontsize=8)
    ax.set_yscale("log")
    ax.set_ylabel("cycles, fastest design per size [cycles]")
    ax.set_title("cycles by array size")
    ax2.set_ylabel("mapping efficiency of that design [fraction of PEs]")
    ax2.set_title("PEs holding real operands")
    fig.suptitle(title)
    fig.tight_layout()
    return fig, data


VIEWS = [("dataflows", systolic_dataflows, "cycles and mapping efficiency by array size and dataflow")]
