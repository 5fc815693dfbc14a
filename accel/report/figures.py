"""Generic sweep figures: Pareto front, speedup vs N:M pattern, parameter sensitivity.

Each ``*_figure`` function takes the per-design frame (one row per design point,
``param.*`` and ``metric.*`` columns) and returns ``(Figure, data)`` or ``None`` when
the sweep lacks what the figure needs; ``data`` holds the very arrays that were
plotted (read back from the matplotlib artists), so tests check the figure itself.

Rules every figure follows (each is checked by tests/report):
* axis labels carry units (``accel.report.units``);
* the Pareto front drawn is the front the summary tables list: the caller computes one
  mask over *all* objectives and passes it in.  With two objectives it is drawn as a
  staircase; with three or more a 2-D staircase would be a different set, so the figure
  shows the projection of the same designs (no line) and a parallel-coordinates panel;
* designs on the front are numbered, the numbers placed so that no two overlap, and the
  parameters of each number are in the table beside the figure (long labels on the plot
  piled on top of each other);
* booleans and categories are categories (markers, no connecting line, no 0.0-1.0 axis);
* an axis switches to log scale when a few outliers would squash the rest;
* box plots draw their outliers and say how whiskers are defined.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from accel.report.units import SectionUnits, fmt_num  # noqa: E402

NM_RE = re.compile(r"^(?:[a-z]+:)?(\d+):(\d+)$")
CATEGORY_PARAMS = ("preset", "algorithm", "device")  # colour points by these when swept
MAX_CATEGORIES = 8


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


def is_categorical(series: pd.Series) -> bool:
    """Booleans, text and N:M patterns are categories; numbers are an axis."""
    if series.dtype == bool or series.dtype == object and series.dropna().map(
            lambda v: isinstance(v, bool | np.bool_)).all():
        return True
    return not pd.api.types.is_numeric_dtype(series)


def category_text(v) -> str:
    if isinstance(v, bool | np.bool_):
        return "yes" if v else "no"
    return str(v)


def varied_params(df: pd.DataFrame, params: list[str]) -> list[str]:
    return [p for p in params if f"param.{p}" in df.columns and df[f"param.{p}"].nunique() > 1]


def short_label(row: pd.Series, params: list[str]) -> str:
    """A design point's label: ``p=v, ...`` over ``params`` (also handed to machine views)."""
    return ", ".join(f"{p}={category_text(row[f'param.{p}'])}" for p in params)


def save(fig, out: Path, stem: str) -> list[Path]:
    paths = [out / f"{stem}.png", out / f"{stem}.svg"]
    fig.savefig(paths[0], dpi=110, bbox_inches="tight")
    fig.savefig(paths[1], bbox_inches="tight")
    plt.close(fig)
    return paths


# --- helpers -----------------------------------------------------------------------------
def wants_log(values) -> bool:
    """Log scale when the values span > 30x, or when a few outliers squash the rest: 60 %
    of the points would sit in 15 % of a linear axis while the values span more than 3x."""
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    if len(v) < 4 or (v <= 0).any():
        return False
    lo, hi = v.min(), v.max()
    if hi / lo > 30:
        return True
    v = np.sort(v)
    in_window = np.searchsorted(v, v + 0.15 * (hi - lo), side="right") - np.arange(len(v))
    return hi / lo > 3 and in_window.max() >= 0.6 * len(v)


def log_ticks(lo: float, hi: float) -> list[float]:
    """Tick values for a log axis over [lo, hi] that label its whole range: the sparsest
    of 1, 1-3, 1-2-5, 1-2-3-5, 1-1.5-2-3-4-5-7 per decade that puts a tick in each outer fifth
    of the range (a 0.5-4 MB axis got 0.5, 1, 2 and nothing above)."""
    lo, hi = float(lo), float(hi)
    if not (lo > 0 and hi > lo):
        return [lo] if lo > 0 else []
    span = np.log10(hi / lo)
    for subs in ((1.0,), (1.0, 3.0), (1.0, 2.0, 5.0), (1.0, 2.0, 3.0, 5.0), (1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 7.0)):
        ticks = [s * 10.0 ** e for e in range(int(np.floor(np.log10(lo))) - 1, int(np.ceil(np.log10(hi))) + 1)
                 for s in subs]
        ticks = sorted(t for t in ticks if lo * (1 - 1e-9) <= t <= hi * (1 + 1e-9))
        if len(ticks) >= 2 and np.log10(ticks[0] / lo) <= 0.2 * span \
                and np.log10(hi / ticks[-1]) <= 0.2 * span:
            return ticks
    return ticks


