"""Sweep metrics from the RTL resource model (registered by SAT as a derived metric).

The estimate is of the project's INT8 Amaranth PE array (its default operand widths)
at the swept rows x cols x N (mults_per_pe) x M (group_m), fitted by the RTL helper on
small synthesised arrays: an area *trend* for the Pareto front, not an FP16 datapath.
``pipelined_tiles`` selects the shadow-accumulator array's estimate (more FF/LUT).
When the resource model cannot estimate a design, no ``hw_*`` metric is recorded.
"""

from __future__ import annotations

from accel.errors import AccelError


def pe_array_metrics(config, workload, metrics) -> dict[str, float]:
    try:
        from accel.hw.resources import estimate
    except ImportError:  # RTL helper's resource model absent: record nothing for it
        return {}
    try:
        est = estimate(config.pe_rows, config.pe_cols, config.mults_per_pe, config.group_m,
                       pipelined=bool(getattr(config, "pipelined_tiles", False)))
    except (AccelError, ValueError, TypeError, RuntimeError):
        return {}
    return {f"hw_{k.lower()}": float(v) for k, v in est.items()
            if k != "fitted_on" and isinstance(v, int | float) and not isinstance(v, bool)}
