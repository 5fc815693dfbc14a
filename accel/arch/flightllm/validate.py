"""The ``vhk158-artifact`` preset against the authors' own VHK158 profiler.

``validate()`` runs the LLaMA2-7B decode step at the artifact's context buckets and its
two prefill buckets, and sets each beside the figures the artifact's profiler printed
(committed in ``data/artifact_vhk158.json`` with their source).  No figure is fitted per
point: the preset carries the artifact's settings and the mechanisms read from its
instruction generator (config.py, compiler.py).  The profiler's ``correction_factor =
3.2`` (every instruction time divided by it; 3.2 / 4 SLRs = 80 % of a perfect split) is
not copied: the model splits each op over the SLRs itself (``slr_*`` config fields), and
each row also reports the same preset with a perfectly even, input-sharing split
(``accel_ms_even_split``) so the SLR mechanisms' share is visible.

Targets (issue 12): each decode step within 10 %, each prefill within 15 %, the decode
growth per token of context within 15 %, and the unit that bounds decode the same.
``ACHIEVED_*``: what model 0.5 honestly reaches where a target is missed (tests pin it).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from accel.arch.flightllm import compiler as C
from accel.arch.flightllm.config import PRESETS, FlightLLMConfig
from accel.arch.flightllm.model import run_program, weight_block_ns
from accel.workloads.llm import llm_workload, shape_of

REFERENCE = Path(__file__).with_name("data") / "artifact_vhk158.json"
DECODE_TOL, PREFILL_TOL, GROWTH_TOL = 0.10, 0.15, 0.15
# model 0.5 without the 0.8 constant, artifact dataflow: decode -12.1..-12.4 %, prefill
# -20.4/-20.7 %, growth -11.4 %; on-chip dataflow: decode -18.4..-19.8 %, growth -13.9 %.
# The bounds tests pin (what the model gives, rounded up), not fitted values.
ACHIEVED_DECODE_TOL, ACHIEVED_PREFILL_TOL, ACHIEVED_DECODE_TOL_ON_CHIP = 0.13, 0.22, 0.21
UNITS = ("LD", "ST", "MM", "MV", "MISC")
# What the model leaves out of the artifact's instruction stream, named so a miss can be
# traced to a mechanism (read from profile/inst_gen/).
NOT_MODELLED = {
    "decode": ("the SLR loss the artifact asserts but does not model: its profiler runs "
               "one SLR's engines and divides by correction_factor 3.2, i.e. 4 SLRs at "
               "80 % of a perfect split, with no mechanism in its generator; this model "
               "splits whole MV instructions/heads per SLR (busiest SLR bounds each op), "
               "every SLR loads the op's whole input, a SYS per op: that adds about 4 % "
               "to a step where the artifact's factor adds 25 %; what else costs the SLRs (SLR-crossing links, clock or DSP "
               "utilisation losses) is public nowhere.  Also absent: per-op INT32 bias "
               "loads of q/k/v/o (IR bias_flag), LD zero fill"),
    "growth": ("the artifact moves the probabilities and the per-head q through one "
               "channel divided by its correction factor; here each SLR moves its heads' "
               "slice at the channel rate, and KV chunks are sized by kv_buffer_kb rather "
               "than per 512-key MV group"),
    "prefill": ("the same unexplained SLR loss as decode (MM busy 274 ms = one SLR's "
                "MM time / 3.2; whole 16-column MM instructions split evenly over 4 SLRs "
                "for LLaMA2-7B's 4096 and 11008 columns); and the artifact re-loads every "
                "weight tile for each 128-token MM block (LD busy 104 ms at 128), here "
                "prefill is weight-stationary over the prompt"),
}


def load_reference(path: Path = REFERENCE) -> dict:
    return json.loads(Path(path).read_text())


def _runs(cfg: FlightLLMConfig, ref: dict, on_chip: bool) -> tuple[dict, dict]:
    w = llm_workload(ref["model"], 128, 16)
    shape = shape_of(w)
    tiles = C.fused_tiles(shape, weight_block_ns(w, shape), cfg)
    ms = 1e3 / (cfg.clock_mhz * 1e6)

    def one(prog):
        r = run_program(prog, cfg)
        busy = {u: float(r.busy[C.UNIT_NAMES.index(u)] * ms) for u in UNITS}
        return {"step_ms": r.cycles * ms, "busy_ms": busy, "instructions": r.instructions}

    dec = {c: one(C.decode_program(shape, tiles, cfg, int(c), on_chip)) for c in ref["decode"]}
    pre = {p: one(C.prefill_program(shape, tiles, cfg, int(p))) for p in ref["prefill"]}
    return dec, pre


def _bound(busy: dict) -> str:
    return max(busy, key=busy.get)


def _growth(rows: dict) -> float:
    """Decode growth per token of context (us), between the first and last bucket."""
    cs = sorted(rows, key=int)
    return (rows[cs[-1]]["step_ms"] - rows[cs[0]]["step_ms"]) / (int(cs[-1]) - int(cs[0])) * 1e3


def validate(cfg: FlightLLMConfig | None = None, on_chip: bool = False) -> dict:
    """accel vs artifact; ``on_chip=False`` (default) is the artifact's own dataflow: every
    op's output stored to HBM, MISC ops fused behind the MV that feeds them."""
    ref = load_reference()
    cfg = cfg or PRESETS["vhk158-artifact"]
    cfg.validate()
    dec, pre = _runs(cfg, ref, on_chip)
    even = replace(cfg, slr_whole_instr_split=False, slr_broadcast_inputs=False)
    free_dec, free_pre = _runs(even, ref, on_chip)
    rows, checks, notes = [], [], []
    for c, a in ref["decode"].items():
        m = dec[c]
        err = m["step_ms"] / a["step_ms"] - 1
        rows.append({"phase": "decode", "context": int(c), "artifact_ms": a["step_ms"],
                     "accel_ms": m["step_ms"], "error": err,
                     "accel_ms_even_split": free_dec[c]["step_ms"],
                     "artifact_busy_ms": a["busy_ms"], "accel_busy_ms": m["busy_ms"],
                     "artifact_bound": _bound(a["busy_ms"]), "accel_bound": _bound(m["busy_ms"]),
                     "ok": abs(err) <= DECODE_TOL})
    for p, a in ref["prefill"].items():
        m = pre[p]
        err = m["step_ms"] / a["step_ms"] - 1
        rows.append({"phase": "prefill", "context": int(p), "artifact_ms": a["step_ms"],
                     "accel_ms": m["step_ms"], "error": err,
                     "accel_ms_even_split": free_pre[p]["step_ms"],
                     "artifact_busy_ms": a["busy_ms"], "accel_busy_ms": m["busy_ms"],
                     "artifact_bound": _bound(a["busy_ms"]), "accel_bound": _bound(m["busy_ms"]),
                     "ok": abs(err) <= PREFILL_TOL})
    for phase, tol in (("decode", DECODE_TOL), ("prefill", PREFILL_TOL)):
        bad = [r for r in rows if r["phase"] == phase and not r["ok"]]
        checks.append({"check": f"every {phase} step within {tol:.0%}", "ok": not bad})
        if bad:
            notes.append(f"{phase}: missed at {[r['context'] for r in bad]}; not modelled: "
                         f"{NOT_MODELLED[phase]}")
    g_art = _growth(ref["decode"])
    g_acc = _growth(dec)
    g_err = g_acc / g_art - 1
    checks.append({"check": f"decode growth per token within {GROWTH_TOL:.0%}",
                   "ok": abs(g_err) <= GROWTH_TOL, "artifact_us": g_art, "accel_us": g_acc,
                   "accel_us_even_split": _growth(free_dec), "error": g_err})
    if abs(g_err) > GROWTH_TOL:
        notes.append(f"growth: {g_err:+.0%}; not modelled: {NOT_MODELLED['growth']}")
    same = all(r["artifact_bound"] == r["accel_bound"] for r in rows if r["phase"] == "decode")
    checks.append({"check": "decode bounded by the artifact's unit", "ok": same})
    if not same:
        notes.append("bounding unit differs: compare MV sizing (mv_cols_per_instr) and the "
                     "weight load width (weight_bits)")
    return {"preset": cfg.name, "dataflow": "on-chip" if on_chip else "artifact (off-chip, "
            "MISC fused into MV)", "slr_parallel_efficiency": cfg.slr_parallel_efficiency,
            "source": ref["source"], "rows": rows, "checks": checks, "notes": notes,
            "not_modelled": NOT_MODELLED,
            "all_ok": all(c["ok"] for c in checks)}