def scaled_axis(ax, which: str, name: str, values, goal: str | None = None,
                units: SectionUnits | None = None) -> float:
    """Label an axis with the metric's unit (the section's: bytes as MB/GB); returns the
    divisor used."""
    units = units or SectionUnits(None)
    scale, _unit = units.scale(name, values)
    label = units.label(name, values)
    if goal:
        label += f" ({'lower' if goal == 'min' else 'higher'} is better)"
    (ax.set_xlabel if which == "x" else ax.set_ylabel)(label)
    v = np.asarray(values, float) / scale
    axis = ax.xaxis if which == "x" else ax.yaxis
    if wants_log(v):
        (ax.set_xscale if which == "x" else ax.set_yscale)("log")
        pos = v[np.isfinite(v) & (v > 0)]
        lo, hi = pos.min(), pos.max()
        pad = (hi / lo) ** 0.05  # the axis margin matplotlib adds, on a log scale
        axis.set_major_locator(matplotlib.ticker.FixedLocator(log_ticks(lo / pad, hi * pad)))
    axis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda x, _pos: tick_text(x)))
    axis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    return scale


# Tick labels closer than this read as one ("5,000,00010,000,000"): 1/8 in at 100 dpi.
TICK_GAP_PX = 12


def finish_layout(fig) -> None:
    """``tight_layout``, then thin the fixed (log-axis) ticks whose labels the final
    layout puts closer than ``TICK_GAP_PX``: powers of ten are kept first, then the other
    ticks, each only if its label clears every label kept.  Which ticks fit depends on
    the width the layout leaves the axes, known only now."""
    fig.tight_layout()
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    for ax in fig.axes:
        for axis, labels in ((ax.xaxis, ax.get_xticklabels), (ax.yaxis, ax.get_yticklabels)):
            if not isinstance(axis.get_major_locator(), matplotlib.ticker.FixedLocator):
                continue
            boxes = {float(t.get_position()[0 if axis is ax.xaxis else 1]):
                     t.get_window_extent(r).padded(TICK_GAP_PX / 2)
                     for t in labels() if t.get_visible() and t.get_text()}
            order = sorted(boxes, key=lambda v: (not _power_of_ten(v), v))
            kept: list[float] = []
            for v in order:
                if not any(boxes[v].overlaps(boxes[k]) for k in kept):
                    kept.append(v)
            if len(kept) < len(boxes):
                axis.set_major_locator(matplotlib.ticker.FixedLocator(sorted(kept)))


def _power_of_ten(v: float) -> bool:
    return v > 0 and abs(np.log10(v) - round(np.log10(v))) < 1e-9


def tick_text(x: float) -> str:
    """``0.5`` not ``0.500``; thousands separators for big ticks."""
    t = fmt_num(x, 3)
    return t.rstrip("0").rstrip(".") if "." in t else t


def _overlaps(a, b, pad: float = 1.0) -> bool:
    return not (a.x1 + pad <= b.x0 or b.x1 + pad <= a.x0 or a.y1 + pad <= b.y0 or b.y1 + pad <= a.y0)


def place_labels(ax, xs, ys, texts, color="tab:red", fontsize=8):
    """Annotate points with short texts, trying offsets until a label overlaps no other
    label and stays inside the axes (a small greedy 'repel')."""
    fig = ax.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    axbox = ax.get_window_extent(renderer)
    placed, artists = [], []
    offsets = [(4, 4), (4, -11), (-12, 4), (-12, -11), (8, 12), (8, -18), (-18, 12), (-18, -18),
               (14, 0), (-22, 0), (0, 16), (0, -22), (20, 20), (-26, 20), (20, -26), (-26, -26)]
    for x, y, t in zip(xs, ys, texts, strict=True):
        best = None
        for dx, dy in offsets:
            a = ax.annotate(t, (x, y), xytext=(dx, dy), textcoords="offset points",
                            fontsize=fontsize, color=color, fontweight="bold")
            bb = a.get_window_extent(renderer)
            inside = (bb.x0 >= axbox.x0 and bb.x1 <= axbox.x1 and bb.y0 >= axbox.y0
                      and bb.y1 <= axbox.y1)
            if inside and not any(_overlaps(bb, p) for p in placed):
                best = (a, bb)
                break
            a.remove()
        if best is None:  # nowhere free: put it at the first offset anyway, but say so
            a = ax.annotate(t, (x, y), xytext=offsets[0], textcoords="offset points",
                            fontsize=fontsize, color=color, fontweight="bold")
            best = (a, a.get_window_extent(renderer))
        artists.append(best[0])
        placed.append(best[1])
    return artists


