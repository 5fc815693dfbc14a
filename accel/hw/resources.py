"""Per-configuration FPGA resource model fitted on synthesised configurations.

Sweeps need a cost axis for thousands of design points; Yosys takes 10-100 s per point.
Each resource is a non-negative combination of a few *structural* counts of the
generated RTL (no free-form polynomial): multipliers, multiplexer input bits, adder bits
and the exact register-bit count of the micro-architecture.  Coefficients are fitted by
NNLS on the committed synthesis cache (``rtl/synth_cache.json``); the error quoted is
leave-one-out over those configurations (each predicted by a fit that never saw it).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy.optimize import nnls

from accel.hw.params import BEATS_BITS, CYCLES_BITS, ArrayParams
from accel.hw.synth import load_cache

RESOURCES = ("LUT", "FF", "CARRY", "DSP48E2", "BRAM")
# which structural features may explain which resource (physical reasoning, see below)
FEATURES = {
    "LUT": ("const", "mux_bits", "mults", "acc_bits"),
    "FF": ("const", "reg_bits"),
    "CARRY": ("const", "acc_bits"),     # products are summed inside the DSPs; carry chains
                                        # are the accumulators' (and the counters')
    "DSP48E2": ("mults",),
    "BRAM": ("const",),
}


def register_bits(p: ArrayParams) -> int:
    """Flip-flops the RTL declares (pe.py, pe_array.py skew chains, controller.py)."""
    win = p.m * p.act_bits + 1                       # window + beat-valid bit
    grp = p.n * (p.weight_bits + p.idx_bits)         # kept weights + positions
    pe = win + grp + p.acc_bits
    skew = win * p.rows * (p.rows - 1) // 2 + grp * p.cols * (p.cols - 1) // 2
    ctrl = (BEATS_BITS + 8) + BEATS_BITS + CYCLES_BITS + p.row_bits + 2 + 1  # +FSM, done
    return p.rows * p.cols * pe + skew + ctrl


def features(p: ArrayParams) -> dict[str, float]:
    pes = p.rows * p.cols
    mults = pes * p.n
    return {
        "const": 1.0,
        "mults": float(mults),                                        # one DSP48E2 each
        "mux_bits": float(mults * p.act_bits * p.m),                  # M-way sparse muxes
        "acc_bits": float(pes * p.acc_bits),                          # accumulator adders
        "reg_bits": float(register_bits(p)),
    }


def _dataset(cache: dict) -> list[tuple[ArrayParams, dict]]:
    rows = []
    for entry in cache.values():
        rows.append((ArrayParams(**entry["params"]), entry["resources"]))
    rows.sort(key=lambda r: (r[0].rows * r[0].cols, r[0].n, r[0].m, r[0].rows))
    return rows


def _fit(data, resource: str) -> np.ndarray:
    names = FEATURES[resource]
    x = np.array([[features(p)[f] for f in names] for p, _ in data])
    y = np.array([float(res.get(resource, 0)) for _, res in data])
    coef, _ = nnls(x, y)
    return coef


def _predict(coef: np.ndarray, resource: str, p: ArrayParams) -> float:
    f = features(p)
    return float(sum(c * f[name] for c, name in zip(coef, FEATURES[resource], strict=True)))


@lru_cache(maxsize=1)
def fitted() -> dict:
    data = _dataset(load_cache())
    if len(data) < 4:
        raise RuntimeError("resource model needs >= 4 synthesised configs in rtl/synth_cache.json")
    coefs = {r: _fit(data, r) for r in RESOURCES}
    return {"coefs": coefs, "n_configs": len(data), "configs": [p.name for p, _ in data]}


def estimate(rows: int, cols: int, n: int, m: int, act_bits: int = 8, weight_bits: int = 8,
             acc_bits: int = 32) -> dict:
    """Estimated LUT/FF/CARRY/DSP48E2/BRAM of one configuration (no Yosys run)."""
    p = ArrayParams(rows, cols, n, m, act_bits, weight_bits, acc_bits)
    fit = fitted()
    out = {r: max(0.0, round(_predict(fit["coefs"][r], r, p), 1)) for r in RESOURCES}
    out["register_bits"] = register_bits(p)
    out["fitted_on"] = fit["n_configs"]
    return out


def holdout_error() -> dict:
    """Leave-one-out relative error per resource over the synthesised configurations."""
    data = _dataset(load_cache())
    per_resource, rows_out = {}, []
    for i, (p, res) in enumerate(data):
        train = data[:i] + data[i + 1:]
        row = {"config": p.name}
        for r in RESOURCES:
            pred = _predict(_fit(train, r), r, p)
            actual = float(res.get(r, 0))
            err = abs(pred - actual) / actual if actual else abs(pred)
            row[r] = {"actual": actual, "predicted": round(pred, 1), "rel_error": err}
            per_resource.setdefault(r, []).append(err)
        rows_out.append(row)
    summary = {r: {"mean_rel_error": float(np.mean(v)), "max_rel_error": float(np.max(v))}
               for r, v in per_resource.items()}
    return {"method": "leave-one-out", "n_configs": len(data), "summary": summary,
            "per_config": rows_out}
