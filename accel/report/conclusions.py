"""What a sweep says, in sentences: the opening section of each spec in summary.md.

* the best design for each objective, with the parameters that make it;
* speedups over dense (median and best per N:M pattern) when the sweep varies a
  pattern, else the model's own ``speedup_vs_dense`` when it records one;
* the best of each category (device, algorithm) against the overall best;
* what the Pareto front trades against what, from its two ends;
* failures grouped by reason with counts, and objectives some designs lack, with the
  parameter values those designs share (the likely reason).
"""

from __future__ import annotations

import re

import pandas as pd

from accel.report import figures as F
from accel.report.units import fmt_num, fmt_with_unit, plural


def design_text(row: pd.Series, params: list[str]) -> str:
    return ", ".join(f"{p}={F.category_text(row[f'param.{p}'])}" for p in params) or "the only design"


def best_per_objective(designs: pd.DataFrame, objectives, varied) -> list[str]:
    out = []
    for m, g in objectives:
        col = f"metric.{m}"
        v = designs[col].dropna()
        if v.empty:
            continue
        idx = v.idxmin() if g == "min" else v.idxmax()
        out.append(f"Best {m} ({'lowest' if g == 'min' else 'highest'}): **{fmt_with_unit(m, v[idx])}** "
                   f"with {design_text(designs.loc[idx], varied)}.")
    return out


def speedups(designs: pd.DataFrame, params, pattern: str | None, time_metric: str, goal: str) -> list[str]:
    out = []
    if pattern:
        res = F.speedup_frame(designs, pattern, time_metric, params, goal)
        if res is not None:
            d, how = res
            for pat in sorted(d[f"param.{pattern}"].astype(str).unique(), key=F.nm_key):
                if pat == "dense":
                    continue
                s = d[d[f"param.{pattern}"].astype(str) == pat]
                out.append(f"Speedup of {pattern}={pat} over the same design dense: median "
                           f"**{fmt_num(s['speedup'].median(), 3)}×**, best **{fmt_num(s['speedup'].max(), 3)}×** "
                           f"over {plural(len(s), 'design')} ({how}).")
            return out
    if "metric.speedup_vs_dense" in designs.columns:
        s = designs["metric.speedup_vs_dense"].dropna()
        if len(s):
            out.append(f"Speedup over dense on the same engine (the model's speedup_vs_dense): median "
                       f"**{fmt_num(s.median(), 3)}×**, best **{fmt_num(s.max(), 3)}×** over {plural(len(s), 'design')}.")
    return out


def categories(designs: pd.DataFrame, params, objective: tuple[str, str]) -> list[str]:
    """Best design of each value of a category parameter, against the overall best."""
    m, g = objective
    col = f"metric.{m}"
    out = []
    for p in F.varied_params(designs, params):
        c = f"param.{p}"
        if p not in F.CATEGORY_PARAMS or not F.is_categorical(designs[c]):
            continue
        best = designs.groupby(designs[c].map(F.category_text))[col].agg("min" if g == "min" else "max")
        best = best.sort_values(ascending=g == "min")
        top_name, top = best.index[0], float(best.iloc[0])
        parts = []
        for name, v in best.iloc[1:].items():
            ratio = (v / top) if g == "min" else (top / v)
            parts.append(f"{name} {fmt_with_unit(m, v)} ({fmt_num(ratio, 3)}× {'slower' if g == 'min' else 'lower'})")
        out.append(f"Best {m} per {p}: **{top_name} {fmt_with_unit(m, top)}**; " + "; ".join(parts) + ".")
    return out


