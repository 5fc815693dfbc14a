"""Per-parameter sensitivity: how the median of the primary objective moves with each
varied parameter, over designs that compare like with like.

A constraint can let some settings of the other parameters in for one value of a parameter
only (PIUMA's 1024-entry hash table admits only smash-v1 and v2), and a median over such
groups compares different designs; ``like_with_like`` keeps the settings present for every
value, or says how the groups differ when none is.  A parameter whose values all give the
same median is not drawn; one line under the title says so.
"""

from __future__ import annotations

import textwrap

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from accel.report.figures import category_text, is_categorical, nm_key, tick_text, varied_params  # noqa: E402
from accel.report.units import fmt_num, plural  # noqa: E402

MAX_NOTE = 240   # characters of a panel's "groups differ" note; longer is summarised


def like_with_like(df: pd.DataFrame, p: str, varied: list[str]) -> tuple[pd.DataFrame, str]:
    """The designs on which the values of ``p`` compare like with like: those whose setting
    of the other varied parameters occurs for *every* value of ``p`` (a constraint can let
    some settings in for one value only: PIUMA's 1024-entry hash table admits only smash-v1
    and v2).  Returns (rows, note); the note says what was left out, or, when no setting is
    common to all values, which groups differ and how."""
    others = [q for q in varied if q != p]
    if not others:
        return df, ""
    col = df[f"param.{p}"].map(category_text)
    key = df[[f"param.{q}" for q in others]].map(category_text).apply(tuple, axis=1)
    sets = {v: set(key[col == v]) for v in col.unique()}
    common = set.intersection(*sets.values())
    if common == set(key):
        return df, ""
    if common:
        keep = key.isin(common)
        return df[keep], (f"like with like: only the {plural(len(common), 'setting')} of "
                          f"{' x '.join(others)} present for every value of {p}")
    # nothing in common: say which values' groups hold what
    diffs, names = [], []
    for q in others:
        qv = df[f"param.{q}"].map(category_text)
        per = {v: sorted(set(qv[col == v])) for v in sets}
        if len({tuple(x) for x in per.values()}) > 1:
            names.append(q)
            diffs.append("; ".join(f"{p}={v}: {q} in {{{', '.join(x)}}}" for v, x in sorted(per.items())))
    text = "groups differ: " + " | ".join(diffs)
    # too long to read, or nothing to list: every other parameter takes the same values
    # for each value of p, only never in the same combinations (a search's sample)
    if len(text) > MAX_NOTE or not diffs:
        text = (f"groups differ in {', '.join(names) or 'their mix of designs'}: "
                f"each value of {p} is a median over different designs")
    return df, text


def sensitivity_figure(df: pd.DataFrame, metric: str, goal: str, params: list[str], title: str):
    """For each varied parameter: median of ``metric`` per value, relative to the overall
    median, over the designs that compare like with like (``like_with_like``).  Numbers are
    an axis with a line; booleans and categories are markers only.  A parameter whose
    values all give the same median is not drawn; one line under the title says so."""
    mcol = f"metric.{metric}"
    varied = varied_params(df, params)
    if mcol not in df.columns or not varied:
        return None
    overall = float(df[mcol].median())
    panels, flat = [], []
    for p in varied:
        sub, note = like_with_like(df, p, varied)
        col = sub[f"param.{p}"]
        cat = is_categorical(col)
        g = sub.groupby(col.map(category_text) if cat else col)[mcol].median()
        keys = sorted(g.index, key=nm_key) if cat else sorted(g.index, key=float)
        ys = [float(g[k]) / overall if overall else np.nan for k in keys]
        if len(keys) > 1 and np.allclose(ys, ys[0], rtol=1e-9, atol=0.0):
            flat.append(f"{p} ({fmt_num(ys[0], 3)}× for every value)")
            continue
        panels.append((p, keys, ys, cat, note, len(sub)))
    if not panels:
        return None
    n = len(panels)
    ncol = min(3, n)
    nrow = -(-n // ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.6 * ncol, 3.6 * nrow), squeeze=False)
    data = {}
    for ax, (p, keys, ys, cat, note, n_rows) in zip(axes.flat, panels, strict=False):
        if cat:
            xs = list(range(len(keys)))
            ax.plot(xs, ys, "o", ms=8, ls="none", color="tab:blue")
            long = max(len(k) for k in keys) * len(keys) > 30  # would collide side by side
            ax.set_xticks(xs, keys, rotation=90 if long else 0, ha="center", fontsize=8)
            ax.set_xlim(-0.6, len(keys) - 0.4)
            kind = "category"
        else:
            xs = [float(k) for k in keys]
            ax.plot(xs, ys, "o-", color="tab:blue")
            if min(xs) > 0 and max(xs) / min(xs) >= 8:
                ax.set_xscale("log", base=2)
            ax.set_xticks(xs, [tick_text(x) for x in xs], fontsize=8)
            ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
            kind = "number"
        ax.axhline(1.0, color="0.6", ls="--", lw=1)
        ax.set_xlabel(p)
        ax.set_ylabel(f"median {metric} / all [×]", fontsize=8)
        if note:
            ax.set_title("\n".join(textwrap.wrap(note, 48)), fontsize=7)
        ax.grid(alpha=0.3)
        data[p] = {"values": [str(k) for k in keys], "relative": ys, "kind": kind,
                   "note": note, "designs": n_rows}
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    head = (f"{title}: median {metric} per value relative to the median of all designs "
            f"(dashed = 1×, {'lower' if goal == 'min' else 'higher'} is better)")
    if flat:
        head += "\nnot drawn, every value gives the same median: " + "; ".join(flat)
        data["not_drawn"] = flat
    fig.suptitle("\n".join(textwrap.fill(line, 110) for line in head.split("\n")), fontsize=10)
    fig.tight_layout()
    return fig, data
