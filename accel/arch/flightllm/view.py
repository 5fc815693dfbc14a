"""FlightLLM's report view: roofline of decode and prefill, decode HBM utilisation."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from accel.arch.flightllm.paper import PAPER  # noqa: E402

# the paper's two decode HBM utilisation figures, drawn as reference lines
PAPER_HBM_UTIL = {"off-chip activations (paper)": PAPER["u280 HBM util off-chip"],
                  "always-on-chip decode (paper)": PAPER["u280 HBM util on-chip"]}


def flightllm_roofline(df: pd.DataFrame, params: list[str], title: str, label=None):
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
        if "metric.roof_mv_gops" in g.columns:   # reachable: x SLR and HBM streaming efficiency
            rbw, rmv = (float(g[f"metric.{k}"].iloc[0]) for k in ("roof_hbm_gbps", "roof_mv_gops"))
            ax.plot(xgrid, np.minimum(rmv, rbw * xgrid), ":", color=c, lw=1.0,
                    label=f"{name} reachable, MV (decode)")
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
    yes_no = {True: "yes", False: "no"}  # as every table of the report says it
    ax2.boxplot(vals, tick_labels=[f"on_chip_decode={yes_no.get(bool(k), k)}" if key else "all"
                                   for k in cats])
    for (lab, v), ls in zip(PAPER_HBM_UTIL.items(), (":", "--"), strict=True):
        ax2.axhline(v, color="tab:red", ls=ls, lw=1, label=lab)
    ax2.set_ylabel("decode HBM bandwidth utilisation [fraction of peak]")
    ax2.set_title("HBM utilisation in decode")
    ax2.set_ylim(0, 1.05)
    ax2.legend(fontsize=7)
    ax2.grid(alpha=0.3, axis="y")
    data["hbm_utilization"] = {yes_no.get(bool(k), str(k)) if key else str(k): [float(np.median(v))] if len(v) else [] for k, v in zip(cats, vals, strict=True)}
    fig.suptitle(title)
    fig.tight_layout()
    return fig, data


VIEWS = [("roofline", flightllm_roofline, "roofline and HBM utilisation")]