def _category_column(df: pd.DataFrame, params: list[str]) -> str | None:
    for p in [*CATEGORY_PARAMS, *params]:
        c = f"param.{p}"
        if p in params and c in df.columns and 1 < df[c].nunique() <= MAX_CATEGORIES \
                and is_categorical(df[c]):
            return c
    return None


# --- Pareto ------------------------------------------------------------------------------
def pareto_figure(df: pd.DataFrame, objectives: list[tuple[str, str]], params: list[str],
                  title: str, front_mask: np.ndarray | None = None,
                  numbers: dict | None = None, units: SectionUnits | None = None,
                  infeasible: pd.DataFrame | None = None, infeasible_label: str = "",
                  limits: dict | None = None):
    """The front of *all* ``objectives`` (``front_mask``, computed by the caller over the
    same rows), numbered as in the summary table (``numbers``: row index -> number).
    ``infeasible``: designs that do not fit the spec's device, drawn as hollow grey
    markers (never part of the front, which the caller computed without them).
    ``limits``: metric -> (value, label) of a device ceiling, drawn as a dashed line on
    the axis of that metric."""
    from accel.sweep.pareto import pareto_mask

    cols = [f"metric.{m}" for m, _ in objectives]
    if len(cols) < 2 or any(c not in df.columns for c in cols):
        return None
    d = df.dropna(subset=cols)
    if d.empty:
        return None
    goals = [g for _, g in objectives]
    if front_mask is None:
        front_mask = pareto_mask(df[cols].to_numpy(float), goals)
    mask = pd.Series(front_mask, index=df.index).loc[d.index].to_numpy()
    front = d[mask].sort_values(cols[0])
    if numbers is None:
        numbers = {idx: i + 1 for i, idx in enumerate(front.index)}
    three = len(cols) >= 3
    if three:
        fig, (ax, axp) = plt.subplots(1, 2, figsize=(13, 5.2), gridspec_kw={"width_ratios": [3, 2]})
    else:
        fig, ax = plt.subplots(figsize=(8, 5.4))
    units = units or SectionUnits(d)
    sx = scaled_axis(ax, "x", objectives[0][0], d[cols[0]], goals[0], units)
    sy = scaled_axis(ax, "y", objectives[1][0], d[cols[1]], goals[1], units)
    catcol = _category_column(d, params)
    palette = plt.get_cmap("tab10").colors
    if catcol:
        for i, (cat, g) in enumerate(d.groupby(catcol, sort=True)):
            ax.scatter(g[cols[0]] / sx, g[cols[1]] / sy, s=16, color=palette[i % 10], alpha=0.45,
                       label=f"{catcol[6:]}={category_text(cat)} ({len(g)})")
            on = front[front[catcol] == cat]
            ax.scatter(on[cols[0]] / sx, on[cols[1]] / sy, s=60, color=palette[i % 10],
                       edgecolor="k", linewidth=1.2, zorder=3)
    else:
        ax.scatter(d[cols[0]] / sx, d[cols[1]] / sy, s=14, c="0.65", label=f"design points ({len(d)})")
        ax.scatter(front[cols[0]] / sx, front[cols[1]] / sy, s=60, color="tab:red",
                   edgecolor="k", linewidth=1.2, zorder=3)
    bad = infeasible.dropna(subset=cols) if infeasible is not None and \
        all(c in infeasible.columns for c in cols) else None
    if bad is not None and len(bad):
        ax.scatter(bad[cols[0]] / sx, bad[cols[1]] / sy, s=22, facecolors="none",
                   edgecolors="0.55", linewidth=0.8, zorder=1,
                   label=infeasible_label or f"does not fit the device ({len(bad)})")
    for axis, (m, _g), scale in (("y", objectives[1], sy), ("x", objectives[0], sx)):
        if limits and m in limits:
            value, text = limits[m]
            draw = ax.axhline if axis == "y" else ax.axvline
            draw(value / scale, color="0.35", ls="--", lw=1.0, zorder=1, label=text)
    n_front = len(front)
    if three:
        line = None
        ax.scatter([], [], s=60, color="w", edgecolor="k", linewidth=1.2,
                   label=f"on the {len(cols)}-objective Pareto front ({n_front}), numbered as in the table")
        ax.set_title(f"projection on {objectives[0][0]} and {objectives[1][0]}"
                     + projection_note(front, objectives, numbers), fontsize=9)
    else:
        fx = front[cols[0]].to_numpy(float) / sx
        fy = front[cols[1]].to_numpy(float) / sy
        # the boundary of the dominated region: along x first when x is minimised
        step = "steps-post" if goals[0] == "min" else "steps-pre"
        (line,) = ax.plot(fx, fy, "-", color="k", lw=1.0, drawstyle=step, zorder=2,
                          label=f"Pareto front ({n_front} designs), numbered as in the table")
    place_labels(ax, (front[cols[0]] / sx).tolist(), (front[cols[1]] / sy).tolist(),
                 [str(numbers[i]) for i in front.index], color="k")
    ax.legend(loc="best", fontsize=7.5, framealpha=0.85)
    ax.grid(alpha=0.3, which="both")
    if three:
        _parallel(axp, front, objectives, numbers, units)
    fig.suptitle(title)
    finish_layout(fig)
    data = {"objectives": [list(o) for o in objectives],
            "front_points": [int(front.loc[i, "point"]) for i in front.index] if "point" in front else [],
            "front_numbers": [numbers[i] for i in front.index],
            "all": d[cols[:2]].to_numpy(float).tolist(),
            "infeasible": bad[cols[:2]].to_numpy(float).tolist() if bad is not None else [],
            "ceilings": {m: v for m, (v, _t) in (limits or {}).items()}}
    if line is not None:
        xy = np.asarray(line.get_xydata(), float) * [sx, sy]
        data["front"] = xy.tolist()
    else:
        data["front"] = front[cols[:2]].to_numpy(float).tolist()
        data["front_all_objectives"] = front[cols].to_numpy(float).tolist()
        data["all_objectives"] = d[cols].to_numpy(float).tolist()
    return fig, data


