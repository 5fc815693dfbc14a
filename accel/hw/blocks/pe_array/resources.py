"""Per-configuration FPGA resource model fitted on synthesised configurations.

Sweeps need a cost axis for thousands of design points; Yosys takes 10-100 s per point.
Each resource is a non-negative combination of a few *structural* counts of the
generated RTL (no free-form polynomial): multipliers, multiplexer input bits, adder bits
and the exact register-bit count of the micro-architecture.  Coefficients are fitted by
NNLS on the synthesis cache (the committed seeds ``rtl/synth_cache*.json`` plus this
machine's results, ``accel.hw.synth.load_cache``); the error quoted is
leave-one-out over those configurations (each predicted by a fit that never saw it).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy.optimize import nnls

from accel.arch.sat.pe_array import MAC_LATENCY_FP16, OUT_LATENCY_FP16, pipelined_spacing
from accel.hw.blocks.pe_array.params import BEATS_BITS, CYCLES_BITS, ArrayParams
from accel.hw.blocks.pe_array.synth import CACHE, FP16_CACHE, PIPELINED_CACHE
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


# FP16 arrays (``ArrayParams.fp16``, exact accumulation): each multiplier is two DSP48E2
# (significand product; alignment by +-2^(shift mod 16)), then fabric: the coarse
# alignment (a 4:1 mux per bit of the 83-bit addend) and one row of the kulisch_bits-wide
# accumulator adder; each accumulator bit is an input of the drain's R:1 row select (and,
# pipelined, of the shadow/restart select), and the row goes into one FP32 converter per
# column (negation, leading-one search, two shifts, rounding).  Carry chains: one
# kulisch_bits-wide chain per PE (Yosys merges acc + X_0 + X_1) and the converters'.
FEATURES_FP16 = {
    "LUT": ("const", "mux_bits", "fp16_align_add_bits", "fp16_wide_select_bits",
            "fp16_convert_bits"),
    "FF": ("const", "reg_bits"),
    "CARRY": ("const", "fp16_adder_bits"),
    "DSP48E2": ("mults",),
    "BRAM": ("const",),
}
FP16_ADDEND_BITS = 83            # fp.fp16_product_shape(): the aligned product
FP16_PRODUCT_STAGE_BITS = 16 + 16 + 22 + 6 + 1 + 1 + 39 + 2 + FP16_ADDEND_BITS  # per multiplier


def _features_for(dtype: str) -> dict:
    return FEATURES_FP16 if dtype == "fp16" else FEATURES


def register_bits(p: ArrayParams) -> int:
    """Flip-flops the RTL declares (pe.py / pe_fp16.py, pe_array.py skew chains,
    controller.py; FP16 also fp16_out.py and accel.hw.fp)."""
    pipe = int(p.pipelined)
    win = p.m * p.act_bits + 1 + pipe                # window + beat-valid (+ last) bit
    grp = p.n * (p.weight_bits + p.idx_bits)         # kept weights + positions
    acc = p.kulisch_bits if p.fp else p.acc_bits
    pe = win + grp + acc * (1 + pipe)                # accumulator (+ shadow)
    if p.fp:     # product pipeline per multiplier + valid (and last) bits of 4 stages
        pe += p.n * FP16_PRODUCT_STAGE_BITS + 4 * (1 + pipe)
    skew = win * p.rows * (p.rows - 1) // 2 + grp * p.cols * (p.cols - 1) // 2
    if p.pipelined:   # RunController: tiles, fed, drained, since, rdy, cycles, FSM, done
        since = max(1, pipelined_spacing(p.rows, p.cols).bit_length())
        ctrl = 3 * BEATS_BITS + since + p.rows + CYCLES_BITS + 1 + 1
    elif p.fp:        # TileController with down-counters: beats, fill, cycles, drain step
        fill = (p.rows - 1) + (p.cols - 1) + MAC_LATENCY_FP16
        ctrl = (BEATS_BITS + fill.bit_length() + CYCLES_BITS
                + (p.rows + OUT_LATENCY_FP16 - 1).bit_length() + 2 + 1)
    else:
        ctrl = (BEATS_BITS + 8) + BEATS_BITS + CYCLES_BITS + p.row_bits + 2 + 1  # +FSM, done
    out = 0
    if p.fp:          # result slots (valid + row) and one converter per column
        out = OUT_LATENCY_FP16 * (1 + p.row_bits) + p.cols * converter_bits(p.kulisch_bits)
    return p.rows * p.cols * pe + skew + ctrl + out


def converter_bits(width: int) -> int:
    """Registers of one ``accel.hw.fp.FixedToFp32`` (magnitude bits that can be nonzero)."""
    mw = width - 1
    nblk = (1 << (mw - 1).bit_length()) // 16
    frame = 16 * nblk
    return (width + (1 + mw) + (1 + mw + nblk + 4 * nblk) + (1 + 1 + 8 + frame + 4)
            + (1 + 1 + 8 + frame) + 32)


def features(p: ArrayParams) -> dict[str, float]:
    pes = p.rows * p.cols
    mults = pes * p.n
    return {
        "const": 1.0,
        "mults": float(mults),                                        # one DSP48E2 each
        "mux_bits": float(mults * p.act_bits * p.m),                  # M-way sparse muxes
        "acc_bits": float(pes * p.acc_bits),                          # accumulator adders
        "reg_bits": float(register_bits(p)),
        # FP16: per multiplier the coarse-alignment mux bits + one accumulator adder row
        "fp16_align_add_bits": float(mults * (FP16_ADDEND_BITS + p.kulisch_bits) if p.fp else 0),
        "fp16_wide_select_bits": float(pes * p.kulisch_bits * (1 + p.pipelined) if p.fp else 0),
        "fp16_convert_bits": float(p.cols * p.kulisch_bits if p.fp else 0),  # converters
        "fp16_adder_bits": float((pes + p.cols) * p.kulisch_bits if p.fp else 0),
    }


def _dataset(cache: dict, keep_pipelined: bool = False) -> list[tuple[ArrayParams, dict]]:
    rows = []
    for entry in cache.values():
        if entry.get("unit") == "weight-gen":
            continue
        if entry["params"].get("pipelined") and not keep_pipelined:
            continue
        rows.append((ArrayParams(**entry["params"]), entry["resources"]))
    rows.sort(key=lambda r: (r[0].rows * r[0].cols, r[0].n, r[0].m, r[0].rows))
    return rows


def _fit(data, resource: str, dtype: str = "int8") -> np.ndarray:
    names = _features_for(dtype)[resource]
    x = np.array([[features(p)[f] for f in names] for p, _ in data])
    y = np.array([float(res.get(resource, 0)) for _, res in data])
    coef, _ = nnls(x, y)
    return coef


def _predict(coef: np.ndarray, resource: str, p: ArrayParams) -> float:
    f = features(p)
    names = _features_for(p.dtype)[resource]
    return float(sum(c * f[name] for c, name in zip(coef, names, strict=True)))


def _fp16_data():
    """FP16 syntheses (one-tile and pipelined alike: shadow registers are in reg_bits)."""
    return [(p, r) for p, r in _dataset(load_cache(FP16_CACHE), keep_pipelined=True)
            if p.fp]


@lru_cache(maxsize=1)
def fitted_fp16() -> dict:
    data = _fp16_data()
    if len(data) < 4:
        raise RuntimeError(f"FP16 resource model needs >= 4 synthesised FP16 configs in "
                           f"{FP16_CACHE}, has {len(data)}")
    return {"coefs": {r: _fit(data, r, "fp16") for r in RESOURCES}, "n_configs": len(data),
            "configs": [p.name for p, _ in data]}


@lru_cache(maxsize=1)
def fitted() -> dict:
    data = _dataset(load_cache(CACHE))
    if len(data) < 4:
        raise RuntimeError("resource model needs >= 4 synthesised configs in rtl/synth_cache.json")
    coefs = {r: _fit(data, r) for r in RESOURCES}
    return {"coefs": coefs, "n_configs": len(data), "configs": [p.name for p, _ in data]}


def estimate(rows: int, cols: int, n: int, m: int, act_bits: int = 8, weight_bits: int = 8,
             acc_bits: int = 32, pipelined: bool = False, dtype: str = "int8") -> dict:
    """Estimated LUT/FF/CARRY/DSP48E2/BRAM of one configuration (no Yosys run).

    ``pipelined``: the one-tile estimate plus the shadow-accumulator cost -- FFs from
    the fitted FF-per-register-bit model on the pipelined register count, LUTs plus
    ``pipelined_lut_per_shadow_bit() * R*C*acc_bits`` (fitted on synthesised pairs).

    ``dtype="fp16"``: the FP16 model (``FEATURES_FP16``), fitted on FP16 syntheses of
    both kinds; the widths are the FP16 array's own."""
    if dtype == "fp16":
        p = ArrayParams.fp16(rows, cols, n, m, pipelined=pipelined)
        fit = fitted_fp16()
        out = {r: max(0.0, round(_predict(fit["coefs"][r], r, p), 1)) for r in RESOURCES}
        out.update(register_bits=register_bits(p), fitted_on=fit["n_configs"], dtype="fp16")
        return out
    p = ArrayParams(rows, cols, n, m, act_bits, weight_bits, acc_bits)
    fit = fitted()
    out = {r: max(0.0, round(_predict(fit["coefs"][r], r, p), 1)) for r in RESOURCES}
    out["register_bits"] = register_bits(p)
    out["fitted_on"] = fit["n_configs"]
    if pipelined:
        pp = ArrayParams(rows, cols, n, m, act_bits, weight_bits, acc_bits, pipelined=True)
        ff_per_bit = fit["coefs"]["FF"][FEATURES["FF"].index("reg_bits")]
        out["FF"] = round(float(out["FF"] + ff_per_bit * (register_bits(pp) - register_bits(p))), 1)
        out["LUT"] = round(out["LUT"] + pipelined_lut_per_shadow_bit()["coef"]
                           * rows * cols * acc_bits, 1)
        out["register_bits"] = register_bits(pp)
    return out


