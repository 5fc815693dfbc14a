"""The design sheet of ``accel design build``: ``design.md`` and a self-contained
``design.html`` from the build's result.

Its first line is the fit verdict against the device (the resource and margin that
fails, when one does); then the co-simulation (model against RTL cycles per tile), the
resources (estimated against synthesised), the device utilisation, the logic depth
against the clock budget, and the design's place on its sweep's front.
"""

from __future__ import annotations

from pathlib import Path

from accel.atomic_write import atomic_write
from accel.report.html_page import markdown_to_html
from accel.report.units import fmt_num

RESOURCE_ROWS = ("LUT", "FF", "CARRY", "DSP48E2", "BRAM")


def _pct(x: float) -> str:
    return f"{100 * x:.1f} %"


def _table(head: list[str], rows: list[list]) -> list[str]:
    return (["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
            + ["| " + " | ".join(str(c) for c in r) + " |" for r in rows] + [""])


def verdict(res: dict) -> str:
    """The sheet's first line."""
    dev = res["device"]
    where = f"{dev['part']} ({dev['board']})"
    util = res["utilisation"]
    if not util:
        return f"**Fit unknown** on {where}: no resource estimate for this design."
    bad = sorted((u for u in util if not u["fits"]), key=lambda u: u["margin"])
    if bad:
        parts = [f"{u['resource']} {_pct(u['fraction'])} of {u['capacity']:,} (ceiling "
                 f"{_pct(u['ceiling'])}, margin {100 * u['margin']:+.1f} points)" for u in bad]
        return f"**Does not fit** {where}: {'; '.join(parts)}."
    worst = min(util, key=lambda u: u["margin"])
    return (f"**Fits** {where}: tightest {worst['resource']} at {_pct(worst['fraction'])} "
            f"(ceiling {_pct(worst['ceiling'])}, margin {100 * worst['margin']:+.1f} points).")


def _source(res: dict) -> list[str]:
    s = res["source"]
    out = [f"- from: design file `{s['design_file']}`"] if "design_file" in s else []
    label = "- first built from:" if out else "- from:"
    if "store" in s:
        num = f"Pareto design #{s['design']}" if s.get("design") else "a design"
        return out + [f"{label} {num} of sweep `{s['spec']}` (store `{s['store']}`, point key "
                      f"`{s['point_key']}`)"]
    if "preset" in s:
        return out + [f"{label} preset `{s['preset']}` (no sweep)"]
    return out


def _cosim(res: dict) -> list[str]:
    c = res["cosim"]
    verdict_ = "all bit- and cycle-exact" if c["ok"] else f"MISMATCH: {res.get('mismatch')}"
    md = ["## Co-simulation (Verilator) against the model", ""]
    if c["array"] != res["design"]:
        md += [f"**Co-simulated on a {c['array_size'][0]}x{c['array_size'][1]} twin** "
               f"(`{c['array']}`: same dtype, N, M and pipelining, `--cosim-array`); the "
               f"full-size {res['design']} was not simulated.", ""]
    md += [
          f"{c['tiles']} tiles of `{c['workload']}` (full K each; ops: "
          + "; ".join(f"{ph}: {ops}" for ph, ops in c["per_phase"].items())
          + f"), {c['outputs_checked']:,} outputs checked, {c['output_mismatches']} output "
          f"mismatches, {c['cycle_mismatches']} cycle mismatches: **{verdict_}**. "
          f"Verilator build {c['build_seconds']:.0f} s, simulation {c['sim_seconds']:.0f} s.",
          "",
          c.get("model_note", "Model cycles: the machine's model of each tile")
          + "; RTL cycles: the array's own cycle counter (stalls are not counted; the wall "
          "clock column includes them).",
          ""]
    rows = [[r["phase"], "<br>".join(r["tiles"]) if len(r["tiles"]) < 4
             else f"{len(r['tiles'])} tiles back to back", r["scenario"], r["model_beats"],
             r["rtl_beats"], f"{r['model_cycles']:,}", f"{r['rtl_cycles']:,}",
             f"{r['wall_cycles']:,}", f"{r['output_mismatches']}/{r['outputs_checked']}"]
            for r in c["per_tile"]]
    md += _table(["phase", "tile(s)", "scenario", "model beats", "RTL beats", "model cycles",
                  "RTL cycles", "wall cycles", "mismatches/outputs"], rows)
    g = c.get("weight_gen")
    if g:
        md += [f"Weight generator on `{g['layer']}` ({g['weight_shape'][0]}x"
               f"{g['weight_shape'][1]}, both BDWP masks): model {g['model_cycles']:,} cycles, "
               f"RTL {g['rtl_cycles']:,}; {g['output_mismatches']} of {g['outputs_checked']:,} "
               f"outputs differ, {g['cycle_mismatches']} cycle mismatches.", ""]
    return md


def _resources(res: dict) -> list[str]:
    r = res["resources"]
    md = ["## Resources", ""]
    s, est, at = r.get("synth"), r.get("estimate"), r.get("estimate_at_synth")
    if s:
        md += [f"Yosys `synth_xilinx -family xcup` of `{s['name']}` (the largest twin of this "
               f"design that synthesises here{'; cached' if s['cached'] else ''}"
               + (f", {s['yosys_seconds']:.0f} s" if s.get("yosys_seconds") else "")
               + ") against the resource model at the same size:", ""]
        rows = []
        for k in RESOURCE_ROWS:
            got = s["resources"].get(k, 0)
            pred = at.get(k) if at else None
            err = f"{100 * (pred - got) / got:+.1f} %" if pred is not None and got else "-"
            rows.append([k, f"{got:,}", "-" if pred is None else f"{pred:,.0f}", err])
        md += _table(["resource", "synthesised", "model", "model error"], rows)
    else:
        md += [f"No synthesis: {r.get('synth_note', '')}", ""]
    if est:
        h = r.get("holdout", {})
        md += [f"Full size ({res['design']}), resource model fitted on {est.get('fitted_on')} "
               "synthesised builds, with its leave-one-out error over them:", ""]
        md += _table(["resource", "estimate", "LOO error mean", "LOO error max"],
                     [[k, f"{est[k]:,.0f}",
                       _pct(h[k]["mean_rel_error"]) if k in h else "-",
                       _pct(h[k]["max_rel_error"]) if k in h else "-"] for k in RESOURCE_ROWS])
    else:
        md += [f"No full-size estimate: {r.get('model_note', '')}", ""]
    g = res.get("weight_gen_resources")
    if g and g.get("synth"):
        gs = g["synth"]["resources"]
        md += [f"Weight generator ({g['synth_note']}): "
               + ", ".join(f"{gs.get(k, 0):,} {k}" for k in RESOURCE_ROWS)
               + ". Not in the utilisation below (no model scales it to the design's lanes).",
               ""]
    elif g:
        md += [f"Weight generator: {g['synth_note']}.", ""]
    return md


def _utilisation(res: dict) -> list[str]:
    dev = res["device"]
    md = [f"## Utilisation of {dev['part']} ({dev['board']}), the design at full size", ""]
    if not res["utilisation"]:
        return md + ["No resource metric, so no utilisation.", ""]
    hw = res["usage"]["metrics"]
    md += ["What the sweep's fit check counts (`accel.sweep.fit.usage` of the machine's "
           "`hw_*` metrics): " + ", ".join(f"`{k}` {v:,.0f}" for k, v in hw.items()
                                              if k != "hw_fp16") + ".", ""]
    md += _table(["resource", "used", "capacity", "utilisation", "ceiling", "margin",
                  "fits", "capacity source"],
                 [[u["resource"], f"{u['used']:,.0f}", f"{u['capacity']:,}",
                   _pct(u["fraction"]), _pct(u["ceiling"]), f"{100 * u['margin']:+.1f} points",
                   "yes" if u["fits"] else "**no**", dev["sources"].get(u["resource"], "")]
                  for u in res["utilisation"]])
    return md


def _depth(res: dict) -> list[str]:
    d = res["logic_depth"]
    md = [f"## Logic depth against the clock ({res['clock_mhz']:g} MHz)", ""]
    if not d.get("measured"):
        return md + [f"Not measured: {d.get('note', '')}.", ""]
    b = d.get("budget") or {}
    ok = d.get("within_200mhz_budget")
    md += [f"Measured on the synthesised twin `{d['on']}` (Yosys netlist walk, "
           f"`accel.hw.depth`: {d.get('counted', '')}); the PE is the same at every array "
           f"size.  **{'Within' if ok else 'Outside'} the {b.get('clock_mhz', 200):g} MHz "
           f"budget.**", ""]
    rows = [["LUT/MUXF levels on one path (max)", d.get("max_lut_levels"),
             b.get("max_lut_levels", "-")],
            ["CARRY4 in one chain (max)", d.get("max_carry_chain"), b.get("max_carry4", "-")],
            ["worst path's logic delay (ns, assumed per-level delays)", d.get("logic_ns"),
             b.get("max_logic_ns", "-")],
            ["worst path: levels (LUT + MUXF + CARRY)", d.get("levels"), "-"],
            ["levels into a DSP48E2", d.get("into_dsp_levels"), "-"]]
    md += _table(["quantity", "measured", "budget"], rows)
    if b.get("source"):
        md += [f"Budget: {b['source']}.", ""]
    return md


def _front(res: dict) -> list[str]:
    f = res.get("front") or {}
    md = ["## Place on the sweep's front", ""]
    if f.get("fits") is False:
        return md + ["It does not fit the sweep's device, so the sweep never puts it on a "
                     "front (built by its point key).", ""]
    if not f or not f.get("objectives") or f.get("rank") is None:
        return md + ["Not from a sweep with two or more objectives: no front to place it on.",
                     ""]
    num = f"#{f['number']} of the report's Pareto table" if f.get("number") else "not on it"
    md += [f"Pareto layer {f['rank']} of {f['layers']} (1 = the front; {f['front_size']} of "
           f"{f['designs']} designs are on it); {num}.", ""]
    md += _table(["objective", "goal", "this design", "front's best", "front's worst"],
                 [[o["metric"], o["goal"], fmt_num(o["value"]), fmt_num(o["front_best"]),
                   fmt_num(o["front_worst"])] for o in f["objectives"]])
    return md


def markdown(res: dict) -> str:
    blocks = res["blocks"]
    pe = blocks["pe-array"]
    md = [verdict(res), "", f"# Design sheet: {res['design']}", ""]
    md += _source(res)
    md += [f"- machine `{res['machine']}`, workload `{res['workload']}` "
           + ", ".join(f"{k}={v}" for k, v in res["knobs"].items()),
           f"- PE array: {pe['rows']}x{pe['cols']} PEs, {pe['dtype'].upper()}, N={pe['n']} "
           f"multipliers per PE, M={pe['m']}, {'pipelined' if pe['pipelined'] else 'one tile per start'}",
           *([f"- weight generator: {blocks['weight-gen']['n']}:{blocks['weight-gen']['m']}, "
              f"{blocks['weight-gen']['lanes']} lanes"] if "weight-gen" in blocks else []),
           f"- device {res['device']['name']}, clock {res['clock_mhz']:g} MHz", ""]
    md += _cosim(res) + _resources(res) + _utilisation(res) + _depth(res) + _front(res)
    md += ["## Files", ""] + [f"- `{f}`" for b in res["files"].values() for f in b.values()]
    md += ["- `design.yaml`: `accel design build design.yaml --out DIR` rebuilds this design",
           "- `result.json`: every number of this sheet", "", "Per block:", "", "```"]
    md += res["commands"] + ["```", ""]
    return "\n".join(md)


def write(folder: Path, res: dict) -> dict[str, str]:
    md = markdown(res)
    atomic_write(folder / "design.md", md)
    atomic_write(folder / "design.html",
                 markdown_to_html(md, folder, f"accel design sheet: {res['design']}"))
    return {"markdown": "design.md", "html": "design.html"}