def projection_note(front: pd.DataFrame, objectives, numbers: dict) -> str:
    """What the 2-D projection of a front over 3+ objectives hides, as a computed claim:
    which front designs look dominated in it and on which other objectives they beat each
    design that seems to dominate them; '' when none looks dominated."""
    from accel.sweep.pareto import pareto_mask

    c = [f"metric.{m}" for m, _ in objectives]
    goals = [g for _, g in objectives]
    sign = np.array([1.0 if g == "min" else -1.0 for g in goals])
    vals = front[c].to_numpy(float) * sign  # lower is better on every column
    looks = ~pareto_mask(vals[:, :2], ["min", "min"])
    if not looks.any():
        return ""
    wins = set()
    for i in np.flatnonzero(looks):
        over = (vals[:, :2] <= vals[i, :2]).all(axis=1) & (vals[:, :2] < vals[i, :2]).any(axis=1)
        for j in np.flatnonzero(over):
            wins |= {objectives[k][0] for k in range(2, len(c)) if vals[i, k] < vals[j, k]}
    shown = [numbers[front.index[i]] for i in np.flatnonzero(looks)]
    return (f"\n(front {'design' if len(shown) == 1 else 'designs'} "
            f"{', '.join(f'#{n}' for n in sorted(shown))} look dominated here: "
            f"they are better on {' and '.join(sorted(wins))})")


