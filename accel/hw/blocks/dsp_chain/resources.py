"""Resource model of one chain fitted on the Yosys counts, and the U280 totals it implies.

Each resource class is fitted by least squares on its ``TERMS`` out of
``c0 + c1 D + c2 G + c3 D (g - 1)`` (D = chain_dsps, g = dsp_group, G = D / g): per-DSP
sparse MUXes / pack / multipliers / adders, per-group activation segments and reduction
nodes, and the skew registers inside a group's cascade (DSP q waits q cycles).
Leave-one-out error: each point predicted from a fit without it.

U280 build: ``cores`` x chains per core, where a core has enough chains for its MM rate
with two INT8 MACs per DSP (``mm_macs_per_core / (chain_dsps * ROWS_PER_BEAT)``); its MV
rate (``mv_macs_per_core / chain_dsps`` chains at one MAC per DSP) uses a subset of
them.  Set against the paper's whole-design totals (REFERENCE §2: about 6,345 DSP and
574 K LUT), which also hold the buffers, MISC unit, HBM and host interfaces.
"""

from __future__ import annotations

import numpy as np

from accel.arch.flightllm import dsp_chain as contract
from accel.arch.flightllm.config import U280, FlightLLMConfig

RESOURCES = ("LUT", "FF", "CARRY", "DSP48E2")
# Register bits of one DSP slot a DSP48E2 holds itself (UG579): A (27, the MUX/pack
# register), B (8), M (35), P (48); a group's second DSP also absorbs its one skew
# stage (AREG/BREG = 2).  Yosys 0.70 packs none of them for -family xcup (its
# xilinx_dsp register/post-adder/cascade packing runs for DSP48E1 only), so its FF
# counts include them; Vivado would not.
DSP_SLOT_REG_BITS = 27 + 8 + 35 + 48
SKEW_STAGE_BITS = 27 + 8
PAPER_U280 = {"DSP48E2": 6345, "LUT": 574_000}      # REFERENCE §2 [paper]


# per resource class: which terms it is fitted on (LUT/CARRY scale with the DSP slots:
# MUX, pack, fabric cascade adders; FF also with the groups' activation segments and
# the skew registers inside a group)
TERMS = {"LUT": ("1", "D"), "CARRY": ("1", "D"), "DSP48E2": ("1", "D"),
         "FF": ("1", "D", "G", "D(g-1)")}


def features(chain_dsps: int, dsp_group: int, terms=TERMS["FF"]) -> np.ndarray:
    allf = {"1": 1.0, "D": chain_dsps, "G": chain_dsps // dsp_group,
            "D(g-1)": chain_dsps * (dsp_group - 1)}
    return np.array([float(allf[t]) for t in terms])


def fit(entries: list[dict]) -> dict:
    """Coefficients per resource class (on its ``TERMS``) and its leave-one-out error
    (mean and max of |predicted - measured| / measured over the points)."""
    pts = sorted({(e["params"]["chain_dsps"], e["params"]["dsp_group"]): e
                  for e in entries}.items())
    if len(pts) < 5:
        raise ValueError(f"the resource model needs >= 5 synthesised points, got {len(pts)}")
    out = {}
    for r in RESOURCES:
        x = np.array([features(d, g, TERMS[r]) for (d, g), _ in pts])
        y = np.array([float(e["resources"][r]) for _, e in pts])
        coef = np.linalg.lstsq(x, y, rcond=None)[0]
        errs = []
        for i in range(len(pts)):
            keep = np.arange(len(pts)) != i
            if np.linalg.matrix_rank(x[keep]) < x.shape[1]:
                raise ValueError(f"leaving out point {pts[i][0]} leaves {r} underdetermined")
            c = np.linalg.lstsq(x[keep], y[keep], rcond=None)[0]
            errs.append(abs(x[i] @ c - y[i]) / max(y[i], 1.0))
        out[r] = {"terms": list(TERMS[r]), "coef": [round(float(c), 3) for c in coef],
                  "loo_mean_rel_err": round(float(np.mean(errs)), 4),
                  "loo_max_rel_err": round(float(np.max(errs)), 4)}
    out["points"] = [list(k) for k, _ in pts]
    return out


def predict(model: dict, chain_dsps: int, dsp_group: int) -> dict:
    return {r: float(features(chain_dsps, dsp_group, TERMS[r]) @ np.array(model[r]["coef"]))
            for r in RESOURCES}


def dsp_absorbable_ff(chain_dsps: int, dsp_group: int) -> int:
    """FFs of one chain that a DSP48E2 would hold (A/B/M/P, one skew stage per group)."""
    return chain_dsps * DSP_SLOT_REG_BITS + (chain_dsps // dsp_group) * min(
        dsp_group - 1, 1) * SKEW_STAGE_BITS


def chains_per_core(cfg: FlightLLMConfig) -> dict:
    mm = cfg.mm_macs_per_core // (cfg.chain_dsps * contract.ROWS_PER_BEAT)
    mv = cfg.mv_macs_per_core // cfg.chain_dsps
    return {"mm_chains": mm, "mv_chains": mv, "chains": max(mm, mv)}


def u280_totals(per_chain: dict, cfg: FlightLLMConfig = U280) -> dict:
    """The chains of every core of ``cfg`` (U280 by default) against the paper."""
    c = chains_per_core(cfg)
    n = c["chains"] * cfg.cores
    tot = {r: round(per_chain[r] * n) for r in RESOURCES}
    return {**c, "cores": cfg.cores, "total_chains": n, "chain_dsps": cfg.chain_dsps,
            "dsp_group": cfg.dsp_group, "totals": tot, "paper": PAPER_U280,
            "share_of_paper": {r: round(tot[r] / PAPER_U280[r], 3) for r in PAPER_U280}}
