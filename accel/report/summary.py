"""`accel report`: sweep stores -> figures (PNG + SVG), summary.md, self-contained index.html.

Rows of a store are (design point, workload); a design's metrics are the mean over the
spec's workloads (one workload in the built-in specs, so the mean is the value).
Failed points are counted and listed, never plotted.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from accel.atomic_write import atomic_write
from accel.errors import AccelError
from accel.report import conclusions as C
from accel.report import convergence as CV
from accel.report import figures as F
from accel.report import fit_text as FT
from accel.report import machine_views as MV
from accel.report import sensitivity as S
from accel.report.html_page import markdown_to_html
from accel.report.layout import layout_problems
from accel.report.units import SectionUnits, plural
from accel.sweep.pareto import pareto_mask
from accel.sweep.store import Store, load_frame

TOP_N = 10
FIGURE_TITLES = {"pareto": "Pareto front", "speedup-nm": "speedup over dense per N:M pattern",
                 "sensitivity": "per-parameter sensitivity", "phases": "per-phase cycles",
                 "roofline": "roofline and HBM utilisation",
                 "threads-traffic": "per-thread load and DRAM traffic"}


def design_frame(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per design point: params plus the mean of each metric over workloads (a
    text metric, such as the fit's ``fit_fail``, is taken from the first workload)."""
    ok = rows[rows["status"] == "ok"]
    if ok.empty:
        return ok
    pcols = [c for c in ok.columns if c.startswith("param.")]
    mcols = [c for c in ok.columns if c.startswith("metric.")]
    agg = ok.groupby("point")[mcols].mean(numeric_only=True)
    text = [c for c in mcols if c not in agg.columns]
    first = ok.groupby("point")[pcols + text].first()
    return first.join(agg).reset_index()