def _parallel(ax, front: pd.DataFrame, objectives, numbers: dict, units: SectionUnits) -> None:
    """Parallel coordinates of the front: one vertical axis per objective, 'better' at the
    bottom, each design a line labelled with its table number at both ends.  An objective
    with one value across the front is one value, not a best-to-worst axis."""
    k = len(objectives)
    cols = [f"metric.{m}" for m, _ in objectives]
    vals = front[cols].to_numpy(float)
    lo, hi = np.nanmin(vals, axis=0), np.nanmax(vals, axis=0)
    # one value across the front, or two that print alike ("worst 299 MB ... best 299 MB")
    flat = np.array([np.isclose(a, b, rtol=1e-9, atol=0.0) or units.text(m, a) == units.text(m, b)
                     for (m, _g), a, b in zip(objectives, lo, hi, strict=True)])
    span = np.where(flat, 1.0, hi - lo)
    norm = np.where(flat, 0.5, (vals - lo) / span)
    for j, (_m, g) in enumerate(objectives):
        if g == "max" and not flat[j]:  # better at the bottom for every axis
            norm[:, j] = 1 - norm[:, j]
    cmap = plt.get_cmap("viridis")
    colors = [cmap(r / max(1, len(front) - 1)) for r in range(len(front))]
    for r in range(len(front)):
        ax.plot(range(k), norm[r], "-o", ms=3, lw=1, color=colors[r], alpha=0.8)
    ax.set_xticks(range(k), [m for m, _ in objectives])
    ax.set_yticks([])
    ax.set_ylim(-0.2, 1.2)
    ax.set_xlim(-0.6, k - 0.4)
    for j, (m, g) in enumerate(objectives):
        ax.axvline(j, color="0.5", lw=0.8)
        if flat[j]:
            ax.text(j, -0.1, f"all\n{units.text(m, lo[j])}", ha="center", va="center", fontsize=7)
            continue
        best, worst = (lo[j], hi[j]) if g == "min" else (hi[j], lo[j])
        ax.text(j, -0.1, f"best\n{units.text(m, best)}", ha="center", va="center", fontsize=7)
        ax.text(j, 1.1, f"worst\n{units.text(m, worst)}", ha="center", va="center", fontsize=7)
    # design numbers where the lines leave the first axis and reach the last one
    nums = [str(numbers[i]) for i in front.index]
    for end, ha, dx in ((0, "right", -0.06), (k - 1, "left", 0.06)):
        for text, ys in _spread_labels(norm[:, end], nums, 0.07):
            ax.text(end + dx, ys, text, ha=ha, va="center", fontsize=7, fontweight="bold")
    ax.set_title(f"the {len(front)} front designs across all objectives\n"
                 "(better at the bottom of every axis; numbers as in the table)", fontsize=9)


def _spread_labels(ys, texts, gap: float) -> list[tuple[str, float]]:
    """Labels for lines ending at heights ``ys``: lines ending at the same height share one
    label (``3, 7``), and labels closer than ``gap`` are pushed apart, kept within 0..1
    (neighbours merged into one label when 0..1 cannot hold them all)."""
    groups: dict[float, list[str]] = {}
    for y, t in zip(np.round(ys, 3), texts, strict=True):
        groups.setdefault(float(y), []).append(t)
    items = sorted(groups.items())
    # more labels than 0..1 holds at ``gap`` apart: merge the closest neighbours (one
    # label at their mean height) until they fit, rather than stack them at the bottom
    while len(items) > 1 and (len(items) - 1) * gap > 1.0:
        j = min(range(len(items) - 1), key=lambda i: items[i + 1][0] - items[i][0])
        (ya, ta), (yb, tb) = items[j], items[j + 1]
        items[j:j + 2] = [((ya * len(ta) + yb * len(tb)) / (len(ta) + len(tb)), ta + tb)]
    pos = [y for y, _ in items]
    for i in range(1, len(pos)):         # push up, then down from the top: they now fit
        pos[i] = max(pos[i], pos[i - 1] + gap)
    if pos:
        pos[-1] = min(pos[-1], 1.0)
    for i in range(len(pos) - 2, -1, -1):
        pos[i] = min(pos[i], pos[i + 1] - gap)
    return [(number_list(ts), y) for (_y, ts), y in zip(items, pos, strict=True)]


def number_list(texts: list[str], most: int = 4) -> str:
    """Design numbers as a short label: runs of consecutive numbers as ``8-12``, and past
    ``most`` runs the count of the rest (a front of 77 designs can end 60 of them at one
    point: written out, that label ran far beyond the figure)."""
    try:
        nums = sorted(int(t) for t in texts)
    except ValueError:
        return ", ".join(texts)
    runs: list[str] = []
    start = prev = nums[0]
    for n in nums[1:] + [None]:
        if n is not None and n == prev + 1:
            prev = n
            continue
        runs.append(str(start) if start == prev else f"{start}\u2013{prev}")
        if n is not None:
            start = prev = n
    if len(runs) <= most:
        return ", ".join(runs)
    return f"{', '.join(runs[:most - 1])} \u2026 ({len(nums)} designs)"


