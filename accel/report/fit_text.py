"""The fit check in a report (``fit:`` of a spec, ``accel.sweep.fit``): which designs do
not fit the device, the sentence that says how many and on which resource, the line that
states the check, and the legend entry of the hollow grey markers in the figures.

A design is infeasible when its stored ``feasible`` metric is 0 and the spec (as stored in
the store's meta) has a fit; a store written before fit existed, or a spec without
``fit:``, has no infeasible designs and the report says the fit was not checked.
"""

from __future__ import annotations

import re
from collections import Counter

import pandas as pd

from accel.report.units import plural
from accel.sweep import fit as fitting

FEASIBLE = "metric.feasible"
MODEL_FAIL = f"metric.{fitting.MODEL_FAIL}"


def _unrun(designs: pd.DataFrame) -> pd.Series:
    """Which designs their model could not run (a ``fit_model_fail`` margin is stored)."""
    if MODEL_FAIL not in designs.columns:
        return pd.Series(False, index=designs.index)
    return designs[MODEL_FAIL].fillna("").astype(str) != ""


def split(designs: pd.DataFrame, meta: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(designs that fit, designs that do not) of ``designs`` under the spec's fit.  A design
    its model could not run (``metric.fit_model_fail``, accel.sweep.fit) has no performance
    to show, so it never joins the first, even under a spec that dropped its ``fit:``."""
    if not meta.get("fit") or FEASIBLE not in designs.columns:
        designs = designs[~_unrun(designs)]
        return designs, designs.iloc[:0]
    # the mean over a design's rows (workloads): below 1 if any row does not fit; a row
    # without the metric (stored before fit existed) has nothing held against it
    bad = designs[FEASIBLE].fillna(1.0) < 1
    return designs[~bad], designs[bad]


def _device_text(designs: pd.DataFrame, meta: dict) -> str:
    fit = meta.get("fit") or {}
    if fit.get("device"):
        return str(fit["device"])
    col = "metric.fit_device"
    names = sorted(designs[col].dropna().astype(str).unique()) if col in designs.columns else []
    return " / ".join(names) if names else "its device"


def _resources(infeasible: pd.DataFrame) -> Counter:
    """How many infeasible designs exceed each resource (from ``fit_fail``)."""
    count: Counter = Counter()
    col = "metric.fit_fail"
    if col not in infeasible.columns:
        return count
    for text in infeasible[col].dropna().astype(str):
        for res in re.findall(r"([A-Z0-9]+) [0-9.]+ % >", text):
            count[res] += 1
    return count


def summary(evaluated: pd.DataFrame, infeasible: pd.DataFrame, meta: dict) -> str:
    """One sentence: how many designs do not fit, on which resources; and the designs whose
    device the catalogue has no counts for (not checked).  '' when the spec has no fit."""
    fit = meta.get("fit")
    if not fit or evaluated.empty:
        return ""
    col = "metric.fit_unchecked"
    unchecked = (evaluated[col].fillna("").astype(str) if col in evaluated.columns
                 else pd.Series("", index=evaluated.index))
    checked = evaluated[unchecked == ""]
    out = []
    if len(infeasible):
        over = _resources(infeasible)
        ceil = fit.get("max_utilisation", {})
        parts = [f"{res} over {100 * ceil.get(res, 1):.0f} %: {n}" for res, n in over.most_common()]
        unrun = int(_unrun(infeasible).sum())
        if unrun == len(infeasible):
            kept = ("they are stored without performance figures (their model cannot run a "
                    "design the board cannot hold)")
        else:
            kept = "they are stored and drawn as hollow grey markers" + (
                f" ({unrun:,} without performance figures: their model cannot run a design "
                "the board cannot hold)" if unrun else "")
        out.append(f"**{len(infeasible):,} of {plural(len(evaluated), 'design')} do not fit "
                   f"{_device_text(infeasible, meta)}** ({'; '.join(parts)}); {kept}, and left "
                   "out of every front, table and conclusion.")
    elif len(checked):
        every = "Every one of the" if len(checked) == len(evaluated) else "The"
        out.append(f"{every} {plural(len(checked), 'design')} on {_device_text(checked, meta)} "
                   "fit it within the spec's utilisation ceilings.")
    n = int((unchecked != "").sum())
    if n:
        what = sorted({r.strip() for text in unchecked for r in text.split(",") if r.strip()})
        dev = _device_text(evaluated[unchecked != ""], meta)
        out.append(f"For {plural(n, 'design')} on {dev} the catalogue has no count of "
                   f"{', '.join(what)}: their fit was not checked.")
    return " ".join(out)


def spec_text(meta: dict) -> str:
    """The sweep section's line: the device and the ceilings, or that nothing was checked."""
    fit = meta.get("fit")
    if not fit:
        return "not checked (the spec has no `fit:`)"
    ceil = ", ".join(f"{r} {100 * v:.0f} %" for r, v in (fit.get("max_utilisation") or {}).items())
    dev = fit.get("device") or "each design's own `device`"
    return f"device {dev}, utilisation at most {ceil}"


def ceilings(meta: dict, designs: pd.DataFrame, metrics: list[str]) -> dict[str, tuple[float, str]]:
    """metric -> (value, label) of the device ceiling on that metric's axis, for each of
    ``metrics`` that is the only metric counting its resource (``hw_lut`` in a SAT sweep:
    the ceiling is then a line on its axis); needs a spec fit with a fixed device."""
    from accel import devices

    fit = meta.get("fit") or {}
    if not fit.get("device"):
        return {}
    dev = devices.get(fit["device"])
    names = [c[len("metric."):] for c in designs.columns if c.startswith("metric.hw_")]
    by_res: dict[str, list[str]] = {}
    for n in names:
        for res in fitting.usage({n: 1.0}):
            by_res.setdefault(res, []).append(n)
    out = {}
    for m in metrics:
        res = next(iter(fitting.usage({m: 1.0})), None) if m.startswith("hw_") else None
        if res is None or by_res.get(res) != [m] or res not in dev.resources:
            continue
        ceil = float(fit.get("max_utilisation", {}).get(res, 1.0))
        out[m] = (ceil * dev.resources[res],
                  f"{res} ceiling: {100 * ceil:.0f} % of {dev.name}'s {dev.resources[res]:,}")
    return out


def legend(infeasible: pd.DataFrame, meta: dict) -> str:
    return f"does not fit {_device_text(infeasible, meta)} ({len(infeasible)})"
