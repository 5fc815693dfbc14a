"""Generic sweep figures: Pareto front, speedup vs N:M pattern, parameter sensitivity.

Each ``*_figure`` function takes the per-design frame (one row per design point,
``param.*`` and ``metric.*`` columns) and returns ``(Figure, data)`` or ``None`` when
the sweep lacks what the figure needs; ``data`` holds the very arrays that were
plotted (read back from the matplotlib artists), so tests check the figure itself.
"""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from accel.sweep.pareto import pareto_mask  # noqa: E402

NM_RE = re.compile(r"^(?:[a-z]+:)?(\d+):(\d+)$")
_UNITS = [  # (regex on the metric name, unit shown on the axis)
    (r"tokens_per_s|tok_s|throughput", "tokens/s"), (r"utili[sz]ation|_util$|efficiency", "fraction"),
    (r"speedup|ratio", "x"), (r"cycles", "cycles"), (r"bytes", "bytes"), (r"(^|_)gb(_|$)", "GB"),
    (r"(^|_)(s|seconds|time_s|latency_s)$|_s$", "s"), (r"_ms$", "ms"), (r"_us$", "us"),
    (r"energy|joule|_j$", "J"), (r"power|_w$", "W"), (r"lut", "LUTs"), (r"(^|_)ff", "flip-flops"),
    (r"dsp", "DSP slices"), (r"bram", "BRAM tiles"), (r"macs|flops|ops", "ops"),
]


def metric_label(name: str) -> str:
    low = name.lower()
    for pat, unit in _UNITS:
        if re.search(pat, low):
            return f"{name} [{unit}]"
    return f"{name} [-]"


def nm_key(v) -> tuple[float, str]:
    """Sort key for sparsity patterns: dense first, then by kept fraction N/M descending."""
    s = str(v)
    m = NM_RE.match(s)
    if m:
        return (1 - int(m.group(1)) / int(m.group(2)), s)
    return (-1.0, s)


def is_pattern_param(values) -> bool:
    vals = [str(v) for v in values]
    return any(NM_RE.match(v) for v in vals) and all(NM_RE.match(v) or v == "dense" for v in vals)


def short_label(row: pd.Series, params: list[str]) -> str:
    """A design point's label: ``p=v, ...`` over ``params`` (also handed to machine views)."""
    return ", ".join(f"{p}={row[f'param.{p}']}" for p in params)