# --- speedup over dense per N:M pattern ---------------------------------------------------
def speedup_frame(df: pd.DataFrame, pattern: str, metric: str, params: list[str], goal: str = "min"):
    """(frame with a 'speedup' column, how it was computed) or None."""
    pcol, mcol = f"param.{pattern}", f"metric.{metric}"
    if pcol not in df.columns or mcol not in df.columns:
        return None
    others = [f"param.{p}" for p in params if p != pattern and f"param.{p}" in df.columns]
    dense = df[df[pcol].astype(str) == "dense"]
    d = df.copy()
    if not dense.empty and others:
        base = dense.set_index(others)[mcol]
        base = base[~base.index.duplicated()]
        ref = base.reindex(pd.MultiIndex.from_frame(d[others]) if len(others) > 1
                           else d[others[0]]).to_numpy()
        d["speedup"] = ref / d[mcol].to_numpy() if goal == "min" else d[mcol].to_numpy() / ref
        how = (f"{metric} of the same design run dense / {metric}" if goal == "min"
               else f"{metric} / {metric} of the same design run dense")
    elif not dense.empty:
        ref = float(dense[mcol].iloc[0])
        d["speedup"] = ref / d[mcol] if goal == "min" else d[mcol] / ref
        how = f"relative to the dense {metric}"
    elif "metric.dense_cycles" in df.columns and metric == "cycles":
        d["speedup"] = df["metric.dense_cycles"] / df[mcol]
        how = "dense_cycles / cycles (same engine, masks ignored)"
    else:
        return None
    return d.dropna(subset=["speedup"]), how


def speedup_nm_figure(df: pd.DataFrame, pattern: str, metric: str, params: list[str], title: str,
                      goal: str = "min"):
    """Speedup of each design over the same design with ``pattern=dense``, per pattern."""
    res = speedup_frame(df, pattern, metric, params, goal)
    if res is None:
        return None
    d, how = res
    pcol = f"param.{pattern}"
    pats = sorted(d[pcol].astype(str).unique(), key=nm_key)
    series = [d.loc[d[pcol].astype(str) == p, "speedup"].to_numpy(float) for p in pats]
    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    ax.boxplot(series, tick_labels=pats, showfliers=True,
               flierprops={"marker": "o", "markersize": 4, "markerfacecolor": "none"})
    med = [float(np.median(s)) if len(s) else np.nan for s in series]
    best = [float(np.max(s)) if len(s) else np.nan for s in series]
    pos = np.arange(1, len(pats) + 1)
    ax.plot(pos, med, "D", color="tab:blue", ls="none", label="median over designs")
    ax.plot(pos, best, "^", color="tab:green", ls="none", label="best design")
    labels = [ax.annotate(f"{fmt_num(b, 3)}×", (x, b), xytext=(0, 6), textcoords="offset points",
                          fontsize=8, ha="center", va="bottom", color="tab:green")
              for x, b, p in zip(pos, best, pats, strict=True) if np.isfinite(b) and p != "dense"]
    ax.axhline(1.0, color="0.5", ls="--", lw=1, label="dense = 1×")
    ax.set_xlabel(f"{pattern} (N:M sparsity pattern)")
    ax.set_ylabel("speedup over dense [×]")
    ax.set_title(f"{title}\n" + "\n".join(textwrap.wrap(
        f"speedup = {how}; boxes: quartiles, whiskers: 1.5 IQR, circles: outliers", 80)),
        fontsize=9)
    ax.legend(fontsize=8, loc="upper left")
    ax.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    keep_inside(ax, labels)  # the best-design labels sat on the top frame
    return fig, {"patterns": pats, "median_speedup": med, "best_speedup": best, "how": how}


def keep_inside(ax, texts, tries: int = 8) -> None:
    """Raise the top of the y axis until every text in ``texts`` is inside the frame."""
    for _ in range(tries):
        fig = ax.figure
        fig.canvas.draw()
        r = fig.canvas.get_renderer()
        top = ax.get_window_extent(r).y1
        over = max((t.get_window_extent(r).y1 - top for t in texts), default=-1.0)
        if over < -2:
            return
        lo, hi = ax.get_ylim()
        ax.set_ylim(lo, hi + (hi - lo) * 0.08)