def _table_md(df: pd.DataFrame) -> str:
    cols = list(df.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, r in df.iterrows():
        lines.append("| " + " | ".join(str(v) for v in r) + " |")
    return "\n".join(lines)


def front_table(front: pd.DataFrame, numbers: dict, varied: list[str], mcols: list[str],
                units: SectionUnits | None = None) -> str:
    """The Pareto front as a table: number (as in the figure), varied parameters, objectives
    with units in the header (the section's units: the same as the figures and sentences)
    and thousands separators in the cells."""
    units = units or SectionUnits(front)
    out = pd.DataFrame({"#": [numbers[i] for i in front.index]}, index=front.index)
    for p in varied:
        out[p] = front[f"param.{p}"].map(F.category_text)
    for c in mcols:
        m = c.split(".", 1)[1]
        out[units.label(m)] = [units.value(m, v) for v in front[c]]
    # a design on a device the catalogue has no counts for is on the front unverified: the
    # table says so row by row (the conclusions say why), so no reader takes it as fitting
    unchecked = front.get("metric.fit_unchecked")
    if unchecked is not None:
        unchecked = unchecked.fillna("").astype(str)
        if (unchecked != "").any():
            out["fit"] = ["not checked" if u else "fits" for u in unchecked]
    return _table_md(out.sort_values("#"))


class Front(NamedTuple):
    """A spec's Pareto front as the report draws and numbers it."""

    present: list        # (metric, goal) of the objectives the designs report
    mcols: list          # their columns, "metric.<name>"
    complete: pd.DataFrame   # designs with every one of them
    mask: np.ndarray     # over ``complete``: on the front
    front: pd.DataFrame  # the front, in table order (first objective, best first)
    numbers: dict        # index of a front row -> its number in the table and figure


def numbered_front(designs: pd.DataFrame, objectives: list[tuple[str, str]]) -> Front:
    """The report's front and numbering (``accel design build --design N`` reuses it; not
    ``accel.sweep.pareto.pareto_front``, which returns the rows only):
    with fewer than two objectives there is no front."""
    present = [(m, g) for m, g in objectives if f"metric.{m}" in designs.columns]
    mcols = [f"metric.{m}" for m, _ in present]
    complete = designs.dropna(subset=mcols) if mcols else designs
    front_mask = (pareto_mask(complete[mcols].to_numpy(float), [g for _, g in present])
                  if len(present) >= 2 else np.zeros(len(complete), bool))
    front = complete[front_mask].sort_values(mcols[0], ascending=present[0][1] == "min") \
        if len(present) >= 2 else complete.iloc[:0]
    numbers = {idx: i + 1 for i, idx in enumerate(front.index)}
    return Front(present, mcols, complete, front_mask, front, numbers)


def best_table(designs: pd.DataFrame, primary: tuple[str, str]) -> tuple[pd.DataFrame, dict]:
    """The "Best N designs by <metric>" table of a spec with fewer than two objectives,
    and its numbering."""
    pcol = f"metric.{primary[0]}"
    top = designs.sort_values(pcol, ascending=primary[1] == "min").head(TOP_N) \
        if pcol in designs.columns else designs.head(TOP_N)
    return top, {idx: i + 1 for i, idx in enumerate(top.index)}


def _spec_section(name: str, meta: dict, rows: pd.DataFrame, out: Path, figs: dict,
                  overview: list[str]) -> tuple[str, list[Path]]:
    """One spec's section (conclusions, sweep, figures, tables); appends its headline
    conclusions to ``overview`` for the top of the report."""
    params = list(meta.get("parameters", {}))
    objectives = [(o["metric"], o["goal"]) for o in meta.get("objectives", [])]
    evaluated = design_frame(rows)
    # designs that do not fit the spec's device (fit:) are counted and drawn, never
    # recommended: everything below the split sees the feasible ones only
    designs, infeasible = FT.split(evaluated, meta)
    varied = F.varied_params(evaluated, params) if not evaluated.empty else []
    fixed = {p: v[0] for p, v in meta.get("parameters", {}).items() if len(v) == 1}
    md = [f"## {name} ({meta.get('machine')})", ""]
    written: list[Path] = []
    if designs.empty:
        what = ("No design point succeeded." if evaluated.empty else
                f"No design fits: {FT.summary(evaluated, infeasible, meta)}")
        md += ["### Conclusions", "", what, ""]
        md += C.failures(rows, params) + [""]
        overview.append(f"**{name}**: {what[0].lower()}{what[1:]}")
        return "\n".join(md) + "\n", written
    present, mcols, complete, front_mask, front, numbers = numbered_front(designs, objectives)
    primary = present[0] if present else ("cycles", "min")
    units = SectionUnits(designs, MV.unit_lookup(meta.get("machine", "")))
    notes = MV.metric_notes(meta.get("machine", ""))
    pattern = next((p for p in params if f"param.{p}" in designs.columns
                    and F.is_pattern_param(designs[f"param.{p}"].unique())), None)
    tm = MV.time_metric(designs, primary[0])
    tgoal = "min" if tm != primary[0] else primary[1]

    # --- conclusions first ------------------------------------------------------------
    fit_line = FT.summary(evaluated, infeasible, meta)
    md += ["### Conclusions", "", C.headline(evaluated, rows), ""]
    best = C.best_per_objective(designs, present, varied, units, numbers, notes)
    speed = C.speedups(designs, params, pattern, tm, tgoal)
    cats = C.categories(designs, params, (tm, tgoal), units)
    trade = C.front_trade(front, present, numbers, units)
    missing = C.missing_metrics(designs, objectives, params)
    bullets = ([fit_line] if fit_line else []) + best + speed + cats + trade + missing
    md += [f"- {b}" for b in bullets] + [""]
    fails = C.failures(rows, params)
    md += fails + ([""] if fails else [])
    overview.append(f"**{name}** ({meta.get('machine')}): {C.headline(evaluated, rows)} "
                    + " ".join(([fit_line] if fit_line else []) + best[:1] + speed[-1:]
                               + cats[:1] + trade[:1] + missing)
                    + (" " + C.failure_summary(rows) if len(fails) > 1 else ""))

    # --- what was swept ---------------------------------------------------------------
    md += ["### Sweep", "",
           f"- spec: `{meta.get('source', '')}`, base `{meta.get('base')}`, workloads: "
           f"{', '.join(meta.get('workloads', []))}; model version "
           f"{', '.join(sorted(rows['model_version'].astype(str).unique()))}",
           f"- {plural(len(rows), 'row')}: {plural(len(evaluated), 'design')} evaluated, "
           f"{plural(int((rows['status'] == 'failed').sum()), 'failure')}",
           "- varied: " + (", ".join(f"{k} ({plural(len(v), 'value')})" for k, v in meta.get("parameters", {}).items()
                                    if len(v) > 1) or "nothing"),
           "- fixed: " + (", ".join(f"{k}={F.category_text(v)}" for k, v in fixed.items()) or "nothing"),
           f"- constraints: {'; '.join(f'`{c}`' for c in meta.get('constraints', [])) or 'none'}",
           f"- fit: {FT.spec_text(meta)}",
           f"- objectives: {', '.join(f'{m} ({g}imise)' for m, g in objectives) or 'none'}"]
    md += [f"- {notes[m]}" for m, _ in objectives if m in notes] + [""]

    # --- figures ----------------------------------------------------------------------
    jobs = []
    CV.add_search(meta, rows, present, name, md, jobs)   # a searched spec: how, convergence
    if len(present) >= 2:
        jobs.append(("pareto", lambda: F.pareto_figure(
            complete, present, params, f"{name}: Pareto front of {', '.join(m for m, _ in present)}",
            front_mask=front_mask, numbers=numbers, units=units,
            infeasible=infeasible, infeasible_label=FT.legend(infeasible, meta),
            limits=FT.ceilings(meta, evaluated, [m for m, _ in present[:2]]))))
    if pattern:
        jobs.append(("speedup-nm", lambda: F.speedup_nm_figure(
            designs, pattern, tm, params, f"{name}: speedup vs {pattern} pattern", tgoal)))
    jobs.append(("sensitivity", lambda: S.sensitivity_figure(
        designs, primary[0], primary[1], params, f"{name}")))
    for stem, fn in MV.views(meta.get("machine", ""), designs, params, name):
        jobs.append((stem, fn))
    for stem, fn in jobs:
        res = fn()
        if res is None:
            continue
        fig, data = res
        data = {**data, "layout_problems": layout_problems(fig)}
        paths = F.save(fig, out, f"{name}-{stem}")
        written += paths
        figs[f"{name}-{stem}"] = {"png": paths[0].name, "svg": paths[1].name, "data": data}
        md += [f"### Figure: {FIGURE_TITLES.get(stem, stem)}", "", f"![{name} {stem}]({paths[0].name})", ""]
        if stem == "pareto" and len(front):
            md += [f"Pareto-optimal designs over all {len(present)} objectives "
                   f"({plural(len(front), 'design')}, numbered as in the figure):", "",
                   front_table(front, numbers, varied, mcols, units), ""]
    if len(present) < 2:
        top, nums = best_table(designs, primary)
        md += [f"### Best {plural(len(top), 'design')} by {primary[0]}", "",
               front_table(top, nums, varied, [c for c in mcols if c in top.columns], units), ""]
    return "\n".join(md) + "\n", written


def write_report(dbs: list[str | os.PathLike], out: str | os.PathLike, title: str = "Sweep report") -> dict:
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise AccelError(f"--out {out} exists and is not a directory")
    out.mkdir(parents=True, exist_ok=True)
    md: list[str] = []
    overview: list[str] = []
    figs: dict = {}
    written: list[Path] = []
    specs_done = []
    for db in dbs:
        with Store(db, create=False) as st:
            metas = st.specs()
            frame = load_frame(st)
        if frame.empty:
            md.append(f"Store `{db}` holds no results.\n")
            continue
        for name in sorted(frame["spec"].unique()):
            rows = frame[frame["spec"] == name].dropna(axis=1, how="all")
            text, files = _spec_section(name, metas.get(name, {}), rows, out, figs, overview)
            md.append(text)
            written += files
            specs_done.append(name)
    head = [f"# {title}", "", "## Conclusions", ""] + [f"- {o}" for o in overview] + [""]
    md_text = "\n".join(head + md)
    atomic_write(out / "summary.md", md_text)
    atomic_write(out / "figures.json", json.dumps(figs, indent=1, default=str))
    atomic_write(out / "index.html", markdown_to_html(md_text, out, title))
    return {"out": str(out), "specs": specs_done, "summary": str(out / "summary.md"),
            "index": str(out / "index.html"), "figures": [str(p) for p in written],
            "figure_data": str(out / "figures.json")}
