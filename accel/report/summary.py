"""`accel report`: sweep stores -> figures (PNG + SVG), summary.md, self-contained index.html.

Rows of a store are (design point, workload); a design's metrics are the mean over the
spec's workloads (one workload in the built-in specs, so the mean is the value).
Failed points are counted and listed, never plotted.
"""

from __future__ import annotations

import base64
import html
import json
import os
from pathlib import Path

import pandas as pd

from accel.atomic_write import atomic_write
from accel.errors import AccelError
from accel.report import figures as F
from accel.report import machine_views as MV
from accel.sweep.pareto import pareto_mask
from accel.sweep.store import Store, load_frame

TOP_N = 10


def design_frame(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per design point: params plus the mean of each metric over workloads."""
    ok = rows[rows["status"] == "ok"]
    if ok.empty:
        return ok
    pcols = [c for c in ok.columns if c.startswith("param.")]
    mcols = [c for c in ok.columns if c.startswith("metric.")]
    agg = ok.groupby("point")[mcols].mean(numeric_only=True)
    first = ok.groupby("point")[pcols].first()
    return first.join(agg).reset_index()


def _table_md(df: pd.DataFrame) -> str:
    cols = list(df.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, r in df.iterrows():
        cells = [f"{v:.4g}" if isinstance(v, float) else str(v) for v in r]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _spec_section(name: str, meta: dict, rows: pd.DataFrame, out: Path, figs: dict) -> tuple[str, list[Path]]:
    params = list(meta.get("parameters", {}))
    objectives = [(o["metric"], o["goal"]) for o in meta.get("objectives", [])]
    designs = design_frame(rows)
    n_failed = int((rows["status"] == "failed").sum())
    md = [f"## {name} ({meta.get('machine')})", "",
          f"- spec: `{meta.get('source', '')}`, base `{meta.get('base')}`, workloads: "
          f"{', '.join(meta.get('workloads', []))}",
          f"- rows: {len(rows)} ({len(designs)} designs evaluated, {n_failed} failed); "
          f"model version {', '.join(sorted(rows['model_version'].astype(str).unique()))}",
          f"- parameters: {', '.join(f'{k} ({len(v)} values)' for k, v in meta.get('parameters', {}).items())}",
          f"- constraints: {'; '.join(meta.get('constraints', [])) or 'none'}",
          f"- objectives: {', '.join(f'{m} ({g})' for m, g in objectives) or 'none'}", ""]
    written: list[Path] = []
    if designs.empty:
        md.append("No successful design points.\n")
        errs = rows["error"].dropna().value_counts().head(5)
        md += [f"- {n} x `{e}`" for e, n in errs.items()]
        return "\n".join(md) + "\n", written
    present = [(m, g) for m, g in objectives if f"metric.{m}" in designs.columns]
    missing = [m for m, _ in objectives if f"metric.{m}" not in designs.columns]
    if missing:
        md.append(f"- objectives with no data in this store (not produced by the model): "
                  f"{', '.join(missing)}\n")
    partial = [(m, int(designs[f"metric.{m}"].notna().sum())) for m, _ in present]
    partial = [(m, n) for m, n in partial if n < len(designs)]
    if partial:
        md.append("- objectives recorded for only some designs (figures and front use those): "
                  + ", ".join(f"{m} {n}/{len(designs)}" for m, n in partial) + "\n")
    primary = present[0] if present else ("cycles", "min")
    jobs = [("pareto", lambda: F.pareto_figure(designs, present, params,
                                               f"{name}: Pareto front of {' vs '.join(m for m, _ in present[:2])}"))]
    pattern = next((p for p in params if f"param.{p}" in designs.columns
                    and F.is_pattern_param(designs[f"param.{p}"].unique())), None)
    if pattern:
        tm = MV.time_metric(designs, primary[0])
        goal = "min" if tm != primary[0] else primary[1]
        jobs.append(("speedup-nm", lambda: F.speedup_nm_figure(
            designs, pattern, tm, params, f"{name}: speedup vs {pattern} pattern", goal)))
    jobs.append(("sensitivity", lambda: F.sensitivity_figure(
        designs, primary[0], primary[1], params, f"{name}: per-parameter sensitivity")))
    for stem, fn in MV.views(meta.get("machine", ""), designs, params, name):
        jobs.append((stem, fn))
    for stem, fn in jobs:
        res = fn()
        if res is None:
            continue
        fig, data = res
        paths = F.save(fig, out, f"{name}-{stem}")
        written += paths
        figs[f"{name}-{stem}"] = {"png": paths[0].name, "svg": paths[1].name, "data": data}
        md += [f"### {stem}", "", f"![{name} {stem}]({paths[0].name})", ""]
    # top designs: the Pareto front of the objectives if there are two, else the best by primary
    shown = [c for c in (f"param.{p}" for p in params) if c in designs.columns]
    mcols = [f"metric.{m}" for m, _ in present] or [c for c in designs.columns if c.startswith("metric.")][:4]
    if len(present) >= 2:
        mask = pareto_mask(designs[mcols].to_numpy(float), [g for _, g in present])
        top = designs[mask]
        label = "Pareto-optimal designs"
    else:
        top = designs
        label = "best designs"
    pcol = f"metric.{primary[0]}"
    if pcol in top.columns:
        top = top.sort_values(pcol, ascending=primary[1] == "min")
    unit_of = MV.unit_lookup(meta.get("machine", ""))

    def header(col: str) -> str:  # metric columns carry the machine's unit (its UNITS table)
        kind, name = col.split(".", 1)
        unit = unit_of(name) if kind == "metric" else None
        return f"{name} [{unit}]" if unit else name

    table = top.head(TOP_N)[shown + mcols].rename(columns=header)
    md += [f"### Top designs ({label}, by {primary[0]})", "", _table_md(table), ""]
    return "\n".join(md) + "\n", written


def _html(md: str, figs: dict, out: Path) -> str:
    """Self-contained page: the summary text plus every PNG embedded as base64."""
    parts = ["<!doctype html><html><head><meta charset='utf-8'><title>accel sweep report</title>",
             "<style>body{font-family:sans-serif;max-width:1100px;margin:auto}"
             "table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ccc;padding:2px 6px}"
             "img{max-width:100%}</style></head><body>"]
    in_table = False
    for line in md.splitlines():
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            if set(line) <= set("|-"):
                continue
            if not in_table:
                parts.append("<table>")
                in_table = True
            parts.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
            continue
        if in_table:
            parts.append("</table>")
            in_table = False
        if line.startswith("!["):
            src = line[line.index("(") + 1:-1]
            b64 = base64.b64encode((out / src).read_bytes()).decode()
            parts.append(f"<img alt='{html.escape(src)}' src='data:image/png;base64,{b64}'>")
        elif line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            parts.append(f"<h{level}>{html.escape(line.lstrip('#').strip())}</h{level}>")
        elif line.startswith("- "):
            parts.append(f"<li>{html.escape(line[2:])}</li>")
        elif line.strip():
            parts.append(f"<p>{html.escape(line)}</p>")
    if in_table:
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(dbs: list[str | os.PathLike], out: str | os.PathLike, title: str = "Sweep report") -> dict:
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise AccelError(f"--out {out} exists and is not a directory")
    out.mkdir(parents=True, exist_ok=True)
    md = [f"# {title}", ""]
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
            text, files = _spec_section(name, metas.get(name, {}), rows, out, figs)
            md.append(text)
            written += files
            specs_done.append(name)
    md_text = "\n".join(md)
    atomic_write(out / "summary.md", md_text)
    atomic_write(out / "figures.json", json.dumps(figs, indent=1, default=str))
    atomic_write(out / "index.html", _html(md_text, figs, out))
    return {"out": str(out), "specs": specs_done, "summary": str(out / "summary.md"),
            "index": str(out / "index.html"), "figures": [str(p) for p in written],
            "figure_data": str(out / "figures.json")}