def front_trade(front: pd.DataFrame, objectives, numbers: dict) -> list[str]:
    if len(front) < 2 or len(objectives) < 2:
        if len(front) == 1:
            return ["The Pareto front is a single design: it is best on every objective at once, "
                    "so there is nothing to trade in this sweep."]
        return []
    text = []
    (m1, g1), (m2, g2) = objectives[0], objectives[1]
    c1, c2 = f"metric.{m1}", f"metric.{m2}"
    a = front.loc[front[c1].idxmin() if g1 == "min" else front[c1].idxmax()]
    b = front.loc[front[c2].idxmin() if g2 == "min" else front[c2].idxmax()]
    r1 = max(a[c1], b[c1]) / max(min(a[c1], b[c1]), 1e-300)
    r2 = max(a[c2], b[c2]) / max(min(a[c2], b[c2]), 1e-300)
    def how(g):
        return "lower" if g == "min" else "higher"

    text.append(f"The Pareto front ({plural(len(front), 'design')}) trades {m1} against {m2}: "
                f"design #{numbers[a.name]} is best on {m1} ({fmt_with_unit(m1, a[c1])}, "
                f"{fmt_num(r1, 3)}× {how(g1)} than #{numbers[b.name]}), design #{numbers[b.name]} "
                f"is best on {m2} ({fmt_with_unit(m2, b[c2])}, {fmt_num(r2, 3)}× {how(g2)} than "
                f"#{numbers[a.name]}).")
    for m, _g in objectives[2:]:
        c = f"metric.{m}"
        text.append(f"Across the front {m} ranges from {fmt_with_unit(m, front[c].min())} to "
                    f"{fmt_with_unit(m, front[c].max())}; the projection in the figure hides it, "
                    f"the parallel-coordinates panel shows it.")
    return text


def _reason(err: str) -> str:
    """Group messages that differ only in numbers and quoted names."""
    err = re.sub(r"\(at [^)]*\)", "", str(err)).strip()
    return err


def failure_summary(rows: pd.DataFrame) -> str:
    """One sentence for the report's overview."""
    failed = rows[rows["status"] == "failed"]
    if failed.empty:
        return ""
    groups = failed.groupby(failed["error"].map(_reason)).size().sort_values(ascending=False)
    return ("Failed: " + "; ".join(f"{n:,} × `{r}`" for r, n in groups.items()) + ".")


def failures(rows: pd.DataFrame, params) -> list[str]:
    failed = rows[rows["status"] == "failed"]
    if failed.empty:
        return ["No design point failed."]
    out = [f"{plural(len(failed), 'design point')} failed, by reason:"]
    varied = [p for p in params if f"param.{p}" in rows.columns and rows[f"param.{p}"].nunique() > 1]
    for reason, g in failed.groupby(failed["error"].map(_reason)):
        shared = [f"{p}={F.category_text(g[f'param.{p}'].iloc[0])}" for p in varied
                  if g[f"param.{p}"].nunique() == 1]
        out.append(f"- {plural(len(g), 'point')}: `{reason}`"
                   + (f" (all have {', '.join(shared)})" if shared else ""))
    return out


def missing_metrics(designs: pd.DataFrame, objectives, params) -> list[str]:
    out = []
    varied = F.varied_params(designs, params)
    for m, _g in objectives:
        col = f"metric.{m}"
        if col not in designs.columns:
            out.append(f"Objective {m} was not produced by the model for any design.")
            continue
        miss = designs[col].isna()
        if not miss.any():
            continue
        why = []
        covered = pd.Series(False, index=designs.index)
        for p in varied:
            c = f"param.{p}"
            text = designs[c].map(F.category_text)
            only_missing = sorted(set(text[miss]) - set(text[~miss]))
            if only_missing:
                why.append(f"{p} in {{{', '.join(only_missing)}}}")
                covered |= text.isin(only_missing)
        exact = bool(why) and bool((covered == miss).all())
        reason = (f"(exactly the designs with {' or '.join(why)}: the model that gives {m} "
                  f"does not cover them)" if exact else
                  f"(among them every design with {' or '.join(why)})" if why else
                  "(the model that gives it returned none)")
        out.append(f"{plural(int(miss.sum()), 'design')} of {len(designs):,} have no {m} {reason}"
                   "; they are left out of the Pareto front and its figure.")
    return out


def headline(designs: pd.DataFrame, rows: pd.DataFrame) -> str:
    n_failed = int((rows["status"] == "failed").sum())
    return (f"{plural(len(designs), 'design')} evaluated"
            + (f", {plural(n_failed, 'point')} failed" if n_failed else ", none failed") + ".")

