"""Sweep metrics from the RTL resource model (registered by SAT as a derived metric).

SAT's engine is the FP16 array (FP16 operands, exact fixed-point accumulation, FP32
results), so the estimate is the FP16 model of ``accel.hw.blocks.pe_array.resources``
(fitted on FP16 Yosys syntheses, two DSP48E2 per multiplier, the aligned adds in fabric,
one FP32 converter per column) at the swept rows x cols x N (mults_per_pe) x
M (group_m); ``pipelined_tiles`` selects the shadow-accumulator build.  If the FP16
synthesis cache holds too few configurations, the INT8 array's model is used instead
and ``hw_fp16`` says which (1 = FP16 model).  When no model can estimate a design, no
``hw_*`` metric is recorded.
"""

from __future__ import annotations

from accel.errors import AccelError


def pe_array_metrics(config, workload, metrics) -> dict[str, float]:
    try:
        from accel.hw.blocks.pe_array.resources import estimate
    except ImportError:  # RTL helper's resource model absent: record nothing for it
        return {}
    args = (config.pe_rows, config.pe_cols, config.mults_per_pe, config.group_m)
    pipelined = bool(getattr(config, "pipelined_tiles", False))
    fp16 = 1.0
    try:
        try:
            est = estimate(*args, pipelined=pipelined, dtype="fp16")
        except RuntimeError:          # too few FP16 syntheses: INT8 area trend instead
            est, fp16 = estimate(*args, pipelined=pipelined), 0.0
    except (AccelError, ValueError, TypeError, RuntimeError):
        return {}
    out = {f"hw_{k.lower()}": float(v) for k, v in est.items()
           if k != "fitted_on" and isinstance(v, int | float) and not isinstance(v, bool)}
    out["hw_fp16"] = fp16
    return out


def pe_array_cost_claims() -> list[tuple[str, str, str]]:
    """SAT's row of the README's results table (``Machine.readme_claims``): the preset's PE
    array from the FP16 resource model (Yosys builds, leave-one-out error)."""
    from accel.arch.sat.config import DEFAULT_PRESET, PRESETS
    from accel.hw.blocks.pe_array import resources

    c = PRESETS[DEFAULT_PRESET]
    e = resources.estimate(c.pe_rows, c.pe_cols, c.mults_per_pe, c.group_m,
                           pipelined=c.pipelined_tiles, dtype="fp16")
    h = resources.holdout_error("fp16")
    lut = h["summary"]["LUT"]
    return [(f"SAT preset PE array cost ({c.pe_rows}x{c.pe_cols}, {c.mults_per_pe} FP16 "
             f"multipliers/PE, M = {c.group_m}), FP16 resource model on {h['n_configs']} "
             "Yosys builds", "not public",
             f"{e['DSP48E2']:,.0f} DSP48E2, {e['FF'] / 1e3:,.0f} k FF, {e['LUT'] / 1e6:.2f} M LUT, "
             f"{e['CARRY'] / 1e3:,.0f} k CARRY4 (LOO LUT error {lut['mean_rel_error']:.1%} mean, "
             f"{lut['max_rel_error']:.1%} max)".replace("%", " %"))]
