"""A design's resources: Yosys at the largest size that synthesises here (from the cache
when present), the resource model's full-size estimate with its leave-one-out error,
both against the device's capacity; and the logic depth against the clock budget.

Device capacities come from :mod:`accel.devices` (the catalogue, each figure with its
data sheet); the utilisation ceilings a routable design keeps under are
:func:`ceilings`.  The logic depth is measured by ``accel.hw.depth`` when that module
exists (the FP16 datapath work adds it); until then the sheet says "not measured".
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

# Utilisation ceilings of a routable design, per canonical resource.  Issue 20's defaults
# (80 % LUT, 90 % DSP and block RAM); FF, CARRY8 and URAM at capacity (no ceiling stated).
# A spec's or the catalogue's own ceilings replace these (see ceilings()).
DEFAULT_CEILINGS = {"LUT": 0.80, "FF": 1.00, "DSP": 0.90, "BRAM36": 0.90, "URAM": 1.00,
                    "CARRY8": 1.00}
# the array's estimate/synthesis names -> the device catalogue's canonical names
MODEL_TO_DEVICE = {"LUT": "LUT", "FF": "FF", "CARRY": "CARRY8", "DSP48E2": "DSP",
                   "BRAM": "BRAM36"}
# Default PE budget for a new Yosys run when the cache has no smaller twin: a 2x2 FP16
# array takes Yosys about 4-6 minutes on this 2-core machine (rtl/synth_cache_fp16.json,
# yosys_seconds 224-415 s), a 4x4 one about 15 minutes (871 s).
SYNTH_MAX_PES = 4


def ceilings(spec_meta: dict | None = None) -> dict[str, float]:
    """Utilisation ceilings: a spec's ``fit`` ceilings when it states them (sweep specs
    with a device), else the catalogue's defaults when it has them, else ours."""
    from accel import devices

    out = dict(getattr(devices, "DEFAULT_CEILINGS", None) or DEFAULT_CEILINGS)
    spec_fit = (spec_meta or {}).get("fit") or {}
    if isinstance(spec_fit, dict):
        for k, v in (spec_fit.get("ceilings") or spec_fit).items():
            try:
                out[devices.canonical(str(k))] = float(v)
            except (ValueError, TypeError, Exception):  # noqa: BLE001 - a meta key, not ours
                continue
    return out


def device_capacity(name: str) -> dict:
    """{part, board, resources, sources} of the device ``name`` (one ConfigError when the
    catalogue has no such device)."""
    from accel import devices

    d = devices.get(name)
    return {"name": d.name, "part": d.part, "board": d.board,
            "resources": dict(d.resources), "sources": dict(d.sources)}


def utilisation(estimate: dict, device: dict, limits: dict[str, float]) -> list[dict]:
    """Per resource the estimate names and the device has: used, capacity, fraction,
    ceiling and margin (ceiling minus fraction; negative = does not fit)."""
    rows = []
    for key, canon in MODEL_TO_DEVICE.items():
        cap = device["resources"].get(canon)
        if key not in estimate or not cap:
            continue
        used = float(estimate[key])
        frac = used / cap
        lim = limits.get(canon, 1.0)
        rows.append({"resource": canon, "used": used, "capacity": int(cap), "fraction": frac,
                     "ceiling": lim, "margin": lim - frac, "fits": frac <= lim})
    return rows


def _synth_candidates(p, max_pes: int) -> list:
    """Sizes to synthesise when the cache has nothing: the largest power-of-two array
    (rows x cols, each no larger than the design's) with at most ``max_pes`` PEs."""
    from accel.hw.blocks.pe_array.params import ArrayParams

    best = None
    r = 1
    while r <= p.rows:
        c = 1
        while c <= p.cols and r * c <= max_pes:
            if best is None or r * c > best[0] * best[1] or (
                    r * c == best[0] * best[1] and abs(r - c) < abs(best[0] - best[1])):
                best = (r, c)
            c *= 2
        r *= 2
    best = best or (1, 1)
    return [ArrayParams.fp16(best[0], best[1], p.n, p.m, pipelined=p.pipelined)]


