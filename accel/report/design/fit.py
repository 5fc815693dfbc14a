"""A design's resources: Yosys at the largest size that synthesises here (from the cache
when present), the resource model's full-size estimate with its leave-one-out error,
and the whole design's use against the device's capacity and ceilings; and the logic
depth of the synthesised twin against the clock budget.

The use set against the device is what the sweep's fit check counts
(:func:`accel.sweep.fit.usage` of the machine's derived ``hw_*`` metrics: for SAT the PE
array's resource model plus its buffers as URAM/BRAM36), so a design's sheet and its
sweep agree on whether it fits.  Device capacities come from :mod:`accel.devices`; the
ceilings are the spec's ``fit:`` ones, else :data:`accel.sweep.fit.DEFAULT_CEILINGS`.
The logic depth is the one Yosys' netlist walk (``accel.hw.depth``) recorded with the
synthesis entry, against ``accel.hw.depth.BUDGET_200MHZ``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

# Default PE budget for a new Yosys run when the cache has no twin: the FP16 arrays of
# rtl/synth_cache_fp16.json took Yosys 20-100 s at 2x2..4x4 and 430 s at 8x8 here.
SYNTH_MAX_PES = 16


def ceilings(spec_meta: dict | None = None) -> dict[str, float]:
    """Utilisation ceilings: the spec's ``fit.max_utilisation`` over the sweep's defaults."""
    from accel.sweep.fit import DEFAULT_CEILINGS

    out = dict(DEFAULT_CEILINGS)
    spec_fit = (spec_meta or {}).get("fit") or {}
    given = spec_fit.get("max_utilisation") if isinstance(spec_fit, dict) else None
    out.update({str(k): float(v) for k, v in (given or {}).items()})
    return out


def device_name(cfg, spec_meta: dict | None = None) -> str:
    """The spec's ``fit.device`` when it fixes one, else the design's own config device."""
    spec_fit = (spec_meta or {}).get("fit") or {}
    name = spec_fit.get("device") if isinstance(spec_fit, dict) else None
    name = name or getattr(cfg, "device", None)
    if not name:
        from accel.errors import AccelError

        raise AccelError("the design names no device (config field `device`)")
    return str(name)


def device_capacity(name: str) -> dict:
    """{name, part, board, resources, sources} of the device ``name`` (one ConfigError
    when the catalogue has no such device)."""
    from accel import devices

    d = devices.get(name)
    return {"name": d.name, "part": d.part, "board": d.board,
            "resources": dict(d.resources), "sources": dict(d.sources)}


def design_usage(machine, cfg) -> dict:
    """The design's derived ``hw_*`` metrics (the sweep's), summed per resource, with
    the metrics themselves as the breakdown."""
    from accel.sweep.fit import usage

    metrics: dict = {}
    for fn in machine.derived():
        metrics.update(fn(cfg, None, dict(metrics)))
    hw = {k: float(v) for k, v in metrics.items() if k.startswith("hw_")
          and isinstance(v, int | float) and not isinstance(v, bool)}
    return {"total": usage(hw), "metrics": hw}


def utilisation(parts: dict, device: dict, limits: dict[str, float]) -> list[dict]:
    """Per resource the design uses and the device has: used, capacity, fraction,
    ceiling and margin (ceiling minus fraction; negative = does not fit)."""
    from accel import devices

    rows = []
    for res in devices.RESOURCES:
        used, cap = parts["total"].get(res), device["resources"].get(res)
        if used is None or not cap:
            continue
        frac = used / cap
        lim = limits.get(res, 1.0)
        rows.append({"resource": res, "used": used, "capacity": int(cap), "fraction": frac,
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
        note(f"Yosys synth_xilinx of {q.name} (read from the cache when built before)")
        res = run_synth(q)
        out["synth"] = {"params": q.to_dict(), "name": q.name, "cached": res["cached"],
                        "resources": res["resources"], "depth": res.get("depth"),
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


def gen_resources(g, synth: bool) -> dict | None:
    """The weight generator's largest cached synthesis of the same N:M (no resource model
    scales it to the design's lanes).  Not run here when missing: its sorting network
    takes Yosys ten minutes and more at 8 lanes on this machine, for a number that does
    not enter the fit; the sheet gives the command instead."""
    if g is None:
        return None
    if not synth:
        return {"synth": None, "synth_note": "synthesis skipped (--no-synth)"}
    from accel.hw.blocks.weight_gen.gen import GenParams
    from accel.hw.synth import load_cache

    best = None
    for key, entry in load_cache("synth_cache_fp16.json").items():
        if entry.get("unit") != "weight-gen":
            continue
        try:
            q = GenParams(**entry["params"])
        except (TypeError, ValueError, Exception):  # noqa: BLE001 - a stale cache entry
            continue
        if key == "wgen-" + q.config_hash() and (q.n, q.m) == (g.n, g.m) \
                and q.lanes <= g.lanes and (best is None or q.lanes > best[0].lanes):
            best = (q, entry)
    if best is None:
        return {"synth": None, "synth_note": f"no synthesis of a {g.n}:{g.m} generator in the "
                f"cache (`accel rtl synth weight-gen --n {g.n} --m {g.m} --lanes {g.m}`)"}
    q, entry = best
    return {"synth": {"params": q.to_dict(), "cached": True, "resources": entry["resources"],
                      "yosys_seconds": entry.get("yosys_seconds")},
            "synth_note": f"synthesised at {q.lanes} lanes; the design has {g.lanes}"}


def logic_depth(synth: dict | None, clock_mhz: float) -> dict:
    """The logic depth Yosys' netlist walk recorded with the synthesised twin, against
    ``accel.hw.depth.BUDGET_200MHZ``; ``{"measured": False, ...}`` without one."""
    try:
        depth = importlib.import_module("accel.hw.depth")
    except ImportError:
        return {"measured": False, "note": "accel.hw.depth is not in this version"}
    d = (synth or {}).get("depth")
    if not synth:
        return {"measured": False, "note": "no synthesis (--no-synth), so no netlist to walk"}
    if not d:
        return {"measured": False, "note": f"the synthesis entry of {synth['name']} has no "
                "recorded depth (synthesised before accel.hw.depth; `accel rtl synth "
                "pe-array ... --force` records it)"}
    budget = dict(getattr(depth, "BUDGET_200MHZ", {}))
    return {"measured": True, "on": synth["name"], "clock_mhz": clock_mhz, "budget": budget,
            **{k: v for k, v in d.items() if k != "counted"}, "counted": d.get("counted", "")}
