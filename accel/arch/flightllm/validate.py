"""The ``vhk158-artifact`` preset against the authors' own VHK158 profiler.

``validate()`` runs the LLaMA2-7B decode step at the artifact's context buckets and its
two prefill buckets, and sets each beside the figures the artifact's profiler printed
(committed in ``data/artifact_vhk158.json`` with their source).  No figure is fitted per
point: the preset carries the artifact's settings and the mechanisms read from its
instruction generator (config.py, compiler.py); the one lumped parameter,
``slr_parallel_efficiency``, is reported both as set and left out (1.0).

Targets (issue 12): each decode step within 10 %, each prefill within 15 %, the decode
growth per token of context within 15 %, and the unit that bounds decode the same.
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
UNITS = ("LD", "ST", "MM", "MV", "MISC")
# What the model leaves out of the artifact's instruction stream, named so a miss can be
# traced to a mechanism (read from profile/inst_gen/).
NOT_MODELLED = {
    "decode": ("per-op INT32 bias loads of q/k/v/o (IR bias_flag) and LD zero fill; "
               "one-channel vectors are split over the SLRs here, while the artifact "
               "divides every transfer by its correction factor"),
    "growth": ("the artifact moves the probabilities and the per-head q through one "
               "channel divided by its correction factor; here each SLR moves its heads' "
               "slice at the channel rate, and KV chunks are sized by kv_buffer_kb rather "
               "than per 512-key MV group"),
    "prefill": ("the artifact re-loads every weight tile for each 128-token MM block "
                "(LD busy 104 ms at 128); here prefill is weight-stationary over the prompt"),
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
    free_dec, free_pre = _runs(replace(cfg, slr_parallel_efficiency=1.0), ref, on_chip)
    rows, checks, notes = [], [], []
    for c, a in ref["decode"].items():
        m = dec[c]
        err = m["step_ms"] / a["step_ms"] - 1
        rows.append({"phase": "decode", "context": int(c), "artifact_ms": a["step_ms"],
                     "accel_ms": m["step_ms"], "error": err,
                     "accel_ms_slr_efficiency_1": free_dec[c]["step_ms"],
                     "artifact_busy_ms": a["busy_ms"], "accel_busy_ms": m["busy_ms"],
                     "artifact_bound": _bound(a["busy_ms"]), "accel_bound": _bound(m["busy_ms"]),
                     "ok": abs(err) <= DECODE_TOL})
    for p, a in ref["prefill"].items():
        m = pre[p]
        err = m["step_ms"] / a["step_ms"] - 1
        rows.append({"phase": "prefill", "context": int(p), "artifact_ms": a["step_ms"],
                     "accel_ms": m["step_ms"], "error": err,
                     "accel_ms_slr_efficiency_1": free_pre[p]["step_ms"],
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
                   "accel_us_slr_efficiency_1": _growth(free_dec), "error": g_err})
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
