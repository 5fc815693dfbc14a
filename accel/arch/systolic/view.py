"""The systolic array's report view: cycles against array size, one line per dataflow."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402


def systolic_dataflows(df: pd.DataFrame, params: list[str], title: str, label=None):
    """Best cycles per (PEs, dataflow[, prune]) over the sweep -- where ws, os and is cross --
    and the mapping efficiency of those designs; the efficiency panel is left out, with a line
    saying so, when every series is one constant (six lines at 1.00 drawn over each other)."""
    need = ["metric.cycles", "metric.pes", "metric.mapping_efficiency"]
    if any(c not in df.columns for c in need):
        return None
    keys = [c for c in ("param.dataflow", "param.prune") if c in df.columns and df[c].nunique() > 1]
    data = {}
    groups = df.groupby(keys) if keys else [((), df)]
    series = []
    for key, g in groups:
        key = key if isinstance(key, tuple) else (key,)
        name = ", ".join(str(k) for k in key) or "all"
        # the fastest design of each size (its mapping efficiency, not the best one seen)
        best = g.loc[g.groupby("metric.pes")["metric.cycles"].idxmin()].set_index("metric.pes")
        series.append((name, best.sort_index()))
    eff = np.concatenate([b["metric.mapping_efficiency"].to_numpy(float) for _, b in series])
    flat = bool(np.isclose(eff.min(), eff.max(), rtol=1e-9, atol=0.0))
    if flat:
        fig, ax = plt.subplots(figsize=(7.5, 4.8))
        axes = (ax,)
    else:
        fig, (ax, ax2) = plt.subplots(1, 2, figsize=(12, 4.8))
        axes = (ax, ax2)
    for name, best in series:
        ax.plot(best.index, best["metric.cycles"], marker="o", label=name)
        if not flat:
            ax2.plot(best.index, best["metric.mapping_efficiency"], marker="o", label=name)
        data[name] = {"pes": best.index.tolist(), "cycles": best["metric.cycles"].tolist(),
                      "mapping_efficiency": best["metric.mapping_efficiency"].tolist()}
    for a in axes:
        a.set_xscale("log", base=2)
        a.set_xlabel("pes (array rows x cols) [PEs]")
        a.grid(alpha=0.3)
        a.legend(fontsize=8)
    ax.set_yscale("log")
    ax.set_ylabel("cycles, fastest design per size [cycles]")
    ax.set_title("cycles by array size")
    if flat:
        data["not_drawn"] = f"mapping efficiency is {eff[0]:.2f} for every design shown"
        ax.set_title("cycles by array size\n(mapping efficiency not drawn: "
                     f"{eff[0]:.2f} of the PEs hold real operands in every design shown)", fontsize=9)
    else:
        ax2.set_ylabel("mapping_efficiency of that design [fraction of PEs]")
        ax2.set_title("PEs holding real operands")
    fig.suptitle(title)
    fig.tight_layout()
    return fig, data


VIEWS = [("dataflows", systolic_dataflows, "cycles and mapping efficiency by array size and dataflow")]
