"""Resource model of one chain fitted on the Yosys counts, and the U280 totals it implies.

Each resource class is fitted by least squares as ``c0 + c1 D + c2 G + c3 D (g - 1)``
(D = chain_dsps, g = dsp_group, G = D / g): per-DSP sparse MUXes / pack / multipliers,
per-group reduction nodes and activation segments, and the skew registers inside a
group's cascade (DSP q waits q cycles).  Leave-one-out error: each point predicted from
a fit without it.

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
PAPER_U280 = {"DSP48E2": 6345, "LUT": 574_000}      # REFERENCE §2 [paper]


def features(chain_dsps: int, dsp_group: int) -> np.ndarray:
    return np.array([1.0, chain_dsps, chain_dsps // dsp_group, chain_dsps * (dsp_group - 1)])


def fit(entries: list[dict]) -> dict:
    """Coefficients per resource class and its leave-one-out error (mean and max of
    |predicted - measured| / measured)."""
    pts = sorted({(e["params"]["chain_dsps"], e["params"]["dsp_group"]): e
                  for e in entries}.items())
    if len(pts) < 5:
        raise ValueError(f"the resource model needs >= 5 synthesised points, got {len(pts)}")
    x = np.array([features(d, g) for (d, g), _ in pts])
    out = {}
    for r in RESOURCES:
        y = np.array([float(e["resources"][r]) for _, e in pts])
        coef = np.linalg.lstsq(x, y, rcond=None)[0]
        errs = []
        for i in range(len(pts)):
            keep = np.arange(len(pts)) != i
            c = np.linalg.lstsq(x[keep], y[keep], rcond=None)[0]
            errs.append(abs(x[i] @ c - y[i]) / max(y[i], 1.0))
        out[r] = {"coef": [round(float(c), 3) for c in coef],
                  "loo_mean_rel_err": round(float(np.mean(errs)), 4),
                  "loo_max_rel_err": round(float(np.max(errs)), 4)}
    out["points"] = [list(k) for k, _ in pts]
    return out


def predict(model: dict, chain_dsps: int, dsp_group: int) -> dict:
    f = features(chain_dsps, dsp_group)
    return {r: float(f @ np.array(model[r]["coef"])) for r in RESOURCES}


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
