"""How a searched front was found: the search's settings and its convergence figure
(Pareto hypervolume of the designs evaluated so far, against evaluations).

A spec with ``search:`` (``accel.sweep.search``) records its strategy, library, budget,
seed and population in the store; each row's ``point`` is its evaluation order.  The
hypervolume is computed over the spec's objectives normalised to the observed range
(0 = best value seen, 1 = worst), with reference point 1.1 in every objective, so 1.331
(three objectives) would be one design best in all of them at once.  The figure and
the sentence are drawn from the rows; nothing is said when the spec is a grid.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from accel.sweep.pareto import hypervolume

REF = 1.1          # reference point, in normalised units, in every objective
CHECKPOINTS = 40   # hypervolume evaluated at this many evaluation counts at most


def hypervolume_curve(rows: pd.DataFrame, objectives: list[tuple[str, str]]
                      ) -> tuple[np.ndarray, np.ndarray]:
    """(evaluations, hypervolume of the front of the first ``evaluations`` rows).  A row
    that does not fit the spec's device (``metric.feasible`` 0) counts as an evaluation,
    like a failed one, but never joins the front."""
    rows = rows.sort_values("point")
    usable = (rows["status"] == "ok").to_numpy()
    if "metric.feasible" in rows.columns:
        usable = usable & (rows["metric.feasible"].fillna(1.0).to_numpy(float) != 0)
    ok = rows[usable]
    cols = [f"metric.{m}" for m, _ in objectives]
    if ok.empty or any(c not in ok.columns for c in cols):
        return np.zeros(0), np.zeros(0)
    costs = ok[cols].to_numpy(dtype=np.float64) * np.array(
        [1.0 if g == "min" else -1.0 for _, g in objectives])
    lo, hi = np.nanmin(costs, axis=0), np.nanmax(costs, axis=0)
    norm = (costs - lo) / np.where(hi > lo, hi - lo, 1.0)
    evals_at_ok = np.cumsum(np.ones(len(usable)))[usable]   # failed, infeasible rows count too
    ks = np.unique(np.linspace(1, len(norm), min(CHECKPOINTS, len(norm))).round().astype(int))
    hv = np.array([hypervolume(norm[:k], np.full(len(cols), REF)) for k in ks])
    return evals_at_ok[ks - 1], hv


def convergence_figure(rows: pd.DataFrame, objectives: list[tuple[str, str]], title: str):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x, hv = hypervolume_curve(rows, objectives)
    if len(x) < 2:
        return None
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    ax.plot(x, hv, marker="o", markersize=3)
    ax.set_xlabel("evaluations [design points]")
    ax.set_ylabel("hypervolume [normalised]")
    ax.set_title(title, fontsize=10)
    ax.set_ylim(0, max(hv) * 1.08)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig, {"evaluations": x.tolist(), "hypervolume": hv.tolist(), "reference": REF}


def add_search(meta: dict, rows: pd.DataFrame, objectives: list[tuple[str, str]], name: str,
               md: list[str], jobs: list) -> None:
    """The report's hook: for a searched spec, say how the front was found (into ``md``)
    and queue the convergence figure (into ``jobs``)."""
    s = meta.get("search")
    if not s:
        return
    n = len(rows)
    line = (f"- the front was found by a {s.get('strategy', '?').upper()} search "
            f"({s.get('library', 'optuna NSGAIISampler')}, population {s.get('population')}, "
            f"seed {s.get('seed')}): {n:,} design points evaluated of a budget of "
            f"{s.get('budget'):,}")
    if s.get("space"):
        line += f", in a space of {s['space']:,} points ({100 * n / s['space']:.3g} % of it)"
    x, hv = hypervolume_curve(rows, objectives)
    if len(hv) >= 2 and hv[-1] > 0:
        half = int(x[np.argmax(hv >= 0.95 * hv[-1])])
        line += (f"; the front's hypervolume reached 95 % of its final value after "
                 f"{half:,} evaluations")
    md += ["### Search", "", line + ".", ""]
    if len(objectives) >= 1:
        jobs.append(("convergence", lambda: convergence_figure(
            rows, objectives, f"{name}: hypervolume of the front against evaluations")))
