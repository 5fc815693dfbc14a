"""Per-machine report views (SAT phases, FlightLLM roofline, PIUMA threads/traffic).

Each view looks for the metrics the machine's ``Result.metrics()`` (plus the sweep
adapter's derived metrics) produce and is skipped (returns None) when they are absent.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from accel.report.figures import _short  # noqa: E402

SAT_PHASES = ("fwd", "bwd_data", "bwd_weight", "update")
PAPER_HBM_UTIL = {"off-chip activations (paper)": 0.356, "always-on-chip decode (paper)": 0.659}
TOP = 8


def time_metric(df: pd.DataFrame, primary: str) -> str:
    for m in ("cycles", "total_cycles", primary):
        if f"metric.{m}" in df.columns:
            return m
    return primary


def _varied(df: pd.DataFrame, params: list[str]) -> list[str]:
    return [p for p in params if f"param.{p}" in df.columns and df[f"param.{p}"].nunique() > 1]


def sat_phases(df: pd.DataFrame, params: list[str], title: str):
    cols = [f"metric.{p}_cycles" for p in SAT_PHASES]
    if any(c not in df.columns for c in cols):
        return None
    top = df.sort_values("metric.cycles").head(TOP)
    labels = [_short(r, _varied(df, params)[:4]).replace(", ", "\n") for _, r in top.iterrows()]
    x = np.arange(len(top))
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
    return fig, data


def flightllm_roofline(df: pd.DataFrame, params: list[str], title: str):
    need = ["metric.decode_intensity", "metric.decode_gops", "metric.prefill_intensity",
            "metric.prefill_gops", "metric.peak_hbm_gbps", "metric.peak_mv_gops",
            "metric.peak_mm_gops", "metric.hbm_utilization"]
    if any(c not in df.columns for c in need):
        return None
    d = df.dropna(subset=need)
    dev = "param.preset" if "param.preset" in d.columns else None
    groups = list(d.groupby(dev)) if dev else [("base", d)]
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(13, 5), gridspec_kw={"width_ratios": [3, 2]})
    colors = plt.get_cmap("tab10").colors
    data = {}
    xs_all = np.concatenate([d["metric.decode_intensity"], d["metric.prefill_intensity"]])
    xgrid = np.geomspace(max(xs_all.min() / 3, 1e-2), xs_all.max() * 3, 200)
    for i, (name, g) in enumerate(groups):
        c = colors[i % 10]
        bw, mv, mm = (float(g[f"metric.{k}"].iloc[0]) for k in ("peak_hbm_gbps", "peak_mv_gops", "peak_mm_gops"))
        ax.plot(xgrid, np.minimum(mv, bw * xgrid), "-", color=c, lw=1.2, label=f"{name} roof, MV (decode)")
        ax.plot(xgrid, np.minimum(mm, bw * xgrid), "--", color=c, lw=1.0, label=f"{name} roof, MM (prefill)")
        ax.scatter(g["metric.decode_intensity"], g["metric.decode_gops"], marker="o", color=c, s=22,
                   label=f"{name} decode points", edgecolor="k", linewidth=0.3)
        ax.scatter(g["metric.prefill_intensity"], g["metric.prefill_gops"], marker="s", color=c, s=22,
                   label=f"{name} prefill points", facecolor="none")
        data[str(name)] = {"decode": g[["metric.decode_intensity", "metric.decode_gops"]].to_numpy().tolist(),
                           "prefill": g[["metric.prefill_intensity", "metric.prefill_gops"]].to_numpy().tolist()}
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("arithmetic intensity [executed linear-layer ops / HBM byte]")
    ax.set_ylabel("achieved throughput [GOP/s, zeros skipped]")
    ax.set_title("roofline: decode and prefill")
    ax.legend(fontsize=6, loc="lower right")
    ax.grid(alpha=0.3, which="both")
    # HBM utilisation in decode, split by the always-on-chip switch when it was swept
    key = "param.on_chip_decode" if "param.on_chip_decode" in d.columns else None
    cats = sorted(d[key].unique()) if key else ["all"]
    vals = [d.loc[d[key] == k, "metric.hbm_utilization"].to_numpy(float) if key else
            d["metric.hbm_utilization"].to_numpy(float) for k in cats]
    ax2.boxplot(vals, tick_labels=[f"on_chip_decode={k}" if key else "all" for k in cats])
    for (lab, v), ls in zip(PAPER_HBM_UTIL.items(), (":", "--"), strict=True):
        ax2.axhline(v, color="tab:red", ls=ls, lw=1, label=lab)
    ax2.set_ylabel("decode HBM bandwidth utilisation [fraction of peak]")
    ax2.set_title("HBM utilisation in decode")
    ax2.set_ylim(0, 1.05)
    ax2.legend(fontsize=7)
    ax2.grid(alpha=0.3, axis="y")
    data["hbm_utilization"] = {str(k): [float(np.median(v))] if len(v) else [] for k, v in zip(cats, vals, strict=True)}
    fig.suptitle(title)
    fig.tight_layout()
    return fig, data


def piuma_threads_traffic(df: pd.DataFrame, params: list[str], title: str):
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


_VIEWS = {
    "sat": [("phases", sat_phases, "per-phase cycle breakdown")],
    "flightllm": [("roofline", flightllm_roofline, "roofline and HBM utilisation")],
    "piuma": [("threads-traffic", piuma_threads_traffic, "per-thread load and DRAM traffic")],
}


def views(machine: str, df: pd.DataFrame, params: list[str], name: str):
    """[(stem, thunk)] of the machine-specific figures."""
    return [(stem, lambda fn=fn, what=what: fn(df, params, f"{name}: {what}"))
            for stem, fn, what in _VIEWS.get(machine, [])]