def labelled_xy(front: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    return front.drop_duplicates(subset=cols)


def save(fig, out: Path, stem: str) -> list[Path]:
    paths = [out / f"{stem}.png", out / f"{stem}.svg"]
    fig.savefig(paths[0], dpi=110, bbox_inches="tight")
    fig.savefig(paths[1], bbox_inches="tight")
    plt.close(fig)
    return paths


def pareto_figure(df: pd.DataFrame, objectives: list[tuple[str, str]], params: list[str], title: str):
    cols = [f"metric.{m}" for m, _ in objectives[:2]]
    if len(cols) < 2 or any(c not in df.columns for c in cols):
        return None
    goals = [g for _, g in objectives[:2]]
    d = df.dropna(subset=cols)
    if d.empty:
        return None
    mask = pareto_mask(d[cols].to_numpy(float), goals)
    front = d[mask].sort_values(cols[0])
    fig, ax = plt.subplots(figsize=(7.5, 5))
    ax.scatter(d[cols[0]], d[cols[1]], s=12, c="0.7", label=f"design points ({len(d)})")
    (line,) = ax.plot(front[cols[0]], front[cols[1]], "o-", color="tab:red", ms=6, lw=1.5,
                      drawstyle="steps-post" if goals[1] == "min" else "default",
                      label=f"Pareto front ({len(front)} designs, {len(labelled_xy(front, cols))} points)")
    varied = [p for p in params if f"param.{p}" in d.columns and d[f"param.{p}"].nunique() > 1]
    labelled = front.drop_duplicates(subset=cols)  # one label per plotted marker
    step = max(1, len(labelled) // 8)
    for i, (_, row) in enumerate(labelled.iloc[::step].iterrows()):
        ax.annotate(short_label(row, varied[:4]), (row[cols[0]], row[cols[1]]), fontsize=5.5,
                    xytext=(5, 3 + 7 * (i % 2)), textcoords="offset points", color="tab:red")
    for axis, c in ((ax.set_xscale, cols[0]), (ax.set_yscale, cols[1])):
        v = d[c].to_numpy(float)
        if (v > 0).all() and v.max() / max(v.min(), 1e-300) > 50:
            axis("log")
    ax.set_xlabel(f"{metric_label(objectives[0][0])} ({goals[0]}imise)")
    ax.set_ylabel(f"{metric_label(objectives[1][0])} ({goals[1]}imise)")
    ax.set_title(title)
    ax.legend(loc="best", fontsize=8)
    ax.grid(alpha=0.3)
    xy = line.get_xydata()
    data = {"objectives": [list(o) for o in objectives[:2]],
            "front": np.asarray(xy, float).tolist(),
            "all": d[cols].to_numpy(float).tolist()}
    return fig, data


def speedup_nm_figure(df: pd.DataFrame, pattern: str, metric: str, params: list[str], title: str,
                      goal: str = "min"):
    """Speedup of each design over the same design with ``pattern=dense``, per pattern.

    For a time-like metric (goal min) speedup = dense / sparse; for a rate (goal max)
    speedup = sparse / dense."""
    pcol, mcol = f"param.{pattern}", f"metric.{metric}"
    if pcol not in df.columns or mcol not in df.columns:
        return None
    others = [f"param.{p}" for p in params if p != pattern]
    dense = df[df[pcol].astype(str) == "dense"]
    d = df.copy()
    if not dense.empty and others:
        base = dense.set_index(others)[mcol]
        base = base[~base.index.duplicated()]
        ref = base.reindex(pd.MultiIndex.from_frame(d[others]) if len(others) > 1
                           else d[others[0]]).to_numpy()
        d["speedup"] = ref / d[mcol].to_numpy() if goal == "min" else d[mcol].to_numpy() / ref
        how = (f"{metric} of the same design dense / {metric}" if goal == "min"
               else f"{metric} / {metric} of the same design dense")
    elif not dense.empty:
        ref = float(dense[mcol].iloc[0])
        d["speedup"] = ref / d[mcol] if goal == "min" else d[mcol] / ref
        how = f"relative to dense {metric}"
    elif "metric.dense_cycles" in df.columns and metric == "cycles":
        d["speedup"] = df["metric.dense_cycles"] / df[mcol]
        how = "dense_cycles / cycles (same engine, masks ignored)"
    else:
        return None
    d = d.dropna(subset=["speedup"])
    pats = sorted(d[pcol].astype(str).unique(), key=nm_key)
    series = [d.loc[d[pcol].astype(str) == p, "speedup"].to_numpy(float) for p in pats]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.boxplot(series, tick_labels=pats, showfliers=False)
    med = [float(np.median(s)) if len(s) else np.nan for s in series]
    ax.plot(range(1, len(pats) + 1), med, "D-", color="tab:blue", label="median over designs")
    ax.axhline(1.0, color="0.5", ls="--", lw=1, label="dense = 1x")
    ax.set_xlabel(f"{pattern} (N:M sparsity pattern)")
    ax.set_ylabel(f"speedup over dense [x]  ({how})")
    ax.set_title(title)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, axis="y")
    return fig, {"patterns": pats, "median_speedup": med}


def sensitivity_figure(df: pd.DataFrame, metric: str, goal: str, params: list[str], title: str):
    """For each varied parameter: median of ``metric`` per value, relative to the overall median."""
    mcol = f"metric.{metric}"
    varied = [p for p in params if f"param.{p}" in df.columns and df[f"param.{p}"].nunique() > 1]
    if mcol not in df.columns or not varied:
        return None
    overall = float(df[mcol].median())
    n = len(varied)
    ncol = min(3, n)
    nrow = -(-n // ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.2 * ncol, 3.2 * nrow), squeeze=False)
    data = {}
    for ax, p in zip(axes.flat, varied, strict=False):
        g = df.groupby(f"param.{p}")[mcol].median()
        keys = list(g.index)
        try:
            keys = sorted(keys, key=float)
            xs = [float(k) for k in keys]
        except (TypeError, ValueError):
            keys = sorted(keys, key=nm_key)
            xs = list(range(len(keys)))
            ax.set_xticks(xs, [str(k) for k in keys], rotation=30, fontsize=7)
        ys = [float(g[k]) / overall if overall else np.nan for k in keys]
        ax.plot(xs, ys, "o-", label=f"median {metric}")
        ax.axhline(1.0, color="0.6", ls="--", lw=1, label="median of all designs")
        ax.set_xlabel(p)
        ax.set_ylabel(f"relative {metric} [x median]")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=6)
        data[p] = {"values": [str(k) for k in keys], "relative": ys}
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    fig.suptitle(f"{title} ({goal}imise {metric})")
    fig.tight_layout()
    return fig, data