def _pipelined_pairs() -> list[tuple[ArrayParams, dict, dict]]:
    """(pipelined params, its synthesis, its one-tile twin's synthesis) per cached pair."""
    base = load_cache(CACHE)
    out = []
    for entry in load_cache(PIPELINED_CACHE).values():
        pp = ArrayParams(**entry["params"])
        twin = ArrayParams(**{k: v for k, v in entry["params"].items() if k != "pipelined"})
        if twin.config_hash() in base:
            out.append((pp, entry["resources"], base[twin.config_hash()]["resources"]))
    out.sort(key=lambda t: (t[0].rows * t[0].cols, t[0].m))
    return out


def _lut_coef(pairs) -> float:
    x = np.array([[p.rows * p.cols * p.acc_bits] for p, _, _ in pairs], dtype=float)
    y = np.array([pipe["LUT"] - one["LUT"] for _, pipe, one in pairs], dtype=float)
    return float(nnls(x, y)[0][0])


@lru_cache(maxsize=1)
def pipelined_lut_per_shadow_bit() -> dict:
    """Extra LUTs per shadow-register bit (accumulator input select, shadow write
    enable), fitted on synthesised (pipelined, one-tile) pairs; leave-one-out error."""
    pairs = _pipelined_pairs()
    if len(pairs) < 2:
        raise RuntimeError("pipelined LUT cost needs >= 2 synthesised pairs in "
                           f"{PIPELINED_CACHE}")
    errs = []
    for i, (p, pipe, one) in enumerate(pairs):
        c = _lut_coef(pairs[:i] + pairs[i + 1:])
        pred = one["LUT"] + c * p.rows * p.cols * p.acc_bits
        errs.append(abs(pred - pipe["LUT"]) / pipe["LUT"])
    return {"coef": _lut_coef(pairs), "n_pairs": len(pairs),
            "loo_mean_rel_error": float(np.mean(errs)), "loo_max_rel_error": float(np.max(errs)),
            "pairs": [p.name for p, _, _ in pairs]}


def holdout_error(dtype: str = "int8") -> dict:
    """Leave-one-out relative error per resource over the synthesised configurations."""
    data = _fp16_data() if dtype == "fp16" else _dataset(load_cache(CACHE))
    if dtype == "fp16" and len(data) < 4:
        raise RuntimeError(f"FP16 resource model needs >= 4 synthesised FP16 configs, "
                           f"has {len(data)}")
    per_resource, rows_out = {}, []
    for i, (p, res) in enumerate(data):
        train = data[:i] + data[i + 1:]
        row = {"config": p.name}
        for r in RESOURCES:
            pred = _predict(_fit(train, r, dtype), r, p)
            actual = float(res.get(r, 0))
            err = abs(pred - actual) / actual if actual else abs(pred)
            row[r] = {"actual": actual, "predicted": round(pred, 1), "rel_error": err}
            per_resource.setdefault(r, []).append(err)
        rows_out.append(row)
    summary = {r: {"mean_rel_error": float(np.mean(v)), "max_rel_error": float(np.max(v))}
               for r, v in per_resource.items()}
    return {"method": "leave-one-out", "dtype": dtype, "n_configs": len(data),
            "summary": summary,
            "per_config": rows_out}