def _cached_twin(p):
    """The largest cached synthesis of ``p``'s dtype, N, M and pipelining no larger than
    ``p`` (None when the cache has none)."""
    from accel.hw.blocks.pe_array.params import ArrayParams
    from accel.hw.blocks.pe_array.synth import cache_name_for
    from accel.hw.synth import load_cache

    best = None
    for key, entry in load_cache(cache_name_for(p)).items():
        if entry.get("unit"):
            continue
        try:
            q = ArrayParams(**entry["params"])
        except (TypeError, ValueError, Exception):  # noqa: BLE001 - a stale cache entry
            continue
        # only entries keyed by this version's hash of q: a build of another datapath
        # version with equal parameters (another checkout's user cache) is not this RTL
        if q.config_hash() != key or (q.dtype, q.n, q.m, q.pipelined) != (
                p.dtype, p.n, p.m, p.pipelined) or q.rows > p.rows or q.cols > p.cols:
            continue
        if best is None or q.rows * q.cols > best.rows * best.cols:
            best = q
    return best


def pe_array_resources(p, synth: bool, max_pes: int, note: Callable[[str], None]) -> dict:
    """Synthesis (cached twin, else a new Yosys run within ``max_pes``), the model's
    estimate at that size and at full size, and the model's leave-one-out error."""
    from accel.hw.blocks.pe_array import resources
    from accel.hw.blocks.pe_array.synth import synth as run_synth

    out: dict = {"synth": None, "synth_note": ""}
    if synth:
        q = _cached_twin(p) or _synth_candidates(p, max_pes)[0]
        note(f"Yosys synth_xilinx of {q.name} (cached when run before; a new 2x2 FP16 run "
             "takes minutes)")
        res = run_synth(q)
        out["synth"] = {"params": q.to_dict(), "name": q.name, "cached": res["cached"],
                        "resources": res["resources"],
                        "yosys_seconds": res.get("yosys_seconds")}
    else:
        out["synth_note"] = "synthesis skipped (--no-synth)"
    try:
        args = (p.n, p.m)
        out["estimate"] = resources.estimate(p.rows, p.cols, *args, pipelined=p.pipelined,
                                             dtype=p.dtype)
        if out["synth"]:
            s = out["synth"]["params"]
            out["estimate_at_synth"] = resources.estimate(
                s["rows"], s["cols"], *args, pipelined=p.pipelined, dtype=p.dtype)
        out["holdout"] = resources.holdout_error(p.dtype)["summary"]
    except RuntimeError as exc:      # too few syntheses to fit the model
        out["estimate"], out["model_note"] = None, str(exc)
    return out


def gen_resources(g, synth: bool, note: Callable[[str], None]) -> dict | None:
    """The weight generator synthesised at its smallest lane count (M lanes: the cost of
    its sorting network grows with the lanes; no resource model scales it)."""
    if g is None:
        return None
    if not synth:
        return {"synth": None, "synth_note": "synthesis skipped (--no-synth)"}
    from accel.hw.blocks.weight_gen.cosim import synth as run_synth
    from accel.hw.blocks.weight_gen.gen import GenParams

    small = GenParams(g.n, g.m, g.m)
    note(f"Yosys synth_xilinx of the weight generator {g.n}:{g.m}, {small.lanes} lanes")
    res = run_synth(small)
    return {"synth": {"params": small.to_dict(), "cached": res["cached"],
                      "resources": res["resources"], "yosys_seconds": res.get("yosys_seconds")},
            "synth_note": f"synthesised at {small.lanes} lanes; the design has {g.lanes}"}


def logic_depth(p, clock_mhz: float) -> dict:
    """The FP16 datapath's measured logic depth against its clock budget, from
    ``accel.hw.depth`` when present; else ``{"measured": False}``."""
    try:
        depth = importlib.import_module("accel.hw.depth")
    except ImportError:
        return {"measured": False, "note": "accel.hw.depth is not in this version (the pipelined FP16 datapath adds it)"}
    fn = next((getattr(depth, n) for n in ("design_depth", "measure", "logic_depth", "depth")
               if callable(getattr(depth, n, None))), None)
    if fn is None:
        return {"measured": False, "note": "accel.hw.depth has no measuring function"}
    res = fn(p)
    res = res if isinstance(res, dict) else {"lut_levels": res}
    budget = getattr(depth, "LUT_LEVEL_BUDGET", None) or res.get("budget")
    return {"measured": True, "clock_mhz": clock_mhz, "budget": budget, **res}
