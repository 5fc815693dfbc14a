"""What a sweep says, in sentences: the opening section of each spec in summary.md.

Every sentence is a claim computed from the designs by a rule that could come out false,
and a sentence the data makes vacuous is left out (a range with one value, a "win" on a
tie, a best/median pair that are one number):

* the best design for each objective, with the parameters that make it: among the designs
  tied on that objective, the one best on the spec's other objectives in turn (so it is
  Pareto-optimal over all of them), saying how many designs tie; an objective every
  design ties on is said once, as deciding nothing;
* speedups over dense (median and best per N:M pattern) when the sweep varies a
  pattern, else the model's own ``speedup_vs_dense`` when it records one;
* the best of each category (device, algorithm) against the overall best;
* what the Pareto front trades against what, from its ends;
* failures grouped by reason with counts, and objectives some designs lack, with the
  parameter values those designs share (the likely reason).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from accel.report import figures as F
from accel.report.units import SectionUnits, fmt_num, plural

RTOL = 1e-9  # two metric values closer than this (relative) are a tie


def design_text(row: pd.Series, params: list[str]) -> str:
    return ", ".join(f"{p}={F.category_text(row[f'param.{p}'])}" for p in params) or "the only design"


def ties(values: pd.Series, target: float) -> pd.Series:
    """Which of ``values`` equal ``target`` (to ``RTOL``)."""
    return pd.Series(np.isclose(values.to_numpy(float), target, rtol=RTOL, atol=0.0), index=values.index)


def constant(values) -> bool:
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    return len(v) > 0 and bool(np.isclose(v.min(), v.max(), rtol=RTOL, atol=0.0))


def best_design(designs: pd.DataFrame, objectives, first: tuple[str, str]) -> tuple[object, int]:
    """(index, designs tied on ``first``): the design best on ``first``, ties broken by
    the other objectives in the spec's order, so among the tied designs it is one that no
    other design dominates over all objectives."""
    order = [first] + [o for o in objectives if o[0] != first[0]]
    cand = designs.dropna(subset=[f"metric.{first[0]}"])
    n_tied = 0
    for m, g in order:
        v = cand[f"metric.{m}"].dropna() if f"metric.{m}" in cand.columns else cand.iloc[:0, :0]
        if v.empty:
            continue
        keep = ties(v, v.min() if g == "min" else v.max())
        cand = cand.loc[keep[keep].index]
        if m == first[0]:
            n_tied = len(cand)
    return cand.index[0], n_tied


def best_per_objective(designs: pd.DataFrame, objectives, varied, units: SectionUnits | None = None,
                       numbers: dict | None = None, notes: dict | None = None) -> list[str]:
    units = units or SectionUnits(designs)
    numbers, notes = numbers or {}, notes or {}
    out = []
    for m, g in objectives:
        col = f"metric.{m}"
        if col not in designs.columns or designs[col].dropna().empty:
            continue
        v = designs[col].dropna()
        note = f" {notes[m]}" if m in notes else ""
        idx, n_tied = best_design(designs, objectives, (m, g))
        if n_tied == len(v) and len(v) > 1:
            out.append(f"Every design has the same {m}, **{units.text(m, v[idx])}**: it decides "
                       f"nothing in this sweep.{note}")
            continue
        num = f" (#{numbers[idx]} on the Pareto front)" if idx in numbers else ""
        how = "lowest" if g == "min" else "highest"
        if n_tied == 1:
            out.append(f"Best {m} ({how}): **{units.text(m, v[idx])}** with "
                       f"{design_text(designs.loc[idx], varied)}{num}.{note}")
            continue
        others = [o for o, _ in objectives if o != m]
        out.append(f"Best {m} ({how}): **{units.text(m, v[idx])}**, shared by {n_tied:,} designs; the "
                   + (f"best of them on {', then '.join(others)} is " if others else "first is ")
                   + f"{design_text(designs.loc[idx], varied)}{num}.{note}")
    return out


def speedups(designs: pd.DataFrame, params, pattern: str | None, time_metric: str, goal: str) -> list[str]:
    def stats(s: pd.Series) -> str:
        lo, med, hi = (fmt_num(x, 3) for x in (s.min(), s.median(), s.max()))
        if len(s) == 1:
            return f"**{hi}×**, from the one design run both ways"
        if lo == hi:  # one number as printed: a median/best pair would say it twice
            return f"**{hi}×** for every one of {plural(len(s), 'design')}"
        if med == hi:
            return f"median and best **{hi}×**, lowest {lo}×, over {plural(len(s), 'design')}"
        return (f"median **{fmt_num(s.median(), 3)}×**, best **{fmt_num(s.max(), 3)}×** "
                f"over {plural(len(s), 'design')}")

    out = []
    if pattern:
        res = F.speedup_frame(designs, pattern, time_metric, params, goal)
        if res is not None:
            d, how = res
            for pat in sorted(d[f"param.{pattern}"].astype(str).unique(), key=F.nm_key):
                if pat == "dense":
                    continue
                s = d[d[f"param.{pattern}"].astype(str) == pat]["speedup"]
                out.append(f"Speedup of {pattern}={pat} over the same design dense: {stats(s)} ({how}).")
            return out
    if "metric.speedup_vs_dense" in designs.columns:
        s = designs["metric.speedup_vs_dense"].dropna()
        if len(s):
            out.append(f"Speedup over dense on the same engine (the model's speedup_vs_dense): {stats(s)}.")
    return out


def categories(designs: pd.DataFrame, params, objective: tuple[str, str],
               units: SectionUnits | None = None) -> list[str]:
    """Best design of each value of a category parameter, against the overall best."""
    units = units or SectionUnits(designs)
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
        if constant(best):
            continue  # every category reaches the same best: nothing to rank
        for name, v in best.iloc[1:].items():
            ratio = (v / top) if g == "min" else (top / v)
            parts.append(f"{name} {units.text(m, v)} ("
                         + ("tied" if constant([v, top]) else
                            f"{fmt_num(ratio, 3)}× {'slower' if g == 'min' else 'lower'}") + ")")
        out.append(f"Best {m} per {p}: **{top_name} {units.text(m, top)}**; " + "; ".join(parts) + ".")
    return out


def front_trade(front: pd.DataFrame, objectives, numbers: dict,
                units: SectionUnits | None = None) -> list[str]:
    units = units or SectionUnits(front)
    if len(front) < 2 or len(objectives) < 2:
        if len(front) == 1:
            return ["The Pareto front is a single design: it is best on every objective at once, "
                    "so there is nothing to trade in this sweep."]
        return []
    text = []
    (m1, g1), (m2, g2) = objectives[0], objectives[1]
    c1, c2 = f"metric.{m1}", f"metric.{m2}"
    a = front.loc[best_design(front, objectives, (m1, g1))[0]]
    b = front.loc[best_design(front, objectives, (m2, g2))[0]]
    r1 = max(a[c1], b[c1]) / max(min(a[c1], b[c1]), 1e-300)
    r2 = max(a[c2], b[c2]) / max(min(a[c2], b[c2]), 1e-300)

    def how(g):
        return "lower" if g == "min" else "higher"

    if not constant([a[c1], b[c1]]) and not constant([a[c2], b[c2]]):
        text.append(f"The Pareto front ({plural(len(front), 'design')}) trades {m1} against {m2}: "
                    f"design #{numbers[a.name]} is best on {m1} ({units.text(m1, a[c1])}, "
                    f"{fmt_num(r1, 3)}× {how(g1)} than #{numbers[b.name]}), design #{numbers[b.name]} "
                    f"is best on {m2} ({units.text(m2, b[c2])}, {fmt_num(r2, 3)}× {how(g2)} than "
                    f"#{numbers[a.name]}).")
    elif a.name == b.name:
        rest = [m for m, _ in objectives[2:] if not constant(front[f"metric.{m}"])]
        text.append(f"Design #{numbers[a.name]} is best on both {m1} and {m2}; the other "
                    f"{plural(len(front) - 1, 'design')} of the Pareto front are there for "
                    f"{' and '.join(rest) or 'ties'}.")
    for m, _g in objectives[2:]:
        c = f"metric.{m}"
        if units.text(m, front[c].min()) == units.text(m, front[c].max()):
            continue  # one value across the front (as printed): no range to speak of
        text.append(f"Across the front {m} ranges from {units.text(m, front[c].min())} to "
                    f"{units.text(m, front[c].max())}; the projection in the figure hides it, "
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
        return []  # the headline already says "none failed"
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

