"""SAT's report view: per-phase cycles of the fastest designs, as run and dense."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

SAT_PHASES = ("fwd", "bwd_data", "bwd_weight", "update")
TOP = 8  # designs shown: more bars than this are unreadable


def _varied(df: pd.DataFrame, params: list[str]) -> list[str]:
    return [p for p in params if f"param.{p}" in df.columns and df[f"param.{p}"].nunique() > 1]


def sat_phases(df: pd.DataFrame, params: list[str], title: str, label):
    cols = [f"metric.{p}_cycles" for p in SAT_PHASES]
    if any(c not in df.columns for c in cols):
        return None
    top = df.sort_values("metric.cycles").head(TOP)
    labels = [label(r, _varied(df, params)[:4]).replace(", ", "\n") for _, r in top.iterrows()]
    x = np.arange(len(top))
    # 2.4 in per design: at 1.8 the neighbouring labels ran together ("=38.4dram_gbps_...")
    fig, ax = plt.subplots(figsize=(max(7, 2.4 * len(top)), 5.2))
    bottom = np.zeros(len(top))
    dbottom = np.zeros(len(top))
    colors = plt.get_cmap("tab10").colors
    data = {"designs": labels}
    for i, ph in enumerate(SAT_PHASES):
        v = top[f"metric.{ph}_cycles"].to_numpy(float)
        ax.bar(x - 0.2, v, 0.38, bottom=bottom, color=colors[i], label=f"{ph} (as run)")
        bottom += v
        dcol = f"metric.{ph}_dense_cycles"
        if dcol in top.columns:
            dv = top[dcol].to_numpy(float)
            ax.bar(x + 0.2, dv, 0.38, bottom=dbottom, color=colors[i], alpha=0.45, hatch="//",
                   label=f"{ph} (dense baseline)")
            dbottom += dv
        data[ph] = v.tolist()
    ax.set_xticks(x, labels, fontsize=6)
    ax.set_ylabel("cycles per training step [cycles]")
    ax.set_xlabel(f"the {len(top)} fastest designs (left bar: as run, right bar: dense on the same engine)")
    ax.set_title(title)
    ax.legend(fontsize=7, ncol=2)
    ax.grid(alpha=0.3, axis="y")
    fig.tight_layout()  # the long x label left the figure
    return fig, data


VIEWS = [("phases", sat_phases, "per-phase cycle breakdown")]
