"""SAT's buildable blocks and the design's own tiles, as ``accel design build`` needs them.

A SAT design needs the FP16 PE array at its ``pe_rows`` x ``pe_cols``, N = ``mults_per_pe``,
M = ``group_m`` and ``pipelined_tiles``; a BDWP design also needs the sparse weight
generator at the pattern's N:M with ``sorter_lanes`` lanes.

Tiles are cut from the design's own workload (the sweep point's workload and prune
pattern) as SAT's schedule maps them (:func:`accel.arch.sat.schedule.engine_op`): an
N:M operand whose window M is narrower than the array's ``group_m``, or whose N is not
the array's, is fed as the model times it -- whole ``group_m`` windows, each sent
``bpg`` times with ``mults_per_pe`` of its kept weights per beat (padding slots carry
weight 0) -- so the RTL runs exactly the beats the model counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np

from accel.errors import AccelError

PHASES = ("fwd", "bwd_data", "bwd_weight")


@dataclass(frozen=True)
class SatBlocks:
    array: object            # accel.hw.blocks.pe_array.params.ArrayParams (FP16)
    gen: object | None       # accel.hw.blocks.weight_gen.gen.GenParams (BDWP only)
    config: object           # the SatConfig
    prune: str               # the workload's prune pattern (e.g. bdwp:2:8, dense)

    def block_params(self) -> dict[str, dict]:
        """Per block, the ``accel rtl`` options that rebuild it."""
        a = self.array
        out = {"pe-array": {"rows": a.rows, "cols": a.cols, "n": a.n, "m": a.m,
                            "dtype": a.dtype, "pipelined": a.pipelined}}
        if self.gen is not None:
            out["weight-gen"] = {"n": self.gen.n, "m": self.gen.m, "lanes": self.gen.lanes}
        return out


def blocks(cfg, knobs: dict) -> SatBlocks:
    """The blocks of a SAT config (refused with one line when a parameter is beyond what
    the RTL generators build, e.g. rows > ArrayParams' MAX_DIM)."""
    from accel.hw.blocks.pe_array.params import ArrayParams
    from accel.hw.blocks.weight_gen.gen import GenParams
    from accel.workloads.prune import parse_prune

    dtype = getattr(cfg, "array_dtype", "fp16")
    if dtype != "fp16":
        raise AccelError(f"design not buildable: array_dtype {dtype!r}; the design build "
                         "co-simulates SAT's FP16 training tiles (array_dtype: fp16)")
    try:
        array = ArrayParams.fp16(cfg.pe_rows, cfg.pe_cols, cfg.mults_per_pe, cfg.group_m,
                                 pipelined=bool(cfg.pipelined_tiles))
    except AccelError as exc:
        raise AccelError(f"design not buildable: PE array: {exc}") from None
    prune = str(knobs.get("prune") or "dense")
    spec = parse_prune(prune)
    gen = None
    if spec.method == "bdwp":
        try:
            gen = GenParams(spec.n, spec.m, cfg.sorter_lanes)
        except AccelError as exc:
            raise AccelError(f"design not buildable: weight generator: {exc}") from None
    elif spec.method not in ("dense", "nm"):
        raise AccelError(f"design not buildable: prune {prune!r} is not an N:M pattern the "
                         "PE array takes (dense, N:M or bdwp:N:M)")
    return SatBlocks(array, gen, cfg, prune)


# --- the design's own tiles -------------------------------------------------------------

@dataclass
class PhaseTiles:
    phase: str
    op: str
    tiles: list               # accel.hw.blocks.pe_array.cosim.Tile
    model_beats: list[int]    # beats per tile as SAT's schedule times them
    rtl_beats: list[int]      # beats per tile as fed to the RTL


def _regrouped(op, p, eng):
    """``op`` with its N:M weight operand re-cut into the array's windows: ``eng.bpg``
    beats of ``p.n`` weights per ``p.m`` window (see the module docstring)."""
    b = op.b
    g = p.m // b.m                      # pattern groups per hardware window
    groups = b.values.shape[0] // b.n   # pattern groups along K
    hw = -(-groups // g)
    cols = b.values.shape[1]
    vals = np.zeros((hw * g * b.n, cols), np.float64)
    idx = np.tile(np.arange(b.n), hw * g)[:, None].repeat(cols, axis=1)
    vals[: groups * b.n] = b.values
    idx[: groups * b.n] = b.indices
    kept = g * b.n
    pos = (idx.reshape(hw, g, b.n, cols) + (np.arange(g) * b.m)[None, :, None, None])
    pos = pos.reshape(hw, kept, cols)
    val = vals.reshape(hw, kept, cols)
    slots = eng.bpg * p.n
    if slots > p.m or slots < kept:
        raise AccelError(f"op {op.name}: {b.n}:{b.m} cannot be fed as {eng.bpg} beats of "
                         f"{p.n} weights per window of {p.m}")
    if slots > kept:                    # pad with weight 0 at the window's free positions
        used = np.zeros((hw, p.m, cols), bool)
        np.put_along_axis(used, pos, True, axis=1)
        free = np.argsort(used, axis=1, kind="stable")[:, : slots - kept]
        pos = np.concatenate([pos, free], axis=1)
        val = np.concatenate([val, np.zeros((hw, slots - kept, cols))], axis=1)
    a = np.zeros((op.M, hw * p.m), np.float64)
    a[:, : op.K] = op.a
    a = np.repeat(a.reshape(op.M, hw, 1, p.m), eng.bpg, axis=2).reshape(op.M, -1)
    nb = SimpleNamespace(kind="nm", axis=0, n=p.n, m=p.m,
                         values=val.reshape(hw * eng.bpg * p.n, cols),
                         indices=pos.reshape(hw * eng.bpg * p.n, cols))
    return SimpleNamespace(name=op.name, a=a, b=nb, M=op.M, K=a.shape[1], N=op.N)


def _engine(op, cfg):
    from accel.arch.sat.schedule import engine_op

    b = op.b
    nm = (b.n, b.m) if b.kind == "nm" else None
    if b.kind not in ("nm", "dense") or (nm and b.axis != 0):
        raise AccelError(f"op {op.name}: {b.kind} operand not fed to the PE array")
    return engine_op(op.M, op.K, op.N, nm, cfg)


def phase_tiles(workload, sb: SatBlocks, per_phase: int) -> list[PhaseTiles]:
    """``per_phase`` tiles of each phase the workload has (fwd, bwd_data, bwd_weight),
    each from a different op spread over the network (op j gives its j-th tile, so
    the sample is not always the top-left corner)."""
    from accel.arch.sat.pe_array import tile_beats
    from accel.hw.blocks.pe_array import cosim as co

    p, out = sb.array, []
    for phase in PHASES:
        ops = [op for op in workload.ops if getattr(op, "phase", "fwd") == phase
               and getattr(op, "b", None) is not None and op.a is not None]
        if not ops:
            continue
        picks = sorted({int(i) for i in np.linspace(0, len(ops) - 1, per_phase)})
        while len(picks) < per_phase and len(picks) < len(ops) * 64:
            picks.append(picks[-1])     # fewer ops than tiles: more tiles of the last op
        tiles, mb, rb, names = [], [], [], []
        for j, i in enumerate(picks):
            op = ops[i]
            eng = _engine(op, sb.config)
            fed = op
            if eng.sparse and (op.b.n, op.b.m) != (p.n, p.m):
                fed = _regrouped(op, p, eng)
            nth = j + 1 if picks.count(i) > 1 else (j % 4) + 1
            cut = co.op_tiles_fp16(fed, p, nth)
            t = cut[-1]
            tiles.append(t)
            mb.append(-(-op.K // eng.m_w) * eng.bpg)
            rb.append(tile_beats(t.a_q.shape[1], p.n, p.m, t.dense))
            names.append(op.name)
        out.append(PhaseTiles(phase, ", ".join(dict.fromkeys(names)), tiles, mb, rb))
    if not out:
        raise AccelError(f"workload {workload.name} has no GEMM the PE array runs")
    return out


def weight_for_gen(workload_spec: str, sample: list[PhaseTiles], seq_len: int | None):
    """(layer, dense FP16 weight codes) of the first sampled fwd layer, for the
    generator's co-simulation."""
    from accel.arch.sat import fp16
    from accel.hw.blocks.weight_gen.cosim import dense_weight

    first = next((s for s in sample if s.phase == "fwd"), sample[0])
    layer = first.op.split(", ")[0].rsplit(":", 1)[0]
    w = dense_weight(workload_spec, layer, **({"seq_len": seq_len} if seq_len else {}))
    return layer, fp16.to_fp16_bits(w, f"layer {layer} weights")


def model_cycles(array, beats: list[int]) -> int:
    """The model's cycles of a run of tiles with these beats on ``array``: the
    ``arch/sat/pe_array`` contract at the array's dtype (what SAT's model charges)."""
    from accel.arch.sat.pe_array import tiles_cycles

    return tiles_cycles(array.rows, array.cols, beats, array.pipelined, array.dtype)


SCHEDULE_NOTE = ("Model cycles: the tile's beats as SAT's schedule (`arch/sat/schedule.engine_op`) "
                 "counts them, timed by the `arch/sat/pe_array` contract")
